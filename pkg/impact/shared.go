package impact

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/state"
)

// countsTTL keeps an agent's buckets for the day window, which rounds
// outwards by up to an hour, and an hour more: after that they count for
// nothing, so they expire with an idle agent or a dead replica's writes.
const countsTTL = 26 * time.Hour

// maxViews bounds how many agents' counts a replica remembers. Past it the
// views are forgotten at once: a forgotten view costs its agent's next
// destructive call one more round trip, never a count.
const maxViews = 10_000

// Shared counts destructive calls for a fleet in the store it shares.
// Per agent, one key under the store's prefix:
//
//	impact:{tag}:n  a hash of minute buckets (m<unix minute>) and hour
//	                buckets (h<unix hour>), trimmed on every count
//
// where tag is a hash of the agent id. A call is decided against the
// replica's view of those buckets, with no round trip; Count then counts
// it in one script, only if the store's counts are still the ones decided
// against (else ErrCountsMoved with the store's buckets, and the call is
// decided again). The decision is a function of the counts, so a call
// counted this way was decided against exactly the fleet's counts, and N
// replicas never exceed a limit between them; nothing is locked in the
// store, so a replica that dies blocks no one.
type Shared struct {
	store *state.Store
	now   func() time.Time

	mu    sync.Mutex
	turns map[string]*turn // agents held or awaited in this process
	views map[string]*view // what this replica last learnt of agents' buckets
}

// turn queues this process's calls of one agent, so that they are decided
// one after the other and never move each other's counts.
type turn struct {
	ch   chan struct{}
	refs int
}

// SharedOption configures a Shared tracker.
type SharedOption func(*Shared)

// WithSharedClock replaces the clock that places calls in buckets, for
// tests. Every replica of a fleet should agree on the time (NTP): a window
// is counted by the clock of the replica counting; replicas that disagree
// about the minute only decide a call again.
func WithSharedClock(now func() time.Time) SharedOption {
	return func(s *Shared) { s.now = now }
}

// NewShared returns a tracker keeping its counts in store.
func NewShared(store *state.Store, opts ...SharedOption) *Shared {
	s := &Shared{store: store, now: time.Now, turns: map[string]*turn{}, views: map[string]*view{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Counts are the agent's counts as this replica last learnt them, with its
// own calls since: no round trip, and never more than the fleet's while
// the store keeps what it is given.
func (s *Shared) Counts(agent string) Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.views[agent]; v != nil {
		return v.counts(s.now())
	}
	return Counts{}
}

// count counts a call when the agent's counts in the windows are still the
// expected ones, trimming buckets out of both windows: 1. Otherwise it
// writes nothing and answers the agent's buckets (field, count, ...), so
// that the replica decides again against them. With a second key it also
// spends one call of the agent's budget there (budget.GCRALua), in the same
// step: a refusal writes nothing and answers minus the wait in
// microseconds. KEYS: counts[, budget]. ARGV: expected hour, expected day,
// unix minute, unix hour, counts TTL (s)[, the budget's interval, depth,
// now].
var count = redis.NewScript(budget.GCRALua + `
local spend
if #KEYS > 1 then
	local wait
	wait, spend = gcra(KEYS[2], ARGV[6], ARGV[7], ARGV[8])
	if wait > 0 then return -wait end
end
local minute, hour = tonumber(ARGV[3]), tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
local h, d, old = 0, 0, {}
for i = 1, #all, 2 do
	local kind, at, n = string.sub(all[i], 1, 1), tonumber(string.sub(all[i], 2)), tonumber(all[i + 1])
	if kind == 'm' then
		if at >= minute - 60 and at <= minute then h = h + n elseif at < minute - 60 then old[#old + 1] = all[i] end
	elseif at >= hour - 24 and at <= hour then
		d = d + n
	elseif at < hour - 24 then
		old[#old + 1] = all[i]
	end
end
if h ~= tonumber(ARGV[1]) or d ~= tonumber(ARGV[2]) then return all end
redis.call('HINCRBY', KEYS[1], 'm' .. minute, 1)
redis.call('HINCRBY', KEYS[1], 'h' .. hour, 1)
if #old > 0 then redis.call('HDEL', KEYS[1], unpack(old)) end
redis.call('EXPIRE', KEYS[1], ARGV[5])
if spend then spend() end
return 1
`)

// Hold takes the agent's turn in this process and returns the counts to
// decide against, from this replica's view: no round trip. Waiting for the
// turn ends with ctx.
func (s *Shared) Hold(ctx context.Context, agent string) (Hold, error) {
	t, err := s.queue(ctx, agent)
	if err != nil {
		return nil, fmt.Errorf("impact: wait for the agent's turn: %w", err)
	}
	return &sharedHold{s: s, agent: agent, turn: t, key: s.key(agent), counts: s.Counts(agent)}, nil
}

// key is the agent's counts key. The agent id is hashed: any id makes a
// short key; the hash tag keeps the key's slot its own in a cluster.
func (s *Shared) key(agent string) string {
	sum := sha256.Sum256([]byte(agent))
	return s.store.Key("impact", "{"+hex.EncodeToString(sum[:16])+"}", "n")
}

// queue waits for this process's turn with the agent.
func (s *Shared) queue(ctx context.Context, agent string) (*turn, error) {
	s.mu.Lock()
	t := s.turns[agent]
	if t == nil {
		t = &turn{ch: make(chan struct{}, 1)}
		s.turns[agent] = t
	}
	t.refs++
	s.mu.Unlock()
	select {
	case t.ch <- struct{}{}:
		return t, nil
	case <-ctx.Done():
		s.forget(agent, t)
		return nil, ctx.Err()
	}
}

// leave ends this process's turn with the agent.
func (s *Shared) leave(agent string, t *turn) {
	<-t.ch
	s.forget(agent, t)
}

func (s *Shared) forget(agent string, t *turn) {
	s.mu.Lock()
	if t.refs--; t.refs == 0 {
		delete(s.turns, agent)
	}
	s.mu.Unlock()
}

// learn updates the replica's view of the agent: f changes it (nil: a new
// view is made).
func (s *Shared) learn(agent string, f func(*view)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[agent]
	if v == nil {
		if len(s.views) >= maxViews {
			clear(s.views)
		}
		v = &view{}
		s.views[agent] = v
	}
	f(v)
}

// sharedHold is a destructive call holding its agent's turn.
type sharedHold struct {
	s      *Shared
	agent  string
	turn   *turn
	key    string
	counts Counts
	ended  bool
}

func (h *sharedHold) Counts() Counts { return h.counts }

// Count counts the call in one round trip, if the store's counts are still
// h.counts; else ErrCountsMoved, with h.counts the store's. A store that
// cannot be used refuses the call: an error wrapping state.ErrUnavailable,
// and nothing counted twice, as the client does not retry.
func (h *sharedHold) Count(ctx context.Context) error {
	_, err := h.count(ctx, nil)
	return err
}

// CountCharging is Count that also spends c, in the same script: both are
// written or neither. A wait above zero is the budget's refusal (nothing
// counted, the hold still held).
func (h *sharedHold) CountCharging(ctx context.Context, c budget.Charge) (time.Duration, error) {
	return h.count(ctx, &c)
}

func (h *sharedHold) count(ctx context.Context, c *budget.Charge) (time.Duration, error) {
	if h.ended {
		return 0, nil
	}
	now := h.s.now()
	keys := []string{h.key}
	args := []any{h.counts.Hour, h.counts.Day, now.Unix() / 60, now.Unix() / 3600, int64(countsTTL / time.Second)}
	if c != nil {
		keys = append(keys, c.Key)
		args = append(args, c.Interval, c.Depth, c.Now)
	}
	res, err := count.Run(ctx, h.s.store.Client(), keys, args...).Result()
	if err != nil {
		return 0, h.s.failed(ctx, "count", err)
	}
	switch res := res.(type) {
	case int64:
		if res < 0 && c != nil {
			return time.Duration(-res) * time.Microsecond, nil
		}
		if res != 1 {
			break
		}
		h.s.learn(h.agent, func(v *view) { v.add(now) })
		h.Release()
		return 0, nil
	case []any:
		buckets, err := parseBuckets(res)
		if err != nil {
			return 0, fmt.Errorf("impact: %w: %w", state.ErrUnavailable, err)
		}
		h.s.learn(h.agent, func(v *view) { v.set(buckets); h.counts = v.counts(now) })
		return 0, ErrCountsMoved
	}
	return 0, fmt.Errorf("impact: %w: unexpected answer %v", state.ErrUnavailable, res)
}

func (h *sharedHold) Release() {
	if h.ended {
		return
	}
	h.ended = true
	h.s.leave(h.agent, h.turn)
}

// failed reports a command that did not get an answer from the store: the
// caller's own cancellation as such, anything else as the store being
// unavailable.
func (s *Shared) failed(ctx context.Context, op string, err error) error {
	s.store.Observe(err)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return fmt.Errorf("impact: %s: %w", op, err)
	}
	return fmt.Errorf("impact: %s: %w: %w", op, state.ErrUnavailable, err)
}

// parseBuckets reads an agent's hash as HGETALL answers it.
func parseBuckets(flat []any) (map[string]int, error) {
	if len(flat)%2 != 0 {
		return nil, fmt.Errorf("odd bucket list of %d", len(flat))
	}
	out := make(map[string]int, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		f, ok1 := flat[i].(string)
		n, ok2 := flat[i+1].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("bucket %v=%v is not text", flat[i], flat[i+1])
		}
		c, err := strconv.Atoi(n)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", f, err)
		}
		out[f] = c
	}
	return out, nil
}
