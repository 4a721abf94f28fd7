package sidecar

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/config"
)

// Addrs are the addresses a running sidecar listens on.
type Addrs struct {
	GRPC       net.Addr // nil when TCP is off
	UnixSocket string   // empty when off
	Admin      net.Addr // nil when off
	Hooks      net.Addr // the event hook receiver; nil when off
	MCP        net.Addr // the MCP front (TCP or Unix); nil when off
	// MCPURL is the MCP endpoint as clients name it; empty when off.
	MCPURL string
	// ConsoleURL is the approvers' web console (origin + /approvals/), and
	// ConsoleRedirectURL its sign-in callback; empty when off.
	ConsoleURL, ConsoleRedirectURL string
}

// Run serves Bollard with cfg until ctx ends. cfg must be validated.
//
// It builds the parts (build), binds every address (listen), then serves
// until ctx ends and stops in order (serve); the parts are closed last.
func Run(ctx context.Context, cfg config.Config, opts ...Option) error {
	o := newRunOptions(opts)
	p, err := build(ctx, cfg, o)
	defer p.close(ctx)
	if err != nil {
		return err
	}
	return p.listenAndServe(ctx, cfg, o)
}

// listenAndServe binds the addresses, makes what needs them (the console,
// then the notifier, which links to it) and serves until ctx ends.
func (p *parts) listenAndServe(ctx context.Context, cfg config.Config, o runOptions) error {
	ls, err := listen(cfg, p.hooks, p.certs)
	if err != nil {
		return err
	}
	if p.console, err = p.buildConsole(cfg.Approvals, ls); err == nil {
		err = p.buildNotify(ctx, cfg.Approvals.Notify, o.version, ls.addrs.ConsoleURL)
	}
	if err != nil {
		ls.close()
		return err
	}
	return p.serve(ctx, cfg, ls, o.ready)
}

// listeners are the bound addresses, before anything serves on them.
type listeners struct {
	addrs Addrs
	grpc  []net.Listener // TCP and/or the Unix socket
	admin net.Listener   // nil when off
	hooks net.Listener   // nil when off
	mcp   net.Listener   // nil when off
}

func (ls *listeners) close() {
	for _, l := range append(ls.grpc, ls.admin, ls.hooks, ls.mcp) {
		if l != nil {
			l.Close()
		}
	}
}

// listen binds every configured address, the gRPC TCP one behind TLS when
// certs is not nil; on error, none stays bound.
func listen(c config.Config, hooks *hookReceiver, certs *certFiles) (*listeners, error) {
	cfg := c.Server
	ls := &listeners{}
	fail := func(err error) (*listeners, error) {
		ls.close()
		return nil, err
	}
	if cfg.GRPCListen != "" {
		l, err := net.Listen("tcp", cfg.GRPCListen)
		if err != nil {
			return fail(fmt.Errorf("listen for gRPC: %w", err))
		}
		ls.addrs.GRPC = l.Addr()
		if certs != nil {
			l = tlsListener(l, certs)
		}
		ls.grpc = append(ls.grpc, l)
	}
	if cfg.UnixSocket != "" {
		l, err := listenUnix(cfg.UnixSocket)
		if err != nil {
			return fail(err)
		}
		ls.grpc, ls.addrs.UnixSocket = append(ls.grpc, l), cfg.UnixSocket
	}
	if cfg.AdminListen != "" {
		l, err := net.Listen("tcp", cfg.AdminListen)
		if err != nil {
			return fail(fmt.Errorf("listen for admin: %w", err))
		}
		ls.admin, ls.addrs.Admin = l, l.Addr()
	}
	if hooks != nil {
		l, err := hooks.listen()
		if err != nil {
			return fail(err)
		}
		ls.hooks, ls.addrs.Hooks = l, l.Addr()
	}
	if c.MCP.Enabled {
		l, err := listenMCP(c.MCP)
		if err != nil {
			return fail(err)
		}
		ls.mcp, ls.addrs.MCP, ls.addrs.MCPURL = l, l.Addr(), mcpURL(c.MCP, l.Addr())
	}
	return ls, nil
}

// listenUnix listens on a Unix socket at path that the agent can connect to.
func listenUnix(path string) (net.Listener, error) {
	// A stale socket from a previous run would make Listen fail.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on unix socket: %w", err)
	}
	// Connecting needs write permission on the socket. The agent runs as
	// another user in the same pod; it shares the group (the pod's fsGroup
	// owns the emptyDir), and others get nothing. Agents are still
	// authenticated on every call.
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, fmt.Errorf("unix socket permissions: %w", err)
	}
	return l, nil
}

// serve serves on ls until ctx ends or a gRPC listener fails, then stops.
func (p *parts) serve(ctx context.Context, cfg config.Config, ls *listeners, ready func(Addrs)) error {
	var admin *http.Server
	if ls.admin != nil {
		admin = serveAdmin(ls.admin, adminHandler(p.engine, p.auditLog, p.state, p.tel.MetricsHandler(), cfg.Server.Pprof, p.console), p.log)
	}
	if ls.hooks != nil {
		go p.hooks.serve(ls.hooks)
	}
	errc := make(chan error, len(ls.grpc)+1)
	for _, l := range ls.grpc {
		go func() { errc <- p.grpc.Serve(l) }()
	}
	var mcpSrv *http.Server
	if ls.mcp != nil {
		mcpSrv = p.serveMCP(ls.mcp, errc)
	}
	p.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	a := ls.addrs
	fields := []any{"mode", p.mode(), "grpc", addrString(a.GRPC), "grpc_tls", p.certs != nil, "unix_socket", a.UnixSocket, "admin", addrString(a.Admin),
		"approvals_console", a.ConsoleURL, "okta_org", cfg.Okta.OrgURL}
	if p.engine != nil {
		fields = append(fields, "mcp", a.MCPURL, "event_hooks", addrString(a.Hooks), "actions", len(catalog.Actions()), "policy_revision", p.engine.Revision())
	}
	p.log.Info("bollard serving", fields...)
	ready(a)

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		p.log.Error("gRPC server stopped", "error", err)
	}
	// MCP calls end with gRPC's: both drain before the parts close.
	p.stopMCP(ctx, mcpSrv, cfg.MCP)
	p.stop(ctx, admin)
	if cfg.Server.UnixSocket != "" {
		_ = os.Remove(cfg.Server.UnixSocket)
	}
	p.log.Info("bollard stopped")
	return err
}

// stop stops the servers in order: the health check says not serving, the
// event streams end (so that gRPC can drain), gRPC drains (or is cut after
// 10 s), and the admin server stops last.
func (p *parts) stop(ctx context.Context, admin *http.Server) {
	p.health.Shutdown()
	if p.approvers != nil {
		p.approvers.Close() // approvers' watches never end on their own
	}
	if p.gw != nil { // nil in approver mode
		p.gw.Shutdown() // nor do agents' WaitApproval streams, until their approval does
	}
	if p.hooks != nil {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		p.hooks.shutdown(shutdownCtx)
		cancel()
	}
	stopped := make(chan struct{})
	go func() { p.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		p.grpc.Stop()
	}
	if admin != nil {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = admin.Shutdown(shutdownCtx)
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
