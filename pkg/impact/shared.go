package impact

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/state"
)

// ErrHoldLost is returned by a shared Hold's Done(true) when the agent's
// lease ran out before the call was counted: another replica may since
// have decided against counts without this call, so it must not go.
var ErrHoldLost = errors.New("impact: the agent's hold ran out before the call was counted")

// DefaultLease is how long a replica holds an agent fleet-wide unless
// WithLease says otherwise: far longer than a decision and its intent
// record take, and the longest a replica that dies holding an agent
// blocks it.
const DefaultLease = 10 * time.Second

// countsTTL keeps an agent's buckets for the day window, which rounds
// outwards by up to an hour, and an hour more: after that they count for
// nothing, so they expire with an idle agent or a dead replica's writes.
const countsTTL = 26 * time.Hour

// Shared counts destructive calls for a fleet in the store it shares.
// Per agent, two keys under the store's prefix, in one hash slot:
//
//	impact:{tag}:hold  the fleet-wide hold: a random token, with a lease
//	impact:{tag}:n     a hash of minute buckets (m<unix minute>) and hour
//	                   buckets (h<unix hour>), trimmed on every count
//
// where tag is a hash of the agent id. Taking the hold reads the counts in
// the same script (one round trip); Done counts the call and releases the
// hold in another (one round trip), only while this replica's token still
// holds it.
type Shared struct {
	store *state.Store
	now   func() time.Time
	lease time.Duration
	// local counts this replica's own calls: Counts answers from it, with
	// no round trip, a lower bound of the fleet's counts.
	local *Counter

	mu    sync.Mutex
	turns map[string]*turn // agents held or awaited in this process
}

// turn queues this process's calls of one agent, so that one of them at a
// time asks the store for the agent.
type turn struct {
	ch   chan struct{}
	refs int
}

// SharedOption configures a Shared tracker.
type SharedOption func(*Shared)

// WithSharedClock replaces the clock that places calls in buckets, for
// tests. Every replica of a fleet should agree on the time (NTP): a window
// is counted by the clock of the replica asking.
func WithSharedClock(now func() time.Time) SharedOption {
	return func(s *Shared) { s.now = now; s.local.now = now }
}

// WithLease sets how long a hold lasts without Done (default DefaultLease):
// longer than the slowest decision, confirmation and intent record, since a
// call still held past it is refused rather than counted.
func WithLease(d time.Duration) SharedOption { return func(s *Shared) { s.lease = d } }

// NewShared returns a tracker keeping its counts in store.
func NewShared(store *state.Store, opts ...SharedOption) *Shared {
	s := &Shared{store: store, now: time.Now, lease: DefaultLease, local: New(), turns: map[string]*turn{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Counts are the calls this replica sent in the windows: no round trip,
// never more than the fleet's counts. Only a destructive call's own
// decision needs the fleet's, and Hold reads them.
func (s *Shared) Counts(agent string) Counts { return s.local.Counts(agent) }

// begin takes the hold if no one has it; else it answers how long the
// holder's lease has left. KEYS: hold, counts. ARGV: token, lease (ms),
// unix minute, unix hour.
var begin = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
	return {0, redis.call('PTTL', KEYS[1])}
end
local minute, hour = tonumber(ARGV[3]), tonumber(ARGV[4])
local h, d = 0, 0
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
	local at, n = tonumber(string.sub(all[i], 2)), tonumber(all[i + 1])
	if string.sub(all[i], 1, 1) == 'm' then
		if at >= minute - 60 and at <= minute then h = h + n end
	elseif at >= hour - 24 and at <= hour then
		d = d + n
	end
end
return {1, h, d}
`)

// done releases the hold if this token still has it, first counting the
// call when sent is 1 and trimming buckets out of both windows; 0 when the
// token lost the hold (nothing written). KEYS: hold, counts. ARGV: token,
// sent, unix minute, unix hour, counts TTL (s).
var done = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '1' then return 1 end
local minute, hour = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('HINCRBY', KEYS[2], 'm' .. minute, 1)
redis.call('HINCRBY', KEYS[2], 'h' .. hour, 1)
for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
	local at = tonumber(string.sub(f, 2))
	if (string.sub(f, 1, 1) == 'm' and at < minute - 60) or (string.sub(f, 1, 1) == 'h' and at < hour - 24) then
		redis.call('HDEL', KEYS[2], f)
	end
end
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 1
`)

// Hold takes the agent's hold for the fleet and reads its counts, in one
// round trip when no one holds it; otherwise it waits, asking again no
// later than the holder's lease ends, until ctx ends. A store that cannot
// be used refuses the call: an error wrapping state.ErrUnavailable.
func (s *Shared) Hold(ctx context.Context, agent string) (Hold, error) {
	t, err := s.queue(ctx, agent)
	if err != nil {
		return nil, fmt.Errorf("impact: wait for the agent's hold: %w", err)
	}
	h := &sharedHold{s: s, agent: agent, turn: t, keys: s.keys(agent), token: rand.Text()}
	if err := h.take(ctx); err != nil {
		s.leave(agent, t)
		return nil, err
	}
	return h, nil
}

// keys are the agent's hold and counts keys. The agent id is hashed: any
// id makes a short key, and a hash tag keeps both in one slot of a
// cluster, which a script needs.
func (s *Shared) keys(agent string) []string {
	sum := sha256.Sum256([]byte(agent))
	tag := "{" + hex.EncodeToString(sum[:16]) + "}"
	return []string{s.store.Key("impact", tag, "hold"), s.store.Key("impact", tag, "n")}
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

// maxPoll is the longest a waiting call goes without asking the store
// again: a holder usually releases long before its lease ends.
const maxPoll = 20 * time.Millisecond

// sharedHold is a destructive call holding its agent for the fleet.
type sharedHold struct {
	s      *Shared
	agent  string
	turn   *turn
	keys   []string
	token  string
	counts Counts
	ended  bool
}

func (h *sharedHold) take(ctx context.Context) error {
	wait := time.Millisecond
	for {
		now := h.s.now()
		res, err := begin.Run(ctx, h.s.store.Client(), h.keys, h.token, h.s.lease.Milliseconds(), now.Unix()/60, now.Unix()/3600).Int64Slice()
		if err != nil {
			return h.s.failed(ctx, "hold", err)
		}
		if len(res) == 3 && res[0] == 1 {
			h.counts = Counts{Hour: int(res[1]), Day: int(res[2])}
			return nil
		}
		if len(res) != 2 {
			return fmt.Errorf("impact: %w: unexpected answer %v", state.ErrUnavailable, res)
		}
		// Held elsewhere: ask again soon, and at the latest when its lease
		// ends (a dead holder's lease is all that is left of it).
		d := min(wait, max(time.Duration(res[1])*time.Millisecond, time.Millisecond))
		wait = min(2*wait, maxPoll)
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("impact: wait for the agent's hold: %w", ctx.Err())
		case <-timer.C:
		}
	}
}

func (h *sharedHold) Counts() Counts { return h.counts }

// Done counts the call when sent (only while this hold is still the
// agent's: else ErrHoldLost) and releases the agent, in one round trip. It
// outlives the call's context, so that a cancelled call still releases:
// the client's own timeouts bound it.
func (h *sharedHold) Done(sent bool) error {
	if h.ended {
		return nil
	}
	h.ended = true
	defer h.s.leave(h.agent, h.turn)
	ctx := context.Background()
	now := h.s.now()
	flag := "0"
	if sent {
		flag = "1"
	}
	ok, err := done.Run(ctx, h.s.store.Client(), h.keys, h.token, flag, now.Unix()/60, now.Unix()/3600, int64(countsTTL/time.Second)).Int64()
	switch {
	case err != nil:
		// Not counted, or counted without an answer: never twice, as the
		// client does not retry. An unreleased hold ends with its lease.
		return h.s.failed(ctx, "done", err)
	case ok == 0 && sent:
		return fmt.Errorf("impact: %w: %w", state.ErrUnavailable, ErrHoldLost)
	case sent:
		if p, err := h.s.local.Begin(h.agent); err == nil {
			p.Done(true)
		}
	}
	return nil
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
