package sidecar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/gateway"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/target"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// Addrs are the addresses a running sidecar listens on.
type Addrs struct {
	GRPC       net.Addr // nil when TCP is off
	UnixSocket string   // empty when off
	Admin      net.Addr // nil when off
	Hooks      net.Addr // the event hook receiver; nil when off
}

// Option configures Run.
type Option func(*runOptions)

type runOptions struct {
	logger  *slog.Logger
	ready   func(Addrs)
	version string
	auth    gateway.Authenticator // replaces the one built from config (dev mode)
	token   string                // replaces the configured Okta token (dev mode)
	stdout  io.Writer             // the audit log's stdout sink
	telOpts []telemetry.Option
}

// WithLogger sets the process logger.
func WithLogger(l *slog.Logger) Option { return func(o *runOptions) { o.logger = l } }

// WithReady is called once every listener is up, with their addresses.
func WithReady(f func(Addrs)) Option { return func(o *runOptions) { o.ready = f } }

// WithVersion sets the version reported in the User-Agent sent to Okta.
func WithVersion(v string) Option { return func(o *runOptions) { o.version = v } }

func withAuthenticator(a gateway.Authenticator) Option { return func(o *runOptions) { o.auth = a } }

func withOktaToken(t string) Option { return func(o *runOptions) { o.token = t } }

// WithTelemetryOptions adds options to the OpenTelemetry setup, such as an
// in-memory span exporter in tests.
func WithTelemetryOptions(opts ...telemetry.Option) Option {
	return func(o *runOptions) { o.telOpts = append(o.telOpts, opts...) }
}

// WithAuditStdout replaces standard output as the audit log's stdout sink.
func WithAuditStdout(w io.Writer) Option { return func(o *runOptions) { o.stdout = w } }

// Run serves Bollard with cfg until ctx ends. cfg must be validated.
func Run(ctx context.Context, cfg config.Config, opts ...Option) error {
	o := runOptions{logger: slog.Default(), ready: func(Addrs) {}, version: "dev", stdout: os.Stdout}
	for _, opt := range opts {
		opt(&o)
	}
	log := o.logger

	tel, err := telemetry.Setup(ctx, append([]telemetry.Option{telemetry.WithVersion(o.version), telemetry.WithLogger(log)}, o.telOpts...)...)
	if err != nil {
		return fmt.Errorf("telemetry (OTEL_* environment): %w", err)
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tel.Shutdown(flushCtx)
	}()
	tel.SetGlobal()

	auth := o.auth
	if auth == nil {
		var err error
		if auth, err = buildIdentity(ctx, cfg.Identity, log); err != nil {
			return err
		}
	}
	// The instruments need the engine (its revision) and the engine reports
	// reloads to the instruments: the pointer is set once both exist.
	var instRef atomic.Pointer[telemetry.Instruments]
	engineOpts := []decision.Option{decision.WithLogger(log), decision.WithEvalTimeout(cfg.Policy.EvalTimeout),
		decision.WithReloadObserver(func(ok bool) { instRef.Load().PolicyReload(context.Background(), ok) })}
	source, err := policySource(cfg.Policy.Dir, cfg.Policy.Bundle)
	if err != nil {
		return err
	}
	engine, err := decision.New(ctx, append(engineOpts, source...)...)
	if err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	defer engine.Close()
	shadow, err := shadowEngine(ctx, cfg.Policy, log)
	if err != nil {
		return err
	}
	gwOpts := []gateway.Option{gateway.WithDryRunAgents(cfg.Policy.DryRunAgents)}
	if shadow != nil {
		defer shadow.Close()
		gwOpts = append(gwOpts, gateway.WithShadow(shadow))
	}
	if len(cfg.Policy.DryRunAgents) > 0 {
		log.Warn("dry-run: these agents' calls go ahead when the policy denies them", "agents", cfg.Policy.DryRunAgents)
	}

	cred, err := buildCredential(ctx, cfg.Okta, o, log)
	if err != nil {
		return err
	}
	var (
		okta     *forward.Client
		auditLog *audit.Logger
	)
	inst, err := telemetry.NewInstruments(tel.MeterProvider(), telemetry.Observed{
		OktaInFlightCap: func() int64 {
			if okta == nil {
				return 0
			}
			return int64(okta.InFlightCap())
		},
		AuditPending: func() int64 {
			if auditLog == nil { // a scrape before the log is open
				return 0
			}
			return int64(auditLog.Pending())
		},
		RateLimitRemaining: func() map[string]int64 {
			if okta == nil { // a scrape before the client exists
				return nil
			}
			return okta.RateLimitRemaining()
		},
		PolicyRevision: engine.Revision,
	})
	if err != nil {
		return err
	}
	instRef.Store(inst)
	okta, err = forward.New(cfg.Okta.OrgURL, forward.WithCredential(cred), forward.WithTimeout(cfg.Okta.Timeout),
		forward.WithUserAgent("bollard/"+o.version), forward.WithLogger(log),
		forward.WithConcurrency(cfg.Limits.OktaMaxInFlight, cfg.Limits.OktaMaxWaiting), forward.WithReserve(cfg.Limits.OktaReserve),
		forward.WithTracerProvider(tel.TracerProvider()), forward.WithInstruments(inst))
	if err != nil {
		return err
	}
	// Without lookups the resolver still lists the apps and policies a call
	// names (by id, no lookup) and reports every user and group unresolved,
	// so that the policy refuses changes to them rather than guess.
	var lookups target.Doer = okta
	if !cfg.Policy.Target.LookupEnabled() {
		lookups = nil
	}
	gwOpts = append(gwOpts, gateway.WithTargetResolver(target.New(lookups,
		target.WithTimeout(cfg.Policy.Target.Timeout), target.WithLogger(log))))
	auditLog, err = buildAudit(cfg.Audit, o, log, inst, tel.TracerProvider())
	if err != nil {
		return err
	}
	// Closed last, after the gRPC server has drained: no record accepted
	// for an answered call is lost on SIGTERM.
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := auditLog.Close(closeCtx); err != nil {
			log.Error("audit log close", "error", err)
		}
	}()
	var hookRx *hookReceiver
	if cfg.Hooks.Enabled() {
		if hookRx, err = newHookReceiver(cfg.Hooks, log, tel.TracerProvider(), inst, auditLog); err != nil {
			return err
		}
		gwOpts = append(gwOpts, gateway.WithEvents(hookRx.hub))
	}
	gw, err := gateway.New(auth, engine, okta, append(gwOpts, gateway.WithLogger(log), gateway.WithAuditor(auditLog),
		gateway.WithConfirmStore(confirm.New(confirm.WithTTL(cfg.Confirmation.TTL))),
		gateway.WithBudget(budget.New(cfg.Limits.AgentRequestsPerMinute, cfg.Limits.Agents)),
		gateway.WithTracerProvider(tel.TracerProvider()), gateway.WithInstruments(inst),
		gateway.WithMaxConcurrentStreams(cfg.Server.MaxConcurrentStreams), gateway.WithWatchersPerAgent(cfg.Hooks.MaxWatchersPerAgent))...)
	if err != nil {
		return err
	}

	srv := grpc.NewServer(append(gw.ServerOptions(), grpc.MaxRecvMsgSize(cfg.Server.MaxRequestBytes), tel.GRPCServerOption())...)
	if err := gw.Register(srv); err != nil {
		return err
	}
	healthSrv := health.NewServer()
	healthpb.RegisterHealthServer(srv, healthSrv)
	reflection.Register(srv)

	var addrs Addrs
	var listeners []net.Listener
	closeAll := func() {
		for _, l := range listeners {
			l.Close()
		}
	}
	if cfg.Server.GRPCListen != "" {
		l, err := net.Listen("tcp", cfg.Server.GRPCListen)
		if err != nil {
			return fmt.Errorf("listen for gRPC: %w", err)
		}
		listeners = append(listeners, l)
		addrs.GRPC = l.Addr()
	}
	if cfg.Server.UnixSocket != "" {
		// A stale socket from a previous run would make Listen fail.
		if err := os.Remove(cfg.Server.UnixSocket); err != nil && !errors.Is(err, os.ErrNotExist) {
			closeAll()
			return fmt.Errorf("remove stale socket: %w", err)
		}
		l, err := net.Listen("unix", cfg.Server.UnixSocket)
		if err != nil {
			closeAll()
			return fmt.Errorf("listen on unix socket: %w", err)
		}
		listeners = append(listeners, l)
		// Connecting needs write permission on the socket. The agent runs
		// as another user in the same pod; it shares the group (the pod's
		// fsGroup owns the emptyDir), and others get nothing. Agents are
		// still authenticated on every call.
		if err := os.Chmod(cfg.Server.UnixSocket, 0o660); err != nil {
			closeAll()
			return fmt.Errorf("unix socket permissions: %w", err)
		}
		addrs.UnixSocket = cfg.Server.UnixSocket
	}
	var admin *http.Server
	if cfg.Server.AdminListen != "" {
		l, err := net.Listen("tcp", cfg.Server.AdminListen)
		if err != nil {
			closeAll()
			return fmt.Errorf("listen for admin: %w", err)
		}
		addrs.Admin = l.Addr()
		admin = &http.Server{Handler: adminHandler(engine, auditLog, tel.MetricsHandler()), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := admin.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("admin server stopped", "error", err)
			}
		}()
	}

	if hookRx != nil {
		l, err := hookRx.listen()
		if err != nil {
			closeAll()
			return err
		}
		addrs.Hooks = l.Addr()
		go hookRx.serve(l)
	}

	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { errc <- srv.Serve(l) }()
	}
	healthSrv.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	log.Info("bollard serving", "grpc", addrString(addrs.GRPC), "unix_socket", addrs.UnixSocket, "admin", addrString(addrs.Admin), "event_hooks", addrString(addrs.Hooks),
		"okta_org", cfg.Okta.OrgURL, "actions", len(catalog.Actions()), "policy_revision", engine.Revision())
	o.ready(addrs)

	select {
	case <-ctx.Done():
	case err = <-errc:
		log.Error("gRPC server stopped", "error", err)
	}
	healthSrv.Shutdown()
	if hookRx != nil {
		// First, so that WatchEvents streams end and the gRPC server can
		// drain.
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		hookRx.shutdown(shutdownCtx)
		cancel()
	}
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		srv.Stop()
	}
	if admin != nil {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = admin.Shutdown(shutdownCtx)
	}
	if cfg.Server.UnixSocket != "" {
		_ = os.Remove(cfg.Server.UnixSocket)
	}
	log.Info("bollard stopped")
	return err
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func buildIdentity(ctx context.Context, cfg config.Identity, log *slog.Logger) (gateway.Authenticator, error) {
	var opts []identity.Option
	if cfg.KeysFile != "" {
		ks, err := identity.LoadKeyFile(cfg.KeysFile)
		if err != nil {
			return nil, fmt.Errorf("load agent keys: %w", err)
		}
		opts = append(opts, identity.WithStaticKeys(ks))
	}
	if j := cfg.JWT; j != nil {
		jopts := []identity.JWTOption{identity.WithIssuer(j.Issuer), identity.WithAudience(j.Audience),
			identity.WithIDClaim(j.AgentClaim), identity.WithLeeway(j.Leeway), identity.WithLogger(log),
			identity.WithRefresh(j.RefreshInterval, 10*time.Second)}
		if j.JWKSFile != "" {
			jopts = append(jopts, identity.WithJWKSFile(j.JWKSFile))
		} else {
			jopts = append(jopts, identity.WithJWKSURL(j.JWKSURL))
		}
		v, err := identity.NewJWTVerifier(ctx, jopts...)
		if err != nil {
			return nil, fmt.Errorf("set up JWT verification: %w", err)
		}
		opts = append(opts, identity.WithJWT(v))
	}
	return identity.New(opts...)
}

// buildCredential makes Bollard's Okta credential: an SSWS token, or the
// OAuth service app. Secrets are read from files or the environment here and
// go nowhere else.
func buildCredential(ctx context.Context, cfg config.Okta, o runOptions, log *slog.Logger) (forward.Credential, error) {
	if cfg.OAuth == nil {
		token := o.token
		if token == "" {
			var err error
			if token, err = cfg.OktaToken(); err != nil {
				return nil, err
			}
		}
		return forward.SSWS(token)
	}
	pem, err := os.ReadFile(cfg.OAuth.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read okta.oauth.private_key_file: %w", err)
	}
	key, err := forward.ParsePrivateKeyPEM(pem)
	if err != nil {
		return nil, fmt.Errorf("okta.oauth.private_key_file: %w", err)
	}
	allowed := cfg.OAuth.AllowedScopes()
	var unusable []string
	for _, a := range catalog.Actions() {
		if !slices.Contains(allowed, a.Scope) {
			unusable = append(unusable, a.Name)
		}
	}
	if len(unusable) > 0 {
		// Not fatal: a deployment may grant only some areas. These actions
		// fail at call time as a deployment error, never with a wider token.
		log.Warn("okta.oauth.scopes leaves actions unusable", "actions", unusable)
	}
	return forward.NewOAuth(ctx, forward.OAuthConfig{
		OrgURL: cfg.OrgURL, ClientID: cfg.OAuth.ClientID, PrivateKey: key, KeyID: cfg.OAuth.KeyID,
		AllowedScopes: allowed, DPoP: cfg.OAuth.DPoP,
	}, forward.WithOAuthLogger(log), forward.WithOAuthUserAgent("bollard/"+o.version))
}

// buildAudit opens the audit log's sinks.
func buildAudit(cfg config.Audit, o runOptions, log *slog.Logger, inst *telemetry.Instruments, tp trace.TracerProvider) (*audit.Logger, error) {
	tracer := tp.Tracer(telemetry.ScopeName)
	opts := []audit.Option{audit.WithWriteTimeout(cfg.WriteTimeout), audit.WithFailOpen(cfg.FailOpen), audit.WithLogger(log),
		audit.WithObserver(func(sink string, written bool) {
			if written {
				inst.AuditWritten(context.Background(), sink)
			} else {
				inst.AuditFailed(context.Background(), sink)
			}
		}),
		audit.WithCheckpointInterval(cfg.CheckpointInterval),
		audit.WithCheckpointObserver(func(c audit.Checkpoint) { exportCheckpoint(tracer, inst, c) })}
	if cfg.StdoutEnabled() {
		opts = append(opts, audit.WithStdout(o.stdout))
	}
	if cfg.File != "" {
		opts = append(opts, audit.WithFile(cfg.File, cfg.MaxFileBytes, cfg.MaxBackups))
	}
	// Outcomes of calls Okta carried out while no sink could take them.
	opts = append(opts, audit.WithSpool(cfg.SpoolFile, cfg.SpoolMaxBytes))
	if cfg.HMACKeyFile != "" {
		key, err := os.ReadFile(cfg.HMACKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read audit.hmac_key_file: %w", err)
		}
		opts = append(opts, audit.WithHMACKey(bytes.TrimSpace(key)))
	} else {
		log.Warn("audit.hmac_key_file is not set: masked values use a random key and cannot be checked later")
		opts = append(opts, audit.WithRandomHMACKey())
	}
	l, err := audit.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return l, nil
}

// exportCheckpoint sends an audit checkpoint's head off the node, as a gauge
// and a span, where `audit verify --head` can later take it from: a copy of
// the head that whoever cuts the file cannot reach.
func exportCheckpoint(tracer trace.Tracer, inst *telemetry.Instruments, c audit.Checkpoint) {
	ctx := context.Background()
	inst.AuditCheckpoint(ctx, c.Sink, c.Seq)
	_, span := tracer.Start(ctx, telemetry.SpanAuditCheckpoint, trace.WithAttributes(
		telemetry.AttrAuditSink.String(c.Sink), telemetry.AttrAuditSeq.Int64(int64(c.Seq)),
		telemetry.AttrAuditHash.String(c.Hash), telemetry.AttrAuditHead.String(c.Head())))
	span.End()
}

// adminHandler serves liveness, readiness and Prometheus metrics. Ready means a policy is
// loaded; a rejected reload is reported but the previous policy still serves.
func adminHandler(engine *decision.Engine, auditLog *audit.Logger, metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		st := engine.Status()
		auditErr := auditLog.Ready()
		ready := st.Revision != "" && auditErr == nil
		body := map[string]any{"ready": ready, "policy_revision": st.Revision, "policy_source": st.Source,
			"policy_loaded_at": st.LoadedAt.UTC().Format(time.RFC3339), "audit_writable": auditErr == nil}
		if st.LastError != nil {
			body["policy_reload_error"] = st.LastError.Error()
		}
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
		w.Header().Set("Content-Type", "application/json")
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	return mux
}
