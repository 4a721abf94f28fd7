package sidecar

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/hooks"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// hookReceiver is the Okta event hook receiver and the hub that feeds
// WatchEvents; with a shared store, also the reader of the fleet's event
// stream that feeds the hub.
type hookReceiver struct {
	cfg        config.Hooks
	hub        *hooks.Hub
	rc         *hooks.Receiver
	srv        *http.Server
	log        *slog.Logger
	stopStream func() // ends the stream's reader and waits for it; nil without
}

// newHookReceiver builds the receiver; nothing listens until serve. With a
// store the fleet shares (nil otherwise), deliveries go to the fleet's
// stream and the hub is fed from it by a reader started here, so that it
// has loaded the stream before WatchEvents serves.
func newHookReceiver(cfg config.Hooks, log *slog.Logger, tp trace.TracerProvider, inst *telemetry.Instruments, auditLog *audit.Logger, store *state.Store) (*hookReceiver, error) {
	secret, err := cfg.Secret()
	if err != nil {
		return nil, err
	}
	hub, err := hooks.NewHub(
		hooks.WithReplay(cfg.ReplayEvents, 16<<20, cfg.ReplayMaxAge),
		hooks.WithMaxSubscribers(cfg.MaxWatchers),
		hooks.WithDefaultBuffer(cfg.SubscriberBuffer),
	)
	if err != nil {
		return nil, fmt.Errorf("event hooks: %w", err)
	}
	rcOpts := []hooks.Option{hooks.WithAuth(cfg.AuthHeader, secret), hooks.WithMaxBodyBytes(cfg.MaxBodyBytes),
		hooks.WithLogger(log), hooks.WithObserver(hookObserver{inst: inst, audit: auditLog, log: log})}
	var stream *hooks.Stream
	if store != nil {
		if stream, err = hooks.NewStream(store, hub, hooks.WithRetention(cfg.ReplayEvents, cfg.ReplayMaxAge),
			hooks.WithStreamLogger(log)); err != nil {
			return nil, fmt.Errorf("event hooks: %w", err)
		}
		rcOpts = append(rcOpts, hooks.WithStream(stream))
	}
	rc, err := hooks.NewReceiver(hub, rcOpts...)
	if err != nil {
		return nil, fmt.Errorf("event hooks: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(cfg.Path, tracedDelivery(tp.Tracer("github.com/bollard-dev/bollard/pkg/sidecar"), rc))
	// Okta gives up after 3 s; a client slower than these is not Okta.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	h := &hookReceiver{cfg: cfg, hub: hub, rc: rc, srv: srv, log: log}
	if stream != nil {
		h.stopStream = runStream(stream, log)
	}
	return h, nil
}

// runStream starts the stream's reader and returns what stops it, once.
func runStream(stream *hooks.Stream, log *slog.Logger) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := stream.Run(ctx); err != nil {
			log.Error("event stream reader stopped", "error", err)
		}
	}()
	return sync.OnceFunc(func() { cancel(); <-done })
}

// close ends the stream's reader, if any; build's closers call it.
func (h *hookReceiver) close(context.Context) {
	if h.stopStream != nil {
		h.stopStream()
	}
}

// listen binds the receiver's address.
func (h *hookReceiver) listen() (net.Listener, error) {
	l, err := net.Listen("tcp", h.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen for event hooks: %w", err)
	}
	return l, nil
}

func (h *hookReceiver) serve(l net.Listener) {
	var err error
	if h.cfg.TLSCertFile != "" {
		err = h.srv.ServeTLS(l, h.cfg.TLSCertFile, h.cfg.TLSKeyFile)
	} else {
		err = h.srv.Serve(l)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		h.log.Error("event hook receiver stopped", "error", err)
	}
}

// shutdown refuses new deliveries (503: Okta retries once, elsewhere),
// ends every WatchEvents stream once it has sent what it holds, and stops
// the listener.
func (h *hookReceiver) shutdown(ctx context.Context) {
	h.rc.Shutdown()
	h.close(ctx)
	_ = h.srv.Shutdown(ctx)
}

// hookObserver counts deliveries and refusals and writes one audit record
// per accepted delivery: which events were new and which were duplicates.
type hookObserver struct {
	inst  *telemetry.Instruments
	audit *audit.Logger
	log   *slog.Logger
}

func (o hookObserver) Delivered(ctx context.Context, d hooks.Delivery) {
	o.inst.HookDelivery(ctx, len(d.Accepted), len(d.Duplicates))
	if o.audit == nil {
		return
	}
	accepted := make([]any, len(d.Accepted))
	for i, e := range d.Accepted {
		accepted[i] = e.UUID
	}
	dups := make([]any, len(d.Duplicates))
	for i, u := range d.Duplicates {
		dups[i] = u
	}
	rec := &audit.Record{Kind: audit.KindHookDelivery, Action: "hooks.delivery", Result: "received", Resource: map[string]string{"delivery": d.ID},
		Params: map[string]any{"accepted": accepted, "duplicates": dups}}
	if err := o.audit.Write(context.WithoutCancel(ctx), rec); err != nil {
		o.log.Error("audit record of an event hook delivery not written", "delivery", d.ID, "error", err)
	}
}

func (o hookObserver) Rejected(ctx context.Context, reason hooks.Reason) {
	o.inst.HookRejected(ctx, string(reason))
}
