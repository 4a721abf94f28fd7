package sidecar

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/loopback"
	"github.com/bollard-dev/bollard/pkg/state"
)

// serveAdmin serves h on l in the background; the caller shuts the server
// down.
func serveAdmin(l net.Listener, h http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin server stopped", "error", err)
		}
	}()
	return srv
}

// adminHandler serves liveness, readiness and Prometheus metrics, with
// withPprof Go's profiles to loopback peers, and the approvers' web
// console under /approvals/ when it is not nil.
func adminHandler(engine *decision.Engine, auditLog *audit.Logger, shared *state.Store, metrics http.Handler, withPprof bool, console http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	if console != nil {
		mux.Handle("/approvals/", console)
	}
	if withPprof {
		// pprof's handlers, never the default mux they also register on.
		profiles := http.NewServeMux()
		profiles.HandleFunc("/debug/pprof/", pprof.Index)
		profiles.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		profiles.HandleFunc("/debug/pprof/profile", pprof.Profile)
		profiles.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		profiles.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("/debug/pprof/", loopbackPeersOnly(profiles))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", readyzHandler(engine, auditLog, shared))
	return mux
}

// loopbackPeersOnly answers only requests from a loopback peer: the admin
// listener may be on the pod's IP for the kubelet's probes, and a profile
// (command line, heap, goroutine stacks) is not for whoever can reach it.
func loopbackPeersOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopback.Addr(r.RemoteAddr) {
			http.Error(w, "profiles are served to loopback peers only (kubectl port-forward)", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// readyzHandler reports readiness as JSON. Ready means a policy is loaded
// (engine is nil in approver mode, which has none) and the audit log can
// take records; a rejected reload is reported but the
// previous policy still serves. The shared store's state is reported and
// does not make the sidecar unready: reads go on under local limits, and
// taking the pod out of service would stop its agent altogether
// (state.when_unavailable, docs/scaling.md).
func readyzHandler(engine *decision.Engine, auditLog *audit.Logger, shared *state.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		auditErr := auditLog.Ready()
		ready := auditErr == nil
		body := map[string]any{"audit_writable": auditErr == nil}
		if engine != nil { // approver mode decides no call: it has no policy
			st := engine.Status()
			ready = ready && st.Revision != ""
			body["policy_revision"], body["policy_source"], body["policy_loaded_at"] = st.Revision, st.Source, st.LoadedAt.UTC().Format(time.RFC3339)
			if st.LastError != nil {
				body["policy_reload_error"] = st.LastError.Error()
			}
		}
		body["ready"] = ready
		if auditErr != nil {
			body["audit_error"] = auditErr.Error()
		}
		// Each sink's health, so a failing sink shows here even when the
		// operator chose fail-open and the sidecar stays ready.
		var sinks []map[string]any
		for _, st := range auditLog.Stats().Sinks {
			sinks = append(sinks, map[string]any{"name": st.Name, "healthy": st.Healthy, "written": st.Written, "failed": st.Failed})
		}
		body["audit_sinks"] = sinks
		if shared != nil {
			body["state_backend"], body["state_available"] = config.StateRedis, shared.Available()
		} else {
			body["state_backend"] = config.StateMemory
		}
		w.Header().Set("Content-Type", "application/json")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	}
}
