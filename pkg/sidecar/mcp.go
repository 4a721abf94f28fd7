package sidecar

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/mcpfront"
)

// buildMCP makes the MCP front over the gateway, when it is on. Policy
// reloads reach it through the engine's observer (buildPolicy).
func (p *parts) buildMCP(cfg config.Config, version string) error {
	if !cfg.MCP.Enabled {
		return nil
	}
	opts := []mcpfront.Option{mcpfront.WithLogger(p.log), mcpfront.WithTracerProvider(p.tel.TracerProvider()),
		mcpfront.WithPath(cfg.MCP.Path), mcpfront.WithConfirmationTimeout(cfg.MCP.ConfirmationTimeout),
		mcpfront.WithSessionTimeout(cfg.MCP.SessionTimeout), mcpfront.WithMaxRequestBytes(int64(cfg.Server.MaxRequestBytes)),
		mcpfront.WithVersion(version)}
	if j := cfg.Identity.JWT; j != nil {
		opts = append(opts, mcpfront.WithJWTIssuer(j.Issuer))
	}
	m, err := mcpfront.New(p.gw, opts...)
	if err != nil {
		return fmt.Errorf("mcp: %w", err)
	}
	p.mcp = m
	p.mcpRef.Store(m)
	return nil
}

// policyChanged tells the MCP sessions, if any, that their tools may have
// changed.
func (p *parts) policyChanged() {
	if m := p.mcpRef.Load(); m != nil {
		m.PolicyChanged()
	}
}

// listenMCP binds the MCP address: TCP, or a Unix socket as the gRPC one.
func listenMCP(cfg config.MCP) (net.Listener, error) {
	if sock := cfg.UnixSocket(); sock != "" {
		return listenUnix(sock)
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen for MCP: %w", err)
	}
	return l, nil
}

// mcpURL is the endpoint as a client names it, for the log and the banner.
func mcpURL(cfg config.MCP, a net.Addr) string {
	if a == nil {
		return ""
	}
	if sock := cfg.UnixSocket(); sock != "" {
		return config.UnixPrefix + sock + " " + cfg.Path
	}
	return "http://" + a.String() + cfg.Path
}

// The MCP listener's bounds: a client has mcpReadHeaderTimeout to send its
// headers, and an idle keep-alive connection is closed after
// mcpIdleTimeout (a session's event stream is a request in progress, not
// idle).
const (
	mcpReadHeaderTimeout = 10 * time.Second
	mcpIdleTimeout       = 2 * time.Minute
)

// serveMCP serves the MCP front on l; errc gets its end, as the gRPC
// servers' do.
func (p *parts) serveMCP(l net.Listener, errc chan<- error) *http.Server {
	srv := &http.Server{Handler: p.mcp, ReadHeaderTimeout: mcpReadHeaderTimeout, IdleTimeout: mcpIdleTimeout}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("mcp: %w", err)
		}
	}()
	return srv
}

// stopMCP ends the sessions (their event streams would keep the server
// busy), then lets calls in flight finish, for at most 10 s.
func (p *parts) stopMCP(ctx context.Context, srv *http.Server, cfg config.MCP) {
	if srv == nil {
		return
	}
	p.mcp.CloseSessions()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
	}
	if sock := cfg.UnixSocket(); sock != "" {
		_ = os.Remove(sock)
	}
}
