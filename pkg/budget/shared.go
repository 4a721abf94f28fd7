package budget

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/state"
)

// gcra spends one call of an agent's budget, or says how long until one is
// available, in one step on the server: no replica reads the bucket and
// writes it back, so concurrent calls from any number of replicas are
// decided one after the other. The clock is the server's TIME, so that
// replicas whose clocks disagree still share one bucket.
//
// The bucket is a GCRA: KEYS[1] holds the agent's theoretical arrival time
// (TAT) in microseconds; ARGV[1] is the time one call is worth (a minute
// divided by the budget), ARGV[2] the bucket's depth (a minute's worth),
// ARGV[3] the time to use instead of TIME (tests only; empty otherwise).
// A call is allowed when its new TAT is at most a depth ahead of now; a
// refusal writes nothing and returns the wait in microseconds. The key
// expires when the bucket would be full again, so an idle agent, or a
// replica gone, leaves nothing behind. %d keeps all 16 digits of the
// microseconds (Lua's default number format keeps 14).
var gcra = redis.NewScript(`
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
else
  now = tonumber(ARGV[3])
end
local interval, depth = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new = tat + interval
local wait = new - depth - now
if wait > 0 then return wait end
redis.call('SET', KEYS[1], string.format('%d', new), 'PX', math.ceil((new - now) / 1000))
return 0
`)

// Shared is the fleet's budgets: every replica that points at the same
// store spends from one bucket per agent. It keeps no count of its own
// except the local Limiter it falls back on under deny_shared, and the
// refusals it was given, which it repeats without asking the store again
// until they end (no call can be allowed before then, by any replica:
// time alone refills a bucket).
type Shared struct {
	store      *state.Store
	local      *Limiter
	denyAll    bool
	storeClock func() time.Time // nil: the server's TIME
	now        func() time.Time

	mu         sync.Mutex
	refused    map[string]time.Time // agent → refused until, on this replica's clock
	maxRefused int
}

// SharedOption configures a Shared.
type SharedOption func(*Shared)

// WithWhenUnavailable is state.when_unavailable: deny_shared (default)
// spends from the local limiter while the store cannot be reached;
// deny_all, or anything else, refuses with state.ErrUnavailable.
func WithWhenUnavailable(mode string) SharedOption {
	return func(s *Shared) { s.denyAll = mode != config.UnavailableDenyShared }
}

// WithStoreClock replaces the server's TIME, and this replica's clock for
// the refusals it repeats, with now: for tests, which cannot stop the
// server's clock.
func WithStoreClock(now func() time.Time) SharedOption {
	return func(s *Shared) { s.storeClock, s.now = now, now }
}

// NewShared returns the fleet's budgets in store (both arguments are
// required). local gives each agent's
// budget (Limit) and is what this replica spends from while the store
// cannot be reached under deny_shared.
func NewShared(store *state.Store, local *Limiter, opts ...SharedOption) *Shared {
	s := &Shared{store: store, local: local, now: time.Now, refused: map[string]time.Time{}, maxRefused: local.maxBuckets}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Limit returns the agent's budget in calls a minute; 0 means unlimited.
func (s *Shared) Limit(agent string) int { return s.local.Limit(agent) }

// Spend takes one call from the agent's budget in the store: one round
// trip, none for an agent without a budget or one whose refusal is still
// running. While the store cannot be reached it follows
// state.when_unavailable; the error then wraps state.ErrUnavailable.
func (s *Shared) Spend(ctx context.Context, agent string) (bool, time.Duration, error) {
	limit := s.local.Limit(agent)
	if limit <= 0 {
		return true, 0, nil
	}
	if wait, ok := s.stillRefused(agent); ok {
		return false, wait, nil
	}
	if !s.store.Available() {
		return s.unavailable(agent, nil)
	}
	wait, err := s.take(ctx, agent, limit)
	if err != nil {
		if ctx.Err() != nil {
			// The caller left: not the store's fault, and not a refusal.
			return false, 0, fmt.Errorf("shared budget: %w", ctx.Err())
		}
		s.store.Observe(err)
		if state.IsUnreachable(err) {
			return s.unavailable(agent, err)
		}
		return false, 0, fmt.Errorf("shared budget: %w", err)
	}
	if wait > 0 {
		s.remember(agent, wait)
		return false, wait, nil
	}
	return true, 0, nil
}

// take runs the script for the agent: 0 when the call is allowed, the wait
// otherwise.
func (s *Shared) take(ctx context.Context, agent string, limit int) (time.Duration, error) {
	// A call is worth at least a microsecond, the script's unit: a budget
	// past 60 million a minute is that many, and the numbers stay exact.
	n := min(int64(limit), time.Minute.Microseconds())
	interval := (time.Minute.Microseconds() + n - 1) / n // rounded up: never more than the budget
	now := ""
	if s.storeClock != nil {
		now = strconv.FormatInt(s.storeClock().UnixMicro(), 10)
	}
	us, err := gcra.Run(ctx, s.store.Client(), []string{s.key(agent)}, interval, interval*n, now).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(us) * time.Microsecond, nil
}

// key is the agent's bucket. The id is hashed: it may be long, or hold the
// separator, and the store's keys need neither.
func (s *Shared) key(agent string) string {
	sum := sha256.Sum256([]byte(agent))
	return s.store.Key("budget", hex.EncodeToString(sum[:16]))
}

// unavailable applies state.when_unavailable to a call the store could not
// decide. Nothing spent here is sent to the store later: when it comes
// back, the fleet's buckets go on from what they held.
func (s *Shared) unavailable(agent string, cause error) (bool, time.Duration, error) {
	if s.denyAll {
		if cause == nil {
			return false, 0, fmt.Errorf("shared budget: %w", state.ErrUnavailable)
		}
		return false, 0, fmt.Errorf("shared budget: %w: %w", state.ErrUnavailable, cause)
	}
	ok, wait := s.local.Allow(agent)
	return ok, wait, nil
}

// stillRefused reports a refusal the store gave this agent that has not
// yet run out, and what is left of it.
func (s *Shared) stillRefused(agent string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.refused[agent]
	if !ok {
		return 0, false
	}
	left := until.Sub(s.now())
	if left <= 0 {
		delete(s.refused, agent)
		return 0, false
	}
	return left, true
}

// remember keeps a refusal until it runs out. Its end is counted from
// when the answer arrived, after the store decided, so the replica refuses
// no longer than the store would, give or take one round trip, and an
// agent that waits what it was told is never refused here. When the map is
// full of live refusals, this one is not kept: forgetting costs a round
// trip, never a call too many.
func (s *Shared) remember(agent string, wait time.Duration) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refused) >= s.maxRefused {
		for id, until := range s.refused {
			if !until.After(now) {
				delete(s.refused, id)
			}
		}
		if len(s.refused) >= s.maxRefused {
			return
		}
	}
	s.refused[agent] = now.Add(wait)
}
