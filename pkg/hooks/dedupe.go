package hooks

import (
	"sync"
	"time"
)

// dedupe remembers the uuids seen in a window, in arrival order, so that
// the oldest is the one forgotten whether the window or the capacity runs
// out. A uuid is in the map exactly when it is in the queue, once.
type dedupe struct {
	window   time.Duration
	capacity int

	mu    sync.Mutex
	seen  map[string]struct{}
	queue []seenUUID // a ring, grown up to capacity as needed
	head  int
	n     int
}

type seenUUID struct {
	uuid string
	at   time.Time
}

func newDedupe(window time.Duration, capacity int) *dedupe {
	return &dedupe{window: window, capacity: capacity, seen: map[string]struct{}{}}
}

// split marks every event whose uuid is new in the window (or earlier in
// the batch) and returns them; the rest are duplicates. One lock for the
// batch makes concurrent deliveries of the same event agree on one winner.
func (d *dedupe) split(events []*Event, now time.Time) (fresh []*Event, dups []string) {
	fresh = make([]*Event, 0, len(events))
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	for _, ev := range events {
		if d.add(ev.UUID, now) {
			fresh = append(fresh, ev)
		} else {
			dups = append(dups, ev.UUID)
		}
	}
	return fresh, dups
}

// add records uuid and reports whether it was new.
func (d *dedupe) add(uuid string, now time.Time) bool {
	if _, ok := d.seen[uuid]; ok {
		return false
	}
	if d.n == len(d.queue) {
		if d.n == d.capacity {
			d.evict()
		} else {
			d.grow()
		}
	}
	d.queue[(d.head+d.n)%len(d.queue)] = seenUUID{uuid: uuid, at: now}
	d.n++
	d.seen[uuid] = struct{}{}
	return true
}

// expire forgets the uuids older than the window. Arrival order is time
// order, up to a clock step backwards, which only delays a forgetting.
func (d *dedupe) expire(now time.Time) {
	for d.n > 0 && now.Sub(d.queue[d.head].at) >= d.window {
		d.evict()
	}
}

func (d *dedupe) evict() {
	delete(d.seen, d.queue[d.head].uuid)
	d.queue[d.head] = seenUUID{}
	d.head = (d.head + 1) % len(d.queue)
	d.n--
}

// grow doubles the ring (up to capacity), so that a quiet receiver holds
// little memory and a busy one reaches its bound.
func (d *dedupe) grow() {
	size := min(max(2*len(d.queue), 64), d.capacity)
	q := make([]seenUUID, size)
	for i := range d.n {
		q[i] = d.queue[(d.head+i)%len(d.queue)]
	}
	d.queue, d.head = q, 0
}

func (d *dedupe) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}
