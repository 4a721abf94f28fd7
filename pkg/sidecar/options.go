package sidecar

import (
	"io"
	"log/slog"
	"os"

	"github.com/bollard-dev/bollard/pkg/gateway"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// Option configures Run.
type Option func(*runOptions)

type runOptions struct {
	logger  *slog.Logger
	ready   func(Addrs)
	version string
	auth    gateway.Authenticator // replaces the one built from config (dev mode)
	isAgent func(string) bool     // the agent ids of auth, which no person may act under
	token   string                // replaces the configured Okta token (dev mode)
	stdout  io.Writer             // the audit log's stdout sink
	telOpts []telemetry.Option
}

func newRunOptions(opts []Option) runOptions {
	o := runOptions{logger: slog.Default(), ready: func(Addrs) {}, version: "dev", stdout: os.Stdout}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithLogger sets the process logger.
func WithLogger(l *slog.Logger) Option { return func(o *runOptions) { o.logger = l } }

// WithReady is called once every listener is up, with their addresses.
func WithReady(f func(Addrs)) Option { return func(o *runOptions) { o.ready = f } }

// WithVersion sets the version reported in the User-Agent sent to Okta.
func WithVersion(v string) Option { return func(o *runOptions) { o.version = v } }

func withAuthenticator(a gateway.Authenticator, isAgent func(string) bool) Option {
	return func(o *runOptions) { o.auth, o.isAgent = a, isAgent }
}

func withOktaToken(t string) Option { return func(o *runOptions) { o.token = t } }

// WithTelemetryOptions adds options to the OpenTelemetry setup, such as an
// in-memory span exporter in tests.
func WithTelemetryOptions(opts ...telemetry.Option) Option {
	return func(o *runOptions) { o.telOpts = append(o.telOpts, opts...) }
}

// WithAuditStdout replaces standard output as the audit log's stdout sink.
func WithAuditStdout(w io.Writer) Option { return func(o *runOptions) { o.stdout = w } }
