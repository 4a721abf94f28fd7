package forward

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
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
//     each replica admitting calls on the fleet's picture less the calls
//     it admitted itself since;
//   - a cap on the requests the whole fleet has in flight, for Okta's
//     concurrent limit: each replica keeps its share of it (the cap
//     divided among the live replicas) as a second local cap beside its
//     own (inflight.go).
//
// A call touches only this replica's memory: the store is kept in step in
// the background (ShareLimits), one round trip a sync (fleet_scripts.go)
// that renews the replica's heartbeat, publishes the answers it got since
// the last one and brings back the fleet's picture and its live replicas.
// A sync runs every fleetSyncEvery, and sooner (at most one per
// fleetSyncGap) when an answer shows a bucket near its reserve.
//
// The price is a lag: what other replicas spent shows here one or two
// syncs late, so within that lag the fleet can spend into the reserve
// what its replicas admit on the same picture; and a replica that just
// joined takes its share before the others have made room for it, until
// their next sync. docs/scaling.md gives the bounds.
//
// When the store does not answer, or no sync succeeded for fleetStale,
// each replica falls back to its own picture and its own cap (limits.go,
// inflight.go), which it keeps up to date all along; it says so once in
// the log, and once again when the store is back. Nothing is counted
// twice: the store holds no counter, only pictures, and publishing the
// same picture again changes nothing.
type fleet struct {
	store    *state.Store
	max      int     // places in flight for the whole fleet
	reserve  float64 // share of each bucket kept for people
	members  string  // key of the sorted set of live replicas
	picture  string  // key of the hash of the fleet's picture
	id       string  // this replica, in members
	inflight *inflight
	log      *slog.Logger

	every time.Duration // between syncs
	gap   time.Duration // the least between syncs woken by an answer
	ttl   time.Duration // a heartbeat's life
	stale time.Duration // past this since the last sync, the picture is not trusted
	wake  chan struct{}

	degraded atomic.Bool // the store was found unavailable; logged once each way

	mu      sync.Mutex
	buckets map[string]*fleetBucket // the fleet's picture, with this replica's own answers
	unsent  map[string]RateLimit    // answers not yet published
	synced  time.Time               // the last sync that reached the store (monotonic)
	live    int                     // replicas in the fleet at that sync
	share   int                     // this replica's share of the fleet's cap
}

// fleetBucket is a bucket as this replica sees the fleet's: Okta's last
// numbers, and the calls this replica admitted against it that Okta's
// answers do not show yet.
type fleetBucket struct {
	RateLimit
	pending int64
}

const (
	fleetSyncEvery = 250 * time.Millisecond
	fleetSyncGap   = 25 * time.Millisecond
	fleetHeartbeat = 3 * time.Second
	fleetStale     = fleetHeartbeat
	// fleetMaxBuckets bounds the buckets a replica takes from the store:
	// far more than the catalog's paths, which name them.
	fleetMaxBuckets = 4096
)

func newFleet(store *state.Store, maxInFlight int, in *inflight, o options) *fleet {
	id := make([]byte, 6)
	_, _ = crand.Read(id)
	return &fleet{
		store: store, max: maxInFlight, reserve: o.reserve, inflight: in, log: o.logger,
		// One hash tag: a Redis Cluster keeps both keys in the script's slot.
		members: store.Key("{okta}", "members"), picture: store.Key("{okta}", "ratelimit"),
		id:    hex.EncodeToString(id),
		every: fleetSyncEvery, gap: fleetSyncGap, ttl: fleetHeartbeat, stale: fleetStale,
		wake:    make(chan struct{}, 1),
		buckets: map[string]*fleetBucket{}, unsent: map[string]RateLimit{},
	}
}

// errFleetUnavailable says the fleet's picture is not to be trusted now:
// the caller applies its own limits.
var errFleetUnavailable = errors.New("fleet limits: shared store unavailable")

// admit decides a call's attempt on bucket on the fleet's picture, in
// memory: hold > 0 means the bucket is down to the share kept for people
// until then; otherwise the attempt is counted as pending until finish.
// errFleetUnavailable means the fleet's picture is not to be trusted and
// nothing was counted.
func (f *fleet) admit(bucket string, now time.Time) (hold time.Duration, rl RateLimit, err error) {
	if !f.store.Available() {
		f.fellBack(nil)
		return 0, RateLimit{}, errFleetUnavailable
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.degraded.Load() || f.synced.IsZero() || time.Since(f.synced) > f.stale {
		return 0, RateLimit{}, errFleetUnavailable
	}
	b := f.buckets[bucket]
	if b == nil {
		b = &fleetBucket{}
		f.buckets[bucket] = b
	}
	reset := time.Unix(b.Reset, 0)
	if b.Limit > 0 && f.reserve > 0 && now.Before(reset) && b.Remaining-b.pending <= keepFor(b.Limit, f.reserve) {
		return max(reset.Sub(now), time.Millisecond), b.RateLimit, nil
	}
	b.pending++
	return 0, RateLimit{}, nil
}

// attemptEnd is what came of an attempt, for the fleet.
type attemptEnd int

const (
	endNone       attemptEnd = iota // no answer, or one without a bucket's numbers
	endAnswered                     // Okta answered with the bucket's numbers
	endNotCounted                   // Okta's concurrent limit refused it: the bucket was not spent
)

// finish records what came of an attempt, in memory: an attempt admit
// counted is no longer pending, and Okta's numbers join this replica's
// picture and the next sync's. An answer that shows the bucket near its
// reserve wakes the sync, so that the others learn it soon.
func (f *fleet) finish(bucket string, counted bool, end attemptEnd, rl RateLimit, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.buckets[bucket]
	if b == nil {
		b = &fleetBucket{}
		f.buckets[bucket] = b
	}
	if counted && b.pending > 0 {
		b.pending--
	}
	if end != endAnswered || !plausible(rl, now) {
		return
	}
	rl.Remaining = min(max(rl.Remaining, 0), rl.Limit)
	if newer(rl, b.RateLimit) {
		b.RateLimit = rl
	}
	if u, ok := f.unsent[bucket]; !ok || newer(rl, u) {
		f.unsent[bucket] = rl
	}
	if rl.Remaining <= 2*keepFor(rl.Limit, f.reserve)+1 {
		select {
		case f.wake <- struct{}{}:
		default: // a sync is already due
		}
	}
}

// newer reports whether rl is a later picture of a bucket than cur: a
// newer window, or fewer remaining in the same one. The script keeps the
// fleet's picture by the same rule.
func newer(rl, cur RateLimit) bool {
	return rl.Reset > cur.Reset || (rl.Reset == cur.Reset && rl.Remaining < cur.Remaining)
}

// plausible keeps numbers the fleet could not use out of the store: Okta's
// windows reset within the hour.
func plausible(rl RateLimit, now time.Time) bool {
	return rl.Limit > 0 && rl.Limit <= 1e9 && rl.Reset > 0 && rl.Reset <= now.Add(time.Hour).Unix()
}

// run syncs at once, then every f.every and when an answer asks for it,
// until ctx ends; then it takes this replica out of the fleet.
func (f *fleet) run(ctx context.Context) {
	t := time.NewTicker(f.every)
	defer t.Stop()
	for {
		_ = f.sync(ctx)
		select {
		case <-ctx.Done():
			f.leave()
			return
		case <-t.C:
		case <-f.wake:
			// Answers near the reserve wake the sync at most once a gap.
			select {
			case <-ctx.Done():
				f.leave()
				return
			case <-time.After(f.gap):
			}
		}
	}
}

// sync is one round trip to the store: it renews this replica's
// heartbeat, publishes the answers it got since the last sync, and brings
// back the fleet's picture and this replica's share of the cap.
func (f *fleet) sync(ctx context.Context) error {
	if !f.store.Available() {
		f.fellBack(nil)
		return errFleetUnavailable
	}
	f.mu.Lock()
	unsent := f.unsent
	f.unsent = map[string]RateLimit{}
	f.mu.Unlock()
	args := make([]any, 0, 2+2*len(unsent))
	args = append(args, f.id, f.ttl.Milliseconds())
	for b, rl := range unsent {
		args = append(args, b, fmt.Sprintf("%d %d %d", rl.Limit, rl.Remaining, rl.Reset))
	}
	// The store's own timeouts bound the command.
	res, err := syncScript.Run(context.WithoutCancel(ctx), f.store.Client(), []string{f.members, f.picture}, args...).Slice()
	if err == nil {
		err = f.apply(res)
	}
	if err != nil {
		f.mu.Lock()
		for b, rl := range unsent { // sent again next time: publishing twice changes nothing
			if u, ok := f.unsent[b]; !ok || newer(rl, u) {
				f.unsent[b] = rl
			}
		}
		f.mu.Unlock()
		f.fellBack(err)
		return fmt.Errorf("%w: %w", errFleetUnavailable, err)
	}
	f.answered()
	return nil
}

// apply takes the script's answer in: the fleet's picture merged with this
// replica's own, and its share of the cap.
func (f *fleet) apply(res []any) error {
	if len(res) != 3 {
		return fmt.Errorf("fleet sync: %d values in the answer, want 3", len(res))
	}
	live, _ := res[0].(int64)
	rank, _ := res[1].(int64)
	pic, _ := res[2].([]any)
	if live < 1 || rank < 0 || rank >= live {
		return fmt.Errorf("fleet sync: %d live replicas, rank %d", live, rank)
	}
	share := fleetShare(f.max, int(live), int(rank))
	f.mu.Lock()
	for i := 0; i+1 < len(pic); i += 2 {
		name, _ := pic[i].(string)
		rl, ok := parsePicture(pic[i+1])
		if !ok {
			continue
		}
		b := f.buckets[name]
		if b == nil {
			if len(f.buckets) >= fleetMaxBuckets {
				continue // bounded whatever the store holds
			}
			b = &fleetBucket{}
			f.buckets[name] = b
		}
		if newer(rl, b.RateLimit) {
			b.RateLimit = rl
		}
	}
	f.synced, f.live, f.share = time.Now(), int(live), share
	f.mu.Unlock()
	f.inflight.setShare(share)
	return nil
}

func parsePicture(v any) (RateLimit, bool) {
	s, _ := v.(string)
	var rl RateLimit
	if n, err := fmt.Sscanf(s, "%d %d %d", &rl.Limit, &rl.Remaining, &rl.Reset); err != nil || n != 3 {
		return RateLimit{}, false
	}
	return rl, true
}

// fleetShare divides the fleet's cap among its live replicas, the
// remainder to the first by rank, so that the shares add up to the cap;
// never below one, or a replica could never call Okta (with more replicas
// than the cap, the fleet may then have one in flight per replica).
func fleetShare(capacity, live, rank int) int {
	s := capacity / live
	if rank < capacity%live {
		s++
	}
	return max(s, 1)
}

// leave takes this replica out of the fleet as it stops, so that its share
// returns to the others at once rather than when its heartbeat expires.
func (f *fleet) leave() {
	if !f.store.Available() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	f.store.Observe(f.store.Client().ZRem(ctx, f.members, f.id).Err())
}

// fellBack records that the store was found unavailable, says so once,
// and leaves this replica under its own cap.
func (f *fleet) fellBack(err error) {
	f.store.Observe(err)
	if f.degraded.CompareAndSwap(false, true) {
		f.inflight.setShare(0)
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

// ShareLimits keeps this client's picture of Okta's limits in step with
// the fleet's (WithSharedLimits) until ctx ends: it syncs at once and then
// in the background, and takes this sidecar out of the fleet as it
// returns. Until its first sync, and whenever the store does not answer,
// the client applies its own limits. Without a shared store it returns at
// once.
func (c *Client) ShareLimits(ctx context.Context) {
	if c.fleet != nil {
		c.fleet.run(ctx)
	}
}

// place takes a place for one attempt of a call on bucket: under this
// sidecar's cap (and its share of the fleet's), then on the fleet's
// picture of the bucket, which counts it as pending (counted). A bucket
// down to the share kept for people is waited out once, without holding a
// place, when the deadline allows; otherwise the call is held back.
// Without a shared store, or while its picture is not to be trusted, this
// sidecar's own picture decides. Nothing here waits on the store.
func (c *Client) place(ctx context.Context, bucket string) (s slot, counted bool, err error) {
	for waited := false; ; waited = true {
		s, err := c.limits.inflight.acquire(ctx)
		if err != nil || c.fleet == nil {
			return s, false, err
		}
		now := c.opts.now()
		hold, rl, err := c.fleet.admit(bucket, now)
		local := errors.Is(err, errFleetUnavailable)
		if local {
			hold, rl = c.limits.reserveWait(bucket, now), c.limits.last(bucket)
		}
		if hold <= 0 {
			return s, !local, nil
		}
		c.limits.inflight.done(s, resultNone)
		if waited || !fits(ctx, hold, c.opts.maxRetryWait) {
			return slot{}, false, &Error{Kind: KindRateLimited, Held: true, RetryAfter: hold, RateLimit: rl}
		}
		if err := sleep(ctx, hold); err != nil {
			return slot{}, false, err
		}
	}
}

// finishFleet tells the fleet what came of an attempt.
func (c *Client) finishFleet(bucket string, counted bool, out *Response, concurrent bool) {
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
	c.fleet.finish(bucket, counted, end, rl, c.opts.now())
}
