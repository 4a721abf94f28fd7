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

// GCRALua defines gcra(key, interval, depth, now), which reads one
// agent's bucket on the server and returns the wait until its next call
// (microseconds; 0: it may go now) and, when it may, the function that
// spends that call. It is the step the gcra script below takes, and the one
// another part's script takes to spend a budget in the same step as its own
// change (pkg/impact's count), so that both are written or neither.
//
// The bucket is a GCRA: key holds the agent's theoretical arrival time
// (TAT) in microseconds; interval is the time one call is worth (a minute
// divided by the budget), depth the bucket's depth (a minute's worth), now
// the time to use instead of the server's TIME (tests only; empty
// otherwise), so that replicas whose clocks disagree still share one
// bucket. A call is allowed when its new TAT is at most a depth ahead of
// now; a refusal writes nothing. The key expires when the bucket would be
// full again, so an idle agent, or a replica gone, leaves nothing behind.
// %d keeps all 16 digits of the microseconds (Lua's default number format
// keeps 14).
const GCRALua = `
local function gcra(key, interval, depth, at)
  local now
  if at == '' then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  else
    now = tonumber(at)
  end
  interval, depth = tonumber(interval), tonumber(depth)
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local new = tat + interval
  local wait = new - depth - now
  if wait > 0 then return wait, nil end
  return 0, function()
    redis.call('SET', key, string.format('%d', new), 'PX', math.ceil((new - now) / 1000))
  end
end
`

// gcra spends one call of an agent's budget, or says how long until one is
// available, in one step on the server: no replica reads the bucket and
// writes it back, so concurrent calls from any number of replicas are
// decided one after the other. KEYS: the bucket. ARGV: interval, depth,
// now (see GCRALua).
var gcra = redis.NewScript(GCRALua + `
local wait, spend = gcra(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
if wait > 0 then return wait end
spend()
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
	c := s.charge(agent, limit)
	us, err := gcra.Run(ctx, s.store.Client(), []string{c.Key}, c.Interval, c.Depth, c.Now).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Charge is one call of an agent's budget, as a script spends it with
// GCRALua's gcra(Key, Interval, Depth, Now).
type Charge struct {
	Key      string
	Interval int64  // microseconds one call is worth
	Depth    int64  // microseconds the bucket holds
	Now      string // "" for the server's TIME
}

// Charge is what another part's script needs to spend one call of the
// agent's budget in its own step: ok is false when the agent has no budget
// (nothing to spend). A wait above zero is a refusal that still runs, given
// with no round trip, as Spend gives it. The caller reports what its
// script answered with Refused.
func (s *Shared) Charge(agent string) (c Charge, ok bool, wait time.Duration) {
	limit := s.local.Limit(agent)
	if limit <= 0 {
		return Charge{}, false, 0
	}
	if wait, refused := s.stillRefused(agent); refused {
		return Charge{}, true, wait
	}
	return s.charge(agent, limit), true, 0
}

// Refused keeps a refusal a script spending a Charge answered, so that
// the replica repeats it until it ends, as it does Spend's.
func (s *Shared) Refused(agent string, wait time.Duration) { s.remember(agent, wait) }

func (s *Shared) charge(agent string, limit int) Charge {
	// A call is worth at least a microsecond, the script's unit: a budget
	// past 60 million a minute is that many, and the numbers stay exact.
	n := min(int64(limit), time.Minute.Microseconds())
	interval := (time.Minute.Microseconds() + n - 1) / n // rounded up: never more than the budget
	c := Charge{Key: s.key(agent), Interval: interval, Depth: interval * n}
	if s.storeClock != nil {
		c.Now = strconv.FormatInt(s.storeClock().UnixMicro(), 10)
	}
	return c
}

// key is the agent's bucket. The id is hashed: it may be long, or hold the
// separator, and the store's keys need neither. The hash is a hash tag,
// the same as the agent's impact counts' (pkg/impact), so that one script
// can spend the budget and count a destructive call in a cluster too.
func (s *Shared) key(agent string) string {
	sum := sha256.Sum256([]byte(agent))
	return s.store.Key("budget", "{"+hex.EncodeToString(sum[:16])+"}")
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
