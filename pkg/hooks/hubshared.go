package hooks

// The hub's side of a shared Stream: the stream's reader hands it events
// the fleet numbered, instead of Publish numbering them here. Numbers are
// dense within one incarnation of the stream (from its zero, a time in
// microseconds like a local hub's base), so the replay ring, cursors and
// gap counts work exactly as they do for a hub of one process.

// share marks the hub as fed by a stream: Publish is refused from now on.
func (h *Hub) share() {
	h.mu.Lock()
	h.shared = true
	h.mu.Unlock()
}

// rebase starts a new incarnation of the numbering: events after zero. The
// ring's events belong to the old one and are forgotten; a cursor from it
// is below the new base and answered with an Unknown gap.
func (h *Hub) rebase(zero uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rebaseLocked(zero)
}

func (h *Hub) rebaseLocked(zero uint64) {
	for h.n > 0 {
		h.forget()
	}
	h.base, h.seq = zero+1, zero
}

// prime fills the replay ring with the stream's retained events (oldest
// first), without offering them to anyone: they are history, for cursors.
func (h *Hub) prime(zero uint64, events []*Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rebaseLocked(zero)
	for _, ev := range events {
		h.seq = ev.Seq
		h.remember(ev)
	}
	h.expire(h.opts.now())
}

// relay remembers events the stream numbered and offers them to every
// subscription, after lost: the events this replica's reader could not
// get (trimmed before it read them, or gone with a restarted store). Each
// subscription skips what it saw before it moved here. An event numbered
// at or below the last relayed one is skipped too: nothing twice.
func (h *Hub) relay(lost Gap, events []*Event) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	fresh := events[:0:0]
	for _, ev := range events {
		if ev.Seq > h.seq {
			h.seq = ev.Seq
			h.remember(ev)
			fresh = append(fresh, ev)
		}
	}
	h.expire(h.opts.now())
	dropped := 0
	if lost.any() || len(fresh) > 0 {
		for s := range h.subs {
			dropped += s.offer(lost, fresh)
		}
	}
	h.mu.Unlock()
	if dropped > 0 && h.opts.gaps != nil {
		h.opts.gaps(dropped)
	}
	return nil
}

// last is the number of the last event relayed.
func (h *Hub) last() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}
