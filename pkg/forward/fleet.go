package forward

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bollard-dev/bollard/pkg/state"
)

// Okta's limits are per org, so a fleet of sidecars sharing a store
// (WithSharedLimits) keeps them once, for every replica:
//
//   - the rate-limit picture per bucket: every replica publishes what Okta
//     told it, and the share kept for people is kept once for the fleet,
//     each attempt counted in the store against what Okta last reported;
//   - a cap on the requests the whole fleet has in flight, for Okta's
//     concurrent limit: a place is a lease that expires with the attempt's
//     deadline, so a replica that dies holding places frees them by itself.
//
// An attempt costs two round trips to the store, whatever its bucket: one
// script takes the place and counts the call (fleet_scripts.go), one gives
// the place back and publishes Okta's headers. A bucket the fleet found
// down to its reserve is remembered for fleetHoldFor, so calls held back
// cost none.
//
// When the store does not answer, each replica falls back to its own
// picture and its own cap (limits.go, inflight.go), which it keeps up to
// date all along; it says so once in the log, and once again when the
// store is back. Nothing is counted twice: a lease whose release was lost
// expires, and publishing keeps the newest picture whatever the order.
type fleet struct {
	store   *state.Store
	max     int     // places in flight for the whole fleet
	reserve float64 // share of each bucket kept for people
	leases  string  // key of the sorted set of leases
	id      string  // this replica, in its lease ids
	seq     atomic.Uint64
	log     *slog.Logger

	maxLease   time.Duration // the longest a lease lives (the client's timeout)
	leaseGrace time.Duration // added to an attempt's deadline: the release's round trip
	holdFor    time.Duration
	pollMin    time.Duration // waits between tries while the fleet is at its cap
	pollMax    time.Duration

	degraded atomic.Bool // the last shared operation fell back; logged once each way

	mu    sync.Mutex
	holds map[string]fleetHold // buckets the fleet found down to the reserve
}

// fleetHold is a bucket the fleet found down to its reserve.
type fleetHold struct {
	RateLimit
	seen time.Time
}

// fleetHoldFor is how long a replica trusts a hold it was told of before
// asking the store again. The hold lasts until the window resets unless
// Okta gives the share back; asking again after a second notices that.
const fleetHoldFor = time.Second

const (
	fleetLeaseGrace = time.Second
	fleetPollMin    = 5 * time.Millisecond
	fleetPollMax    = 100 * time.Millisecond
)

func newFleet(store *state.Store, maxInFlight int, o options) *fleet {
	id := make([]byte, 6)
	_, _ = crand.Read(id)
	return &fleet{
		store: store, max: maxInFlight, reserve: o.reserve, leases: store.Key("okta", "inflight"),
		id: hex.EncodeToString(id), log: o.logger,
		maxLease: o.timeout, leaseGrace: fleetLeaseGrace, holdFor: fleetHoldFor, pollMin: fleetPollMin, pollMax: fleetPollMax,
		holds: map[string]fleetHold{},
	}
}

// bucketKeys keeps a bucket's braces out of its key: in a Redis Cluster
// they would name a hash tag.
var bucketKeys = strings.NewReplacer("{", "(", "}", ")", " ", "_")

func (f *fleet) bucketKey(bucket string) string {
	return f.store.Key("okta", "ratelimit", bucketKeys.Replace(bucket))
}

// errFleetUnavailable says the store did not answer: the caller applies its
// own limits.
var errFleetUnavailable = errors.New("fleet limits: shared store unavailable")

// take takes a place under the fleet's cap for one attempt on bucket and
// counts it against the bucket, waiting for a place as long as ctx allows.
// hold > 0 means the bucket is down to the share kept for people until
// then: no place was taken. errFleetUnavailable means the store did not
// answer and nothing was taken.
func (f *fleet) take(ctx context.Context, bucket string, now time.Time) (lease string, hold time.Duration, rl RateLimit, err error) {
	if h, ok := f.held(bucket, now); ok {
		return "", time.Unix(h.Reset, 0).Sub(now), h.RateLimit, nil
	}
	lease = f.id + ":" + strconv.FormatUint(f.seq.Add(1), 36)
	keys := []string{f.leases, f.bucketKey(bucket)}
	for pause := f.pollMin; ; pause = min(2*pause, f.pollMax) {
		if !f.store.Available() {
			f.fellBack(nil)
			return "", 0, RateLimit{}, errFleetUnavailable
		}
		// The store's own timeouts bound the command; the caller's
		// deadline must not make a slow caller look like a dead store.
		res, err := takeScript.Run(context.WithoutCancel(ctx), f.store.Client(), keys,
			f.max, f.leaseFor(ctx).Milliseconds(), lease, now.UnixMilli(), f.reserve).Int64Slice()
		if err != nil {
			f.fellBack(err)
			return "", 0, RateLimit{}, errFleetUnavailable
		}
		f.answered()
		switch {
		case len(res) == 5 && res[0] == 2:
			rl = RateLimit{Limit: res[1], Remaining: res[2], Reset: res[3]}
			f.remember(bucket, rl, now)
			return "", max(time.Unix(rl.Reset, 0).Sub(now), time.Millisecond), rl, nil
		case len(res) >= 1 && res[0] == 1:
			return lease, 0, RateLimit{}, nil
		}
		// The fleet is at its cap: try again after a jittered pause.
		if err := sleep(ctx, pause/2+rand.N(pause/2+1)); err != nil {
			return "", 0, RateLimit{}, err
		}
	}
}

// leaseFor is how long a lease taken now lives: until the attempt can no
// longer be in flight.
func (f *fleet) leaseFor(ctx context.Context) time.Duration {
	d := f.maxLease
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	return max(d, 0) + f.leaseGrace
}

// attemptEnd is what came of an attempt, for the fleet.
type attemptEnd int

const (
	endNone       attemptEnd = iota // no answer, or one without a bucket's numbers
	endAnswered                     // Okta answered with the bucket's numbers
	endNotCounted                   // Okta's concurrent limit refused it: the bucket was not spent
)

// finish gives lease back ("" when none was taken) and tells the fleet what
// came of the attempt, in one round trip.
func (f *fleet) finish(ctx context.Context, lease, bucket string, end attemptEnd, rl RateLimit, now time.Time) {
	mode := ""
	switch {
	case end == endNotCounted && lease != "":
		mode = "u"
	case end == endAnswered && plausible(rl, now):
		mode = "p"
		rl.Remaining = min(max(rl.Remaining, 0), rl.Limit)
	}
	if (lease == "" && mode == "") || !f.store.Available() {
		return // a lease left behind expires by itself
	}
	err := finishScript.Run(context.WithoutCancel(ctx), f.store.Client(), []string{f.leases, f.bucketKey(bucket)},
		lease, mode, rl.Limit, rl.Remaining, rl.Reset).Err()
	if err != nil {
		f.fellBack(err)
		return
	}
	f.answered()
}

// plausible keeps numbers the fleet could not use out of the store: Okta's
// windows reset within the hour.
func plausible(rl RateLimit, now time.Time) bool {
	return rl.Limit > 0 && rl.Limit <= 1e9 && rl.Reset > 0 && rl.Reset <= now.Add(time.Hour).Unix()
}

// held returns the hold the fleet told this replica of, while it is to be
// trusted.
func (f *fleet) held(bucket string, now time.Time) (fleetHold, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.holds[bucket]
	if !ok {
		return h, false
	}
	if now.Sub(h.seen) >= f.holdFor || now.Before(h.seen) || !now.Before(time.Unix(h.Reset, 0)) {
		delete(f.holds, bucket)
		return h, false
	}
	return h, true
}

func (f *fleet) remember(bucket string, rl RateLimit, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holds[bucket] = fleetHold{RateLimit: rl, seen: now}
}

// fellBack records that a shared operation did not reach the store, and
// says so once.
func (f *fleet) fellBack(err error) {
	f.store.Observe(err)
	if f.degraded.CompareAndSwap(false, true) {
		attrs := []any{}
		if err != nil {
			attrs = append(attrs, "error", err)
		}
		f.log.Warn("okta limits: shared store unavailable; this sidecar's own rate-limit picture and in-flight cap apply", attrs...)
	}
}

func (f *fleet) answered() {
	if f.degraded.CompareAndSwap(true, false) {
		f.log.Info("okta limits: shared store back; the fleet's rate-limit picture and in-flight cap apply")
	}
}

// place takes a place for one attempt of a call on bucket: under this
// sidecar's cap, then under the fleet's, which also counts the call
// against the bucket. A bucket the fleet finds down to the share kept for
// people is waited out once, without holding a place, when the deadline
// allows; otherwise the call is held back. Without a shared store, or
// while it does not answer, this sidecar's own picture decides.
func (c *Client) place(ctx context.Context, bucket string) (slot, string, error) {
	for waited := false; ; waited = true {
		s, err := c.limits.inflight.acquire(ctx)
		if err != nil || c.fleet == nil {
			return s, "", err
		}
		now := c.opts.now()
		lease, hold, rl, err := c.fleet.take(ctx, bucket, now)
		if errors.Is(err, errFleetUnavailable) {
			hold, rl, err = c.limits.reserveWait(bucket, now), c.limits.last(bucket), nil
		}
		if err == nil && hold <= 0 {
			return s, lease, nil
		}
		c.limits.inflight.done(s, resultNone)
		switch {
		case err != nil:
			return slot{}, "", err
		case waited || !fits(ctx, hold, c.opts.maxRetryWait):
			return slot{}, "", &Error{Kind: KindRateLimited, Held: true, RetryAfter: hold, RateLimit: rl}
		}
		if err := sleep(ctx, hold); err != nil {
			return slot{}, "", err
		}
	}
}

// finishFleet tells the fleet what came of an attempt.
func (c *Client) finishFleet(ctx context.Context, lease, bucket string, out *Response, concurrent bool) {
	if c.fleet == nil {
		return
	}
	end := endNone
	var rl RateLimit
	switch {
	case concurrent:
		end = endNotCounted
	case out != nil:
		end, rl = endAnswered, out.RateLimit
	}
	c.fleet.finish(ctx, lease, bucket, end, rl, c.opts.now())
}
