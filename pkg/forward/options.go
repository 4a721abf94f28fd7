package forward

import (
	"log/slog"
	"net/http"
	"time"
)

type options struct {
	credential       Credential
	httpClient       *http.Client
	timeout          time.Duration
	maxResponseBytes int64
	userAgent        string
	logger           *slog.Logger
	now              func() time.Time
}

var defaultOptions = options{
	timeout:          30 * time.Second,
	maxResponseBytes: 32 << 20,
	userAgent:        "bollard/dev",
	logger:           slog.New(slog.DiscardHandler),
	now:              time.Now,
}

// Option configures a Client.
type Option func(*options)

// WithCredential sets how Bollard authenticates to Okta.
func WithCredential(c Credential) Option { return func(o *options) { o.credential = c } }

// WithAPIToken authenticates with an SSWS API token; an empty or malformed
// token leaves the client without a credential, which New reports.
func WithAPIToken(token string) Option {
	return func(o *options) {
		if c, err := SSWS(token); err == nil {
			o.credential = c
		}
	}
}

// WithHTTPClient replaces the HTTP client (its CheckRedirect is overridden).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithTimeout bounds one Okta call (default 30s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithMaxResponseBytes bounds the body read from Okta (default 32 MiB).
func WithMaxResponseBytes(n int64) Option { return func(o *options) { o.maxResponseBytes = n } }

// WithUserAgent sets the product part of the User-Agent, e.g. "bollard/1.2.3".
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithLogger sets the logger for per-call debug lines (never bodies or credentials).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock replaces the clock used to compute retry delays, for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }
