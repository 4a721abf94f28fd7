package forward

import (
	"math"
	"sync"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// BucketOf names the rate-limit bucket a call is counted in, as Bollard
// tracks it: the method and path template ("GET /api/v1/users/{userId}").
// Okta's own buckets are coarser or finer depending on the endpoint and
// plan; tracking per template means a bucket Bollard sees is never wider than
// Okta's, so holding back on it never blocks an unrelated endpoint.
func BucketOf(a *catalog.Action) string { return a.Method + " " + a.Path }

// limits holds Bollard's side of Okta's rate limits: the cap on concurrent
// in-flight requests (Okta's concurrent limit; inflight.go) and the last
// rate-limit headers seen per bucket.
type limits struct {
	inflight *inflight
	reserve  float64 // share of each bucket kept for people

	mu      sync.Mutex
	buckets map[string]*bucketState
}

type bucketState struct {
	RateLimit
	// spent counts calls admitted since the headers were read, so that
	// concurrent callers do not all see the same last request as free.
	spent int64
}

func newLimits(maxInFlight, maxWaiting int, reserve float64) *limits {
	return &limits{
		inflight: newInflight(maxInFlight, maxWaiting),
		reserve:  reserve,
		buckets:  map[string]*bucketState{},
	}
}

// observe records the rate-limit headers of an answer that has them. Do
// never passes those of a concurrency 429: they describe no bucket.
func (l *limits) observe(bucket string, rl RateLimit) {
	if rl.Limit <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buckets[bucket] = &bucketState{RateLimit: rl}
}

// last returns the last headers seen for bucket.
func (l *limits) last(bucket string) RateLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[bucket]; ok {
		return b.RateLimit
	}
	return RateLimit{}
}

// Buckets returns the last rate-limit headers seen per bucket.
func (l *limits) snapshot() map[string]RateLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]RateLimit, len(l.buckets))
	for k, b := range l.buckets {
		out[k] = b.RateLimit
	}
	return out
}

// reserveWait says how long a new call on bucket should wait so that the
// share of the bucket kept for people is not spent: zero when the bucket has
// more than that share left (the call is then counted against it), or until
// the window resets.
func (l *limits) reserveWait(bucket string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[bucket]
	if !ok || l.reserve <= 0 {
		return 0
	}
	reset := time.Unix(b.Reset, 0)
	if !now.Before(reset) {
		delete(l.buckets, bucket) // a new window: the old numbers say nothing
		return 0
	}
	if b.Remaining-b.spent > keepFor(b.Limit, l.reserve) {
		b.spent++
		return 0
	}
	return reset.Sub(now)
}

// keepFor is how many of a bucket's limit are kept for people, on this
// sidecar's picture and on the fleet's (fleet.go) alike.
func keepFor(limit int64, reserve float64) int64 { return int64(math.Ceil(float64(limit) * reserve)) }

// localReserveWait is reserveWait on this sidecar's own picture, for a
// client without a shared store; with one, the fleet's picture decides as
// each attempt takes its place (fleet.go).
func (c *Client) localReserveWait(bucket string) time.Duration {
	if c.fleet != nil {
		return 0
	}
	return c.limits.reserveWait(bucket, c.opts.now())
}

// RateLimits returns the last rate-limit headers Okta sent per bucket
// (BucketOf), for metrics and health.
func (c *Client) RateLimits() map[string]RateLimit { return c.limits.snapshot() }

// RateLimitRemaining returns the last X-Rate-Limit-Remaining per bucket, for
// the rate-limit gauge.
func (c *Client) RateLimitRemaining() map[string]int64 {
	snap := c.limits.snapshot()
	out := make(map[string]int64, len(snap))
	for k, rl := range snap {
		out[k] = rl.Remaining
	}
	return out
}
