package hooks

import (
	"context"
	"sync"
)

// Subscription is one subscriber's view of a hub: a bounded queue of the
// events it matches. Next is meant for one goroutine; Close may be called
// from any.
type Subscription struct {
	hub    *Hub
	after  uint64 // events up to this number were seen elsewhere: skipped
	types  map[string]bool
	filter func(*Event) bool
	// notify wakes a waiting Next. One slot is enough: Next looks at the
	// whole queue each time it wakes.
	notify chan struct{}

	mu     sync.Mutex
	replay []entry // the replayed events, yielded first
	queue  []entry // a ring of the buffer's size
	head   int
	n      int
	tail   Gap  // lost after the last queued event
	ended  bool // the hub closed: drain, then ErrClosed
	closed bool // Close was called: ErrClosed at once
}

// entry is a queued event and the gap just before it.
type entry struct {
	ev  *Event
	gap Gap
}

func (s *Subscription) matches(ev *Event) bool {
	if s.types != nil && !s.types[ev.Type] {
		return false
	}
	return s.filter == nil || s.filter(ev)
}

// offer queues the events that match, after lost (events the hub itself
// lost before them), and returns how many of those were dropped because
// the buffer was full. Called by the hub under its lock.
func (s *Subscription) offer(lost Gap, events []*Event) (dropped int) {
	s.mu.Lock()
	queued := lost.any()
	s.tail.Missed += lost.Missed
	s.tail.Unknown = s.tail.Unknown || lost.Unknown
	for _, ev := range events {
		if ev.Seq <= s.after || !s.matches(ev) {
			continue
		}
		if s.n == len(s.queue) {
			s.tail.Missed++
			dropped++
			continue
		}
		s.queue[(s.head+s.n)%len(s.queue)] = entry{ev: ev, gap: s.tail}
		s.tail = Gap{}
		s.n++
		queued = true
	}
	s.mu.Unlock()
	if queued {
		s.wake()
	}
	return dropped
}

func (s *Subscription) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Next returns the next message: an event, or a Gap saying how many events
// were lost before the next one. It waits for one until ctx ends (and then
// returns ctx's error). Once the hub is closed it returns what was buffered
// and then ErrClosed; once the subscription is closed, ErrClosed at once.
func (s *Subscription) Next(ctx context.Context) (Message, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return Message{}, ErrClosed
		}
		m, ok := s.pop()
		more := s.pending()
		ended := s.ended
		s.mu.Unlock()
		if ok {
			if more {
				s.wake() // in case another goroutine waits in Next too
			}
			return m, nil
		}
		if ended {
			return Message{}, ErrClosed
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		}
	}
}

// NextBatch waits like Next for a message, then returns it with the
// messages already waiting behind it, at most max in all: what arrived
// together (one delivery's events) is handled together.
func (s *Subscription) NextBatch(ctx context.Context, max int) ([]Message, error) {
	m, err := s.Next(ctx)
	if err != nil {
		return nil, err
	}
	out := []Message{m}
	s.mu.Lock()
	for len(out) < max && !s.closed {
		m, ok := s.pop()
		if !ok {
			break
		}
		out = append(out, m)
	}
	more := s.pending()
	s.mu.Unlock()
	if more {
		s.wake()
	}
	return out, nil
}

// pop takes the next message: replayed events, then the queue, then a gap
// after the last queued event. A gap before an event is yielded on its own,
// leaving the event for the next call.
func (s *Subscription) pop() (Message, bool) {
	var e *entry
	switch {
	case len(s.replay) > 0:
		e = &s.replay[0]
	case s.n > 0:
		e = &s.queue[s.head]
	case s.tail.any():
		g := s.tail
		s.tail = Gap{}
		return Message{Gap: &g}, true
	default:
		return Message{}, false
	}
	if e.gap.any() {
		g := e.gap
		e.gap = Gap{}
		return Message{Gap: &g}, true
	}
	ev := e.ev
	*e = entry{} // let the event go once every holder has
	if len(s.replay) > 0 {
		s.replay = s.replay[1:]
		if len(s.replay) == 0 {
			s.replay = nil
		}
	} else {
		s.head = (s.head + 1) % len(s.queue)
		s.n--
	}
	return Message{Event: ev}, true
}

func (s *Subscription) pending() bool { return len(s.replay) > 0 || s.n > 0 || s.tail.any() }

// end marks the hub closed; called by the hub under its lock.
func (s *Subscription) end() {
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	s.wake()
}

// Close ends the subscription and releases its buffer; a Next waiting on
// it returns ErrClosed. Calling it again has no effect.
func (s *Subscription) Close() {
	s.hub.unsubscribe(s)
	s.mu.Lock()
	s.closed = true
	s.replay, s.queue, s.n = nil, nil, 0
	s.mu.Unlock()
	s.wake()
}
