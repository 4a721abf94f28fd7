package mcpbridge

import (
	"io"
	"log/slog"
)

// Option configures New.
type Option func(*options)

type options struct {
	allowRemote bool
	httpPath    string
	logger      *slog.Logger
}

var defaults = options{
	httpPath: "/mcp",
	logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
}

// WithAllowRemote allows an endpoint that is not loopback or a unix socket.
// It must still be https: the credential never crosses a network in
// cleartext.
func WithAllowRemote(allow bool) Option {
	return func(o *options) { o.allowRemote = allow }
}

// WithHTTPPath sets the HTTP path of the MCP endpoint behind a unix socket
// endpoint (unix:///path), which has no room for one; the default is /mcp,
// the sidecar's default mcp.path. An http(s) endpoint carries its own.
func WithHTTPPath(path string) Option {
	return func(o *options) { o.httpPath = path }
}

// WithLogger sets where the bridge logs. Never stdout: that is the
// protocol.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}
