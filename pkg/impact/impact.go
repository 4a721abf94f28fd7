package impact

import (
	"errors"
	"sync"
	"time"
)

// ErrTooManyAgents is returned by Begin when the counter already tracks its
// maximum number of agents with recent activity. The caller must refuse the
// call: an agent the counter cannot track has no limit.
var ErrTooManyAgents = errors.New("impact: too many agents with recent destructive calls")

// Counts are an agent's destructive calls in the sliding windows, not
// counting the call being decided.
type Counts struct {
	Hour int
	Day  int
}

// Counter counts destructive calls per agent. It is safe for concurrent use.
type Counter struct {
	now       func() time.Time
	maxAgents int

	mu     sync.Mutex
	agents map[string]*history
}

// history is one agent's calls: a ring of 61 minute buckets and one of 25
// hour buckets (a window plus the bucket it starts in), each bucket stamped with the minute or hour it counts so
// that a stale bucket reads as empty.
type history struct {
	mu      sync.Mutex // held from Begin to Done
	minutes [61]bucket
	hours   [25]bucket
	last    int64 // unix minute of the newest call
}

type bucket struct {
	at int64 // unix minute or hour
	n  uint32
}

// Option configures a Counter.
type Option func(*Counter)

// WithClock replaces the clock, for tests.
func WithClock(now func() time.Time) Option { return func(c *Counter) { c.now = now } }

// WithMaxAgents bounds how many agents are tracked at once (default
// 100,000). Agents with no call in the last day do not count against it.
func WithMaxAgents(n int) Option { return func(c *Counter) { c.maxAgents = n } }

// New returns an empty counter.
func New(opts ...Option) *Counter {
	c := &Counter{now: time.Now, maxAgents: 100_000, agents: map[string]*history{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Counts returns the agent's counts without holding its counter, for calls
// that are not destructive.
func (c *Counter) Counts(agent string) Counts {
	c.mu.Lock()
	h := c.agents[agent]
	c.mu.Unlock()
	if h == nil {
		return Counts{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts(c.now())
}

// Pending is a destructive call between its decision and Done.
type Pending struct {
	c      *Counter
	h      *history
	counts Counts
	done   bool
}

// Counts are the agent's counts before this call.
func (p *Pending) Counts() Counts { return p.counts }

// Done releases the agent's counter, counting the call when sent is true.
// Calling it more than once has no further effect.
func (p *Pending) Done(sent bool) {
	if p.done {
		return
	}
	p.done = true
	if sent {
		p.h.add(p.c.now())
	}
	p.h.mu.Unlock()
}

// Begin holds the agent's counter and returns its counts. The caller must
// call Done on the result.
func (c *Counter) Begin(agent string) (*Pending, error) {
	h, err := c.history(agent)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	return &Pending{c: c, h: h, counts: h.counts(c.now())}, nil
}

func (c *Counter) history(agent string) (*history, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.agents[agent]; h != nil {
		return h, nil
	}
	if len(c.agents) >= c.maxAgents {
		c.sweep()
		if len(c.agents) >= c.maxAgents {
			return nil, ErrTooManyAgents
		}
	}
	h := &history{}
	c.agents[agent] = h
	return h, nil
}

// sweep forgets agents whose last call is more than a day old. An agent
// whose counter is held right now is kept.
func (c *Counter) sweep() {
	cutoff := c.now().Unix()/60 - 25*60
	for id, h := range c.agents {
		if !h.mu.TryLock() {
			continue
		}
		if h.last < cutoff {
			delete(c.agents, id)
		}
		h.mu.Unlock()
	}
}

func (h *history) counts(now time.Time) Counts {
	minute, hour := now.Unix()/60, now.Unix()/3600
	var out Counts
	// The current minute and the 60 before it; the current hour and the 24
	// before it: both windows round outwards, never in.
	for _, b := range h.minutes {
		if b.at >= minute-60 && b.at <= minute {
			out.Hour += int(b.n)
		}
	}
	for _, b := range h.hours {
		if b.at >= hour-24 && b.at <= hour {
			out.Day += int(b.n)
		}
	}
	return out
}

func (h *history) add(now time.Time) {
	minute, hour := now.Unix()/60, now.Unix()/3600
	h.last = max(h.last, minute)
	mb := &h.minutes[minute%61]
	if mb.at != minute {
		*mb = bucket{at: minute}
	}
	mb.n++
	hb := &h.hours[hour%25]
	if hb.at != hour {
		*hb = bucket{at: hour}
	}
	hb.n++
}
