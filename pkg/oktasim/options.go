package oktasim

import (
	"log/slog"
	"net/http"
	"time"
)

// DefaultAPIToken is the SSWS token a Sim accepts when WithAPIToken is not
// given. There is no unauthenticated mode: Okta has none either.
const DefaultAPIToken = "00sim-default-api-token-not-a-secret"

// Defaults for the rate limiter: generous enough that ordinary tests never
// meet it, small enough that a runaway loop does.
const (
	DefaultRateLimit  = 600
	DefaultRateWindow = time.Minute
)

// MaxBodyBytes bounds a request body. Okta documents no single limit; 1 MiB
// is far above any object the catalog sends.
const MaxBodyBytes = 1 << 20

// Option configures a Sim.
type Option func(*config)

type config struct {
	token        string
	seed         bool
	clock        func() time.Time
	rateLimit    int
	rateWindow   time.Duration
	bucketLimits map[string]int
	logger       *slog.Logger
	apps         []ServiceApp
	concurrency  int
	extraUsers   int
	resNonce     bool
	hooks        hookConfig
	marker       string
	people       peopleConfig
}

func defaultConfig() config {
	return config{
		token:      DefaultAPIToken,
		seed:       true,
		clock:      time.Now,
		rateLimit:  DefaultRateLimit,
		rateWindow: DefaultRateWindow,
		logger:     slog.New(slog.DiscardHandler),
		hooks:      hookConfig{timeout: DefaultEventHookTimeout, queueSize: DefaultEventHookQueue},
		people:     peopleConfig{audience: DefaultPeopleAudience, password: DefaultPeoplePassword},
	}
}

// WithAPIToken sets the token requests must carry as "Authorization: SSWS
// <token>". An empty token is ignored: the simulator always requires one.
func WithAPIToken(token string) Option {
	return func(c *config) {
		if token != "" {
			c.token = token
		}
	}
}

// WithSecretMarker makes every secret the simulator invents carry marker:
// the ids of sessions StartSession opens, activation tokens (and so their
// URLs), and a TOTP factor's shared secret and QR code link. A test of
// Bollard's audit masking greps a record for the marker, so a secret it
// does not know the name of still shows. The marker should be letters and
// digits, since a session id is used in paths. Seeded objects keep their
// exported ids.
func WithSecretMarker(marker string) Option {
	return func(c *config) { c.marker = marker }
}

// WithSeed says whether the org starts with the sample data (the default) or
// empty.
func WithSeed(seed bool) Option {
	return func(c *config) { c.seed = seed }
}

// WithClock replaces time.Now. Timestamps, session expiry, the System Log's
// default window and the rate-limit windows all read this clock, so a fixed
// clock makes every response byte-stable.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.clock = now
		}
	}
}

// WithRateLimit sets the quota of every bucket: limit requests per window.
// Non-positive values keep the defaults.
func WithRateLimit(limit int, window time.Duration) Option {
	return func(c *config) {
		if limit > 0 {
			c.rateLimit = limit
		}
		if window > 0 {
			c.rateWindow = window
		}
	}
}

// WithBucketLimit overrides the quota of one bucket (see the Bucket*
// constants), as Okta's limits differ per endpoint family.
func WithBucketLimit(bucket string, limit int) Option {
	return func(c *config) {
		if limit <= 0 {
			return
		}
		if c.bucketLimits == nil {
			c.bucketLimits = map[string]int{}
		}
		c.bucketLimits[bucket] = limit
	}
}

// WithLogger sets where the simulator logs each request (at debug level).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithServiceApp registers an OAuth 2.0 service app that may get access
// tokens from /oauth2/v1/token with a Private Key JWT client assertion. Give
// it once per app. New panics on an app without a client id, with a client id
// already registered, or with a key that is not an RSA or EC public (or
// private) key: a broken fixture should fail loudly, not answer 401 later.
func WithServiceApp(app ServiceApp) Option {
	return func(c *config) { c.apps = append(c.apps, app) }
}

// WithConcurrencyLimit caps the requests in flight at once. Okta enforces
// such a limit beside the per-minute buckets (75 for API traffic on many
// plans); a request over it is answered 429 E0000047 at once, without
// spending from its bucket, with X-Rate-Limit-Limit and -Remaining both 0
// and a reset one second ahead, an estimate, as Okta reports it. Zero or
// less (the default) means no limit.
func WithConcurrencyLimit(n int) Option {
	return func(c *config) { c.concurrency = max(n, 0) }
}

// WithExtraUsers adds n ACTIVE users to the org, members of Everyone when the
// org is seeded, for tests and benchmarks that need a large org. Their ids
// are ExtraUserID(i) and their logins ExtraUserLogin(i), for i in [0, n).
func WithExtraUsers(n int) Option {
	return func(c *config) { c.extraUsers = max(n, 0) }
}

// WithResourceDPoPNonce makes the API demand a server nonce in the DPoP
// proofs of resource calls, as RFC 9449 section 9 allows: a proof without a
// current nonce is answered 401 with WWW-Authenticate: DPoP
// error="use_dpop_nonce" and a DPoP-Nonce header. Off by default, when a
// nonce claim in a resource proof is not checked.
func WithResourceDPoPNonce(on bool) Option {
	return func(c *config) { c.resNonce = on }
}

// Event hook defaults: Okta gives a delivery three seconds; the queue only
// has to absorb a burst of changes while a receiver is slow.
const (
	DefaultEventHookTimeout = 3 * time.Second
	DefaultEventHookQueue   = 1024
)

type hookConfig struct {
	delay     time.Duration
	dupEvery  int
	client    *http.Client
	timeout   time.Duration
	queueSize int
}

// WithEventHookDelay holds each event hook delivery back by d after the
// change that caused it, to mimic Okta's delivery lag (seconds, at times
// minutes). Deliveries to a hook keep their order.
func WithEventHookDelay(d time.Duration) Option {
	return func(c *config) { c.hooks.delay = max(d, 0) }
}

// WithEventHookDuplicates sends every nth delivery to each hook twice, the
// same body both times, as Okta does when it retries a delivery the
// receiver did accept but answered too late: a receiver must de-duplicate
// by event uuid. Zero or less (the default) sends each delivery once.
func WithEventHookDuplicates(everyN int) Option {
	return func(c *config) { c.hooks.dupEvery = max(everyN, 0) }
}

// WithEventHookClient sets the HTTP client that verifies hooks and delivers
// events, e.g. an httptest TLS server's client. Its own Timeout, if any,
// applies on top of the per-attempt timeout.
func WithEventHookClient(hc *http.Client) Option {
	return func(c *config) { c.hooks.client = hc }
}

// WithEventHookTimeout replaces Okta's three-second limit on a verification
// or a delivery attempt, so that tests of timeouts run quickly.
func WithEventHookTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.hooks.timeout = d
		}
	}
}

// WithEventHookQueue bounds the deliveries waiting for each hook (1024 by
// default). When a slow receiver lets the queue fill, further events are
// dropped and counted (EventHookStats), never waited for: the API call that
// caused them must not stall.
func WithEventHookQueue(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.hooks.queueSize = n
		}
	}
}
