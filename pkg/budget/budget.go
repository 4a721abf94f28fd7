package budget

import (
	"context"
	"sync"
	"time"
)

// Limiter decides whether an agent's call fits its budget.
type Limiter struct {
	perMinute  int
	overrides  map[string]int
	maxBuckets int
	now        func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
	limit  float64 // calls per minute
}

// Option configures a Limiter.
type Option func(*Limiter)

// WithClock replaces the clock, for tests.
func WithClock(now func() time.Time) Option { return func(l *Limiter) { l.now = now } }

// WithMaxAgents bounds the buckets kept (default 100,000).
func WithMaxAgents(n int) Option { return func(l *Limiter) { l.maxBuckets = n } }

// New returns a limiter giving every agent perMinute calls a minute (0: no
// budget), except those in overrides (agent id → calls a minute; 0 there
// means unlimited for that agent).
func New(perMinute int, overrides map[string]int, opts ...Option) *Limiter {
	l := &Limiter{perMinute: perMinute, overrides: overrides, maxBuckets: 100_000, now: time.Now, buckets: map[string]*bucket{}}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Limit returns the agent's budget in calls a minute; 0 means unlimited.
func (l *Limiter) Limit(agent string) int {
	if n, ok := l.overrides[agent]; ok {
		return n
	}
	return l.perMinute
}

// Allow spends one call of the agent's budget. When the budget is spent it
// returns false and how long until one call is available again.
func (l *Limiter) Allow(agent string) (bool, time.Duration) {
	limit := l.Limit(agent)
	if limit <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[agent]
	if !ok {
		if len(l.buckets) >= l.maxBuckets {
			l.evictLocked(now)
		}
		b = &bucket{tokens: float64(limit), last: now, limit: float64(limit)}
		l.buckets[agent] = b
	}
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	perCall := time.Duration(float64(time.Minute) / b.limit)
	return false, time.Duration((1 - b.tokens) * float64(perCall))
}

func (b *bucket) refill(now time.Time) {
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(b.limit, b.tokens+elapsed.Minutes()*b.limit)
		b.last = now
	}
}

// evictLocked drops the buckets that have refilled completely (an agent that
// comes back starts full, which is what it would have had anyway); if every
// agent is busy, it drops half of them, which errs on the agents' side.
func (l *Limiter) evictLocked(now time.Time) {
	for id, b := range l.buckets {
		b.refill(now)
		if b.tokens >= b.limit {
			delete(l.buckets, id)
		}
	}
	for id := range l.buckets {
		if len(l.buckets) < l.maxBuckets/2 {
			break
		}
		delete(l.buckets, id)
	}
}

// Spend is Allow for the callers that take either this replica's budgets
// or the fleet's (Shared): in memory it never fails.
func (l *Limiter) Spend(_ context.Context, agent string) (bool, time.Duration, error) {
	ok, wait := l.Allow(agent)
	return ok, wait, nil
}
