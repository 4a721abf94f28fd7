package forward

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// errTooManyWaiting is returned when the queue for the concurrent cap is full.
var errTooManyWaiting = errors.New("too many calls waiting for a free Okta connection")

// inflight caps the requests in flight to Okta. Okta's concurrent limit is
// per org, shared with every other client, and not reported until it is
// exceeded, so the configured cap is only an upper bound: the cap in force
// is halved on a concurrency 429 and grows back by one after as many
// answers in a row without one as the cap itself (additive increase,
// multiplicative decrease), never below 1 nor above the configured cap. Only
// requests sent under the cap in force count: a burst of 429s cuts it once.
//
// A freed place goes to the longest waiter, one waiter per place: lowering
// the cap or a burst of answers never lets the whole queue go at once.
//
// With a shared store, the sidecar's share of the fleet's cap (fleet.go)
// is a second cap beside it: the lower of the two is in force.
type inflight struct {
	max        int
	maxWaiting int

	mu      sync.Mutex
	limit   int // the cap in force, 1..max
	share   int // this sidecar's share of the fleet's cap; 0: none
	inUse   int
	waiters []*waiter // oldest first
	epoch   uint64    // counts the cuts, so one burst of 429s cuts once
	streak  int       // answers in a row under the cap in force, none a concurrency 429
}

type waiter struct {
	ready   chan struct{} // closed once granted
	granted bool
	epoch   uint64
}

// slot is one place under the cap, held for one request. epoch is the cap's
// epoch when it was taken.
type slot struct{ epoch uint64 }

// attemptResult is what came of a request, as far as the cap is concerned.
type attemptResult int

const (
	resultNone               attemptResult = iota // no answer from Okta (failed in transit, abandoned)
	resultAnswered                                // Okta answered, not with a concurrency 429
	resultConcurrencyLimited                      // Okta's concurrent limit was exceeded
)

func newInflight(maxInFlight, maxWaiting int) *inflight {
	return &inflight{max: maxInFlight, maxWaiting: maxWaiting, limit: maxInFlight}
}

// acquire waits for a place under the cap, as long as ctx allows and the
// queue is not full.
func (f *inflight) acquire(ctx context.Context) (slot, error) {
	f.mu.Lock()
	if f.inUse < f.capLocked() && len(f.waiters) == 0 {
		f.inUse++
		s := slot{f.epoch}
		f.mu.Unlock()
		return s, nil
	}
	if len(f.waiters) >= f.maxWaiting {
		f.mu.Unlock()
		return slot{}, &Error{Kind: KindRateLimited, Held: true, RetryAfter: time.Second, cause: errTooManyWaiting}
	}
	w := &waiter{ready: make(chan struct{})}
	f.waiters = append(f.waiters, w)
	f.mu.Unlock()

	select {
	case <-w.ready:
		return slot{w.epoch}, nil
	case <-ctx.Done():
	}
	f.mu.Lock()
	if w.granted {
		// Granted as ctx ended: hand the place on.
		f.mu.Unlock()
		f.done(slot{w.epoch}, resultNone)
		return slot{}, ctx.Err()
	}
	f.waiters = slices.DeleteFunc(f.waiters, func(x *waiter) bool { return x == w })
	f.mu.Unlock()
	return slot{}, ctx.Err()
}

// done gives s back and adapts the cap to what came of its request.
func (f *inflight) done(s slot, r attemptResult) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inUse--
	switch r {
	case resultConcurrencyLimited:
		f.streak = 0
		// Requests sent before the last cut were sent under the old cap:
		// their 429s say nothing new about the one in force.
		if s.epoch == f.epoch && f.limit > 1 {
			f.limit = max(1, f.limit/2)
			f.epoch++
		}
	case resultAnswered:
		// Likewise only answers to requests sent under the cap in force
		// show that it holds.
		if s.epoch != f.epoch {
			break
		}
		f.streak++
		if f.limit < f.max && f.streak >= f.limit {
			f.limit++
			f.streak = 0
		}
	}
	f.grantLocked()
}

// grantLocked hands free places to the longest waiters, one each.
func (f *inflight) grantLocked() {
	for f.inUse < f.capLocked() && len(f.waiters) > 0 {
		w := f.waiters[0]
		f.waiters = f.waiters[1:]
		w.granted, w.epoch = true, f.epoch
		f.inUse++
		close(w.ready)
	}
}

// capLocked is the cap in force: the adaptive one, or the fleet's share
// when lower.
func (f *inflight) capLocked() int {
	if f.share > 0 && f.share < f.limit {
		return f.share
	}
	return f.limit
}

// setShare sets this sidecar's share of the fleet's cap (0: none, this
// sidecar's own cap alone). A share that grows lets waiters go at once; one
// that shrinks lets the requests in flight end, and no new one starts
// until they are under it.
func (f *inflight) setShare(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.share = max(n, 0)
	f.grantLocked()
}

// limitNow returns the adaptive cap (AIMD), without the fleet's share.
func (f *inflight) limitNow() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limit
}

// capNow returns the cap in force, with the fleet's share.
func (f *inflight) capNow() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.capLocked()
}

// InFlightCap returns the cap on requests in flight to Okta now in force:
// the configured cap (WithConcurrency), lowered while Okta reports its
// concurrent limit exceeded, or this sidecar's share of the fleet's cap
// when lower (WithSharedLimits), for metrics and health.
func (c *Client) InFlightCap() int { return c.limits.inflight.capNow() }
