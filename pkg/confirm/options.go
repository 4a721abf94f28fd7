package confirm

import (
	"time"

	"github.com/bollard-dev/bollard/pkg/state"
)

type options struct {
	ttl         time.Duration
	maxPending  int
	maxPerAgent int
	now         func() time.Time
	shared      *state.Store // nil: this process alone
}

var defaultOptions = options{
	ttl:         5 * time.Minute,
	maxPending:  10000,
	maxPerAgent: 100,
	now:         time.Now,
}

// Option configures a Store.
type Option func(*options)

// WithTTL sets how long a token stays valid (default 5 minutes).
func WithTTL(d time.Duration) Option { return func(o *options) { o.ttl = d } }

// WithLimits bounds the pending tokens in all and per agent
// (defaults 10,000 and 100).
func WithLimits(total, perAgent int) Option {
	return func(o *options) { o.maxPending, o.maxPerAgent = total, perAgent }
}

// WithClock replaces the clock, for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }
