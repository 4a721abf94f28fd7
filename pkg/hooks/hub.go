package hooks

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

var (
	// ErrClosed is returned by Publish and Subscribe once the hub is
	// closed, and by Next once a subscription has ended: its hub closed and
	// it was drained, or it was closed itself.
	ErrClosed = errors.New("hooks: closed")
	// ErrTooManySubscribers is returned by Subscribe when the hub already
	// has its maximum number of subscriptions.
	ErrTooManySubscribers = errors.New("hooks: too many subscribers")

	// errShared refuses a local Publish to a hub a Stream feeds: its
	// numbers are the fleet's, and a local one would collide with them.
	errShared = errors.New("hooks: the hub is fed by a shared stream; publish through the receiver")
)

// Hub fans published events out to subscriptions. It is safe for
// concurrent use and has no goroutines of its own.
type Hub struct {
	opts hubOptions
	base uint64 // the first sequence number

	// mu orders publishing, subscribing and closing; a subscription's own
	// lock is taken inside it, never the other way round.
	mu     sync.Mutex
	closed bool
	shared bool   // fed by a Stream: numbers are the fleet's, Publish refused
	seq    uint64 // the last sequence number given
	ring   []*Event
	head   int
	n      int
	bytes  int
	subs   map[*Subscription]struct{}
}

// NewHub returns an empty hub. Every problem with the options is reported
// at once.
func NewHub(opts ...HubOption) (*Hub, error) {
	o := defaultHubOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	// Starting at the clock in microseconds keeps numbers growing across a
	// restart (unless a process published over a million events a second),
	// so that a cursor from an earlier process is below base and known for
	// what it is. Such numbers stay below 2^53, exact in JSON as well.
	base := max(uint64(o.now().UnixMicro()), 1)
	return &Hub{opts: o, base: base, seq: base - 1,
		ring: make([]*Event, o.replay), subs: map[*Subscription]struct{}{}}, nil
}

// Publish gives each event the next sequence number, keeps it for replay
// and queues it to every subscription it matches. It never waits for a
// subscriber: one whose buffer is full loses the event and is told so. An
// event without a Received time is stamped with the hub's clock. The
// events must not be modified afterwards.
func (h *Hub) Publish(events ...*Event) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	if h.shared {
		h.mu.Unlock()
		return errShared
	}
	now := h.opts.now()
	for _, ev := range events {
		if ev.Received.IsZero() {
			ev.Received = now
		}
		h.seq++
		ev.Seq = h.seq
		h.remember(ev)
	}
	h.expire(now)
	dropped := 0
	for s := range h.subs {
		dropped += s.offer(Gap{}, events)
	}
	h.mu.Unlock()
	if dropped > 0 && h.opts.gaps != nil {
		h.opts.gaps(dropped)
	}
	return nil
}

// remember adds ev to the replay ring, forgetting the oldest events when
// the ring is full or holds too many bytes.
func (h *Hub) remember(ev *Event) {
	if len(h.ring) == 0 {
		return
	}
	if h.n == len(h.ring) {
		h.forget()
	}
	h.ring[(h.head+h.n)%len(h.ring)] = ev
	h.n++
	h.bytes += len(ev.Raw)
	for h.n > 0 && h.bytes > h.opts.replayBytes {
		h.forget()
	}
}

// expire forgets the events older than the replay window. The ring is in
// sequence order, which is time order up to concurrent deliveries racing by
// microseconds.
func (h *Hub) expire(now time.Time) {
	for h.n > 0 && now.Sub(h.ring[h.head].Received) > h.opts.maxAge {
		h.forget()
	}
}

func (h *Hub) forget() {
	h.bytes -= len(h.ring[h.head].Raw)
	h.ring[h.head] = nil
	h.head = (h.head + 1) % len(h.ring)
	h.n--
}

// Subscribe opens a subscription. Its Next yields, in order: the events
// after the cursor still in the replay ring (WithCursor), then each event
// published from now on that matches its filters.
func (h *Hub) Subscribe(opts ...SubscribeOption) (*Subscription, error) {
	o := subOptions{buffer: h.opts.buffer}
	for _, opt := range opts {
		opt(&o)
	}
	if o.buffer <= 0 || o.buffer > maxBuffer {
		return nil, fmt.Errorf("hooks: buffer %d is not within 1..%d", o.buffer, maxBuffer)
	}
	s := &Subscription{hub: h, types: o.types, filter: o.filter,
		queue: make([]entry, o.buffer), notify: make(chan struct{}, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if len(h.subs) >= h.opts.maxSubs {
		return nil, ErrTooManySubscribers
	}
	if o.cursor != 0 {
		h.expire(h.opts.now())
		h.replayTo(s, o.cursor)
	}
	h.subs[s] = struct{}{}
	return s, nil
}

// replayTo gives s the ring's events after cursor, preceded by a gap when
// the ring no longer holds all of them. It runs under h.mu, so that no
// event falls between the replay and the live queue, or lands in both.
func (h *Hub) replayTo(s *Subscription, cursor uint64) {
	var gap Gap
	if h.shared && cursor > h.seq && cursor >= h.base && cursor-h.seq <= uint64(len(h.ring)) {
		// The fleet numbered the cursor, and this replica's reader has not
		// yet relayed it (the watcher moved from a replica that was
		// ahead): nothing to replay, and what it already saw is skipped
		// when it arrives. Further ahead than the retention is made up.
		s.after = cursor
		return
	}
	if cursor < h.base-1 || cursor > h.seq {
		// Not one of ours: all this hub has is news to the subscriber.
		gap.Unknown = true
		cursor = h.base - 1
	}
	oldest := h.seq + 1 // the first event the ring still holds
	if h.n > 0 {
		oldest = h.ring[h.head].Seq
	}
	if cursor+1 < oldest {
		gap.Missed = int(oldest - cursor - 1)
	}
	for i := range h.n {
		ev := h.ring[(h.head+i)%len(h.ring)]
		if ev.Seq > cursor && s.matches(ev) {
			s.replay = append(s.replay, entry{ev: ev})
		}
	}
	if len(s.replay) > 0 {
		s.replay[0].gap = gap
	} else {
		s.tail = gap
	}
}

// Subscribers returns how many subscriptions are open, for a gauge.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Close ends the hub: Publish and Subscribe fail from now on, and every
// subscription yields what it has buffered and then ErrClosed. The replay
// ring is released. Calling it again has no effect.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for s := range h.subs {
		s.end()
	}
	clear(h.subs)
	clear(h.ring)
	h.n, h.bytes = 0, 0
}

func (h *Hub) unsubscribe(s *Subscription) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}
