package mcpfront

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Option configures a Server.
type Option func(*options)

type options struct {
	log                 *slog.Logger
	tracer              trace.TracerProvider
	path                string
	confirmationTimeout time.Duration
	sessionTimeout      time.Duration
	maxRequestBytes     int64
	issuer              string // JWT mode: the protected resource's authorization server
	version             string
}

var defaultOptions = options{
	log:                 slog.New(slog.DiscardHandler),
	path:                "/mcp",
	confirmationTimeout: 2 * time.Minute,
	sessionTimeout:      30 * time.Minute,
	maxRequestBytes:     1 << 20,
	version:             "dev",
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithTracerProvider traces every MCP request as a server span, continuing
// the client's W3C trace context (default: no tracing).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracer = tp }
}

// WithPath sets the MCP endpoint's path (default /mcp).
func WithPath(p string) Option { return func(o *options) { o.path = p } }

// WithConfirmationTimeout bounds how long a confirmation waits for the
// person's answer before the call is denied (default 2m).
func WithConfirmationTimeout(d time.Duration) Option {
	return func(o *options) { o.confirmationTimeout = d }
}

// WithSessionTimeout closes sessions idle this long (default 30m).
func WithSessionTimeout(d time.Duration) Option { return func(o *options) { o.sessionTimeout = d } }

// WithMaxRequestBytes bounds one HTTP request body (default 1 MiB).
func WithMaxRequestBytes(n int64) Option { return func(o *options) { o.maxRequestBytes = n } }

// WithJWTIssuer serves the OAuth protected-resource metadata (RFC 9728)
// that the MCP authorization spec asks for, naming the issuer of the
// agents' tokens as the authorization server. Set it in JWT mode.
func WithJWTIssuer(issuer string) Option { return func(o *options) { o.issuer = issuer } }

// WithVersion sets the version the server reports to clients.
func WithVersion(v string) Option { return func(o *options) { o.version = v } }
