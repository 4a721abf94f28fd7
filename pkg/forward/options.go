package forward

import (
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

type options struct {
	credential       Credential
	httpClient       *http.Client
	timeout          time.Duration
	maxResponseBytes int64
	userAgent        string
	logger           *slog.Logger
	now              func() time.Time

	attemptTimeout  time.Duration
	maxRetryWait    time.Duration
	maxReadAttempts int
	retryBase       time.Duration
	maxInFlight     int
	maxWaiting      int
	reserve         float64

	store            *state.Store // nil: every limit is this sidecar's own
	fleetMaxInFlight int

	tracer trace.Tracer
	inst   *telemetry.Instruments
}

var defaultOptions = options{
	timeout:          30 * time.Second,
	maxResponseBytes: 32 << 20,
	userAgent:        "bollard/dev",
	logger:           slog.New(slog.DiscardHandler),
	now:              time.Now,
	attemptTimeout:   10 * time.Second,
	maxRetryWait:     15 * time.Second,
	maxReadAttempts:  3,
	retryBase:        100 * time.Millisecond,
	maxInFlight:      10,
	maxWaiting:       200,
	reserve:          0.1,
	tracer:           noop.NewTracerProvider().Tracer(""),
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

// WithAttemptTimeout bounds one attempt of a read, which is then retried
// within the overall timeout (default 10s).
func WithAttemptTimeout(d time.Duration) Option { return func(o *options) { o.attemptTimeout = d } }

// WithRetries sets how many attempts a read gets in all (default 3), the
// base of the jittered back-off between them (default 100ms), and the longest
// Bollard waits for a retry or a rate-limit window (default 15s).
func WithRetries(readAttempts int, base, longestWait time.Duration) Option {
	return func(o *options) { o.maxReadAttempts, o.retryBase, o.maxRetryWait = readAttempts, base, longestWait }
}

// WithConcurrency caps the requests in flight to Okta (Okta's concurrent
// limit; default 10) and the calls that may wait for a free place (default
// 200); a call past that fails at once.
func WithConcurrency(inFlight, waiting int) Option {
	return func(o *options) { o.maxInFlight, o.maxWaiting = inFlight, waiting }
}

// WithReserve sets the share of each rate-limit bucket Bollard leaves for
// people and other clients (default 0.1): when a bucket is down to it, new
// calls wait for the window to reset, or fail if their deadline is sooner.
func WithReserve(share float64) Option { return func(o *options) { o.reserve = share } }

// WithSharedLimits keeps Okta's limits once for every sidecar sharing
// store (state.backend redis): the rate-limit picture per bucket, with the
// share for people (WithReserve) kept once for the whole fleet, and a cap
// of maxInFlight requests in flight from the fleet, beside this sidecar's
// own (WithConcurrency). Calls never wait on the store: Client.ShareLimits
// keeps the client in step with the fleet in the background, and until it
// has, or while the store does not answer, this sidecar's own picture and
// cap apply. See fleet.go.
func WithSharedLimits(store *state.Store, maxInFlight int) Option {
	return func(o *options) { o.store, o.fleetMaxInFlight = store, maxInFlight }
}

// WithTracerProvider traces each request to Okta as a client span (default:
// no tracing).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracer = tp.Tracer("github.com/bollard-dev/bollard/pkg/forward") }
}

// WithInstruments records Okta requests, retries and rate limiting as
// metrics (default: none).
func WithInstruments(in *telemetry.Instruments) Option { return func(o *options) { o.inst = in } }
