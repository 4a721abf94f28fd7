package oktasim

import (
	"log/slog"
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
}

func defaultConfig() config {
	return config{
		token:      DefaultAPIToken,
		seed:       true,
		clock:      time.Now,
		rateLimit:  DefaultRateLimit,
		rateWindow: DefaultRateWindow,
		logger:     slog.New(slog.DiscardHandler),
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
