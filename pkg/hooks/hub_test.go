package hooks

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestHub(t testing.TB, opts ...HubOption) (*Hub, *clock) {
	t.Helper()
	clk := newClock()
	h, err := NewHub(append([]HubOption{WithHubClock(clk.now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, clk
}

func TestResume(t *testing.T) {
	ids := uuids("u", 10)
	// A hub that published ids and holds the last 4 for a minute.
	setup := func(t *testing.T) (*Hub, *clock, []uint64) {
		h, clk := newTestHub(t, WithReplay(4, 1<<20, time.Minute))
		var seqs []uint64
		for _, e := range publish(t, h, ids...) {
			seqs = append(seqs, e.Seq)
		}
		return h, clk, seqs
	}
	_, _, seq := setup(t) // every hub started at the same time numbers alike
	for _, tc := range []struct {
		name   string
		cursor uint64
		opts   []SubscribeOption
		want   []string
		noLive bool // the filter drops the live event too
	}{
		{"no cursor", 0, nil, nil, false},
		{"inside the ring", seq[6], nil, []string{ids[7], ids[8], ids[9]}, false},
		{"just before the ring", seq[5], nil, []string{ids[6], ids[7], ids[8], ids[9]}, false},
		{"older than the ring", seq[2], nil, []string{"gap:3", ids[6], ids[7], ids[8], ids[9]}, false},
		{"up to date", seq[9], nil, nil, false},
		// Before this hub started: a restart. Unknown, and the hub's own
		// losses counted.
		{"from before a restart", seq[0] - 1000, nil, []string{"gap:?6", ids[6], ids[7], ids[8], ids[9]}, false},
		{"from the future", seq[9] + 1000, nil, []string{"gap:?6", ids[6], ids[7], ids[8], ids[9]}, false},
		// The gap counts every event lost, the replay only those that match.
		{"filtered", seq[2], []SubscribeOption{WithFilter(func(e *Event) bool { return e.UUID != ids[7] })},
			[]string{"gap:3", ids[6], ids[8], ids[9]}, false},
		{"filtered to nothing", seq[2], []SubscribeOption{WithTypes("user.session.start")}, []string{"gap:3"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _, _ := setup(t)
			s := subscribe(t, h, append(tc.opts, WithCursor(tc.cursor))...)
			expect(t, s, tc.want...)
			expectNothing(t, s)
			// Live events follow the replay, once.
			publish(t, h, "live")
			if !tc.noLive {
				expect(t, s, "live")
			}
			expectNothing(t, s)
		})
	}
	t.Run("aged out", func(t *testing.T) {
		h, clk, seq := setup(t)
		clk.add(time.Minute + time.Second)
		s := subscribe(t, h, WithCursor(seq[8]))
		expect(t, s, "gap:1")
		publish(t, h, "after")
		expect(t, s, "after")
	})
}

// The ring forgets the oldest events when they hold too many bytes.
func TestReplayBytes(t *testing.T) {
	size := len(ev("u-0000", "user.lifecycle.create"))
	h, _ := newTestHub(t, WithReplay(100, 3*size, time.Minute))
	events := publish(t, h, uuids("u", 10)...)
	s := subscribe(t, h, WithCursor(events[0].Seq))
	expect(t, s, "gap:6", "u-0007", "u-0008", "u-0009")

	off, _ := newTestHub(t, WithReplay(0, 0, 0))
	events = publish(t, off, "a", "b")
	expect(t, subscribe(t, off, WithCursor(events[0].Seq)), "gap:1")
}

// A slow subscriber loses events, never the others; it is told how many
// in the place they were lost.
func TestGapOrder(t *testing.T) {
	h, _ := newTestHub(t)
	slow := subscribe(t, h, WithBuffer(2))
	fast := subscribe(t, h, WithBuffer(100))
	publish(t, h, "a", "b", "c", "d")
	expect(t, slow, "a")
	publish(t, h, "e", "f", "g") // room for one
	expect(t, slow, "b", "gap:2", "e", "gap:2")
	expectNothing(t, slow)
	expect(t, fast, "a", "b", "c", "d", "e", "f", "g")
}

func TestSubscribeLimits(t *testing.T) {
	h, _ := newTestHub(t, WithMaxSubscribers(2))
	a := subscribe(t, h)
	subscribe(t, h)
	if _, err := h.Subscribe(); !errors.Is(err, ErrTooManySubscribers) {
		t.Fatalf("third Subscribe: %v, want ErrTooManySubscribers", err)
	}
	a.Close()
	a.Close() // idempotent
	subscribe(t, h)
	for _, n := range []int{0, -1, maxBuffer + 1} {
		if _, err := h.Subscribe(WithBuffer(n)); err == nil {
			t.Errorf("buffer %d accepted", n)
		}
	}
	if _, err := NewHub(WithMaxSubscribers(0), WithDefaultBuffer(0), WithReplay(-1, 0, 0)); err == nil ||
		!strings.Contains(err.Error(), "subscribers") || !strings.Contains(err.Error(), "buffer") || !strings.Contains(err.Error(), "replay") {
		t.Errorf("NewHub with bad options: %v, want every problem", err)
	}
}

// Subscriptions hold no goroutine: a subscriber blocked in Next returns
// when its subscription or the hub closes, and nothing is left behind.
func TestCloseReleases(t *testing.T) {
	before := runtime.NumGoroutine()
	h, err := NewHub()
	if err != nil {
		t.Fatal(err)
	}
	subs := make([]*Subscription, 20)
	errs := make(chan error, len(subs))
	var wg sync.WaitGroup
	for i := range subs {
		subs[i], err = h.Subscribe(WithTypes("never.published"))
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			_, err := subs[i].Next(context.Background()) // no deadline: only closing ends it
			errs <- err
		})
	}
	publish(t, h, "a") // filtered out: nobody wakes for good
	for _, s := range subs[:10] {
		s.Close()
	}
	if n := h.Subscribers(); n != 10 {
		t.Errorf("%d subscribers after closing 10 of 20", n)
	}
	h.Close()
	h.Close() // idempotent
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("subscribers still blocked in Next after Close")
	}
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Next: %v, want ErrClosed", err)
		}
	}
	if err := h.Publish(&Event{UUID: "late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	// The Next goroutines have returned; wait for them to exit too.
	deadline := time.Now().Add(wait)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines, %d before", n, before)
	}
}

func TestNextContext(t *testing.T) {
	h, _ := newTestHub(t)
	s := subscribe(t, h)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Next with a cancelled context: %v", err)
	}
	// What is waiting is returned even so.
	publish(t, h, "a")
	if m, err := s.Next(ctx); err != nil || m.Event.UUID != "a" {
		t.Errorf("Next = %+v, %v", m, err)
	}
}

// Concurrent publishers and subscribers, for the race detector: every
// subscriber sees every event exactly once, in sequence order.
func TestConcurrentPublish(t *testing.T) {
	h, _ := newTestHub(t)
	const publishers, per, readers = 4, 250, 4
	subs := make([]*Subscription, readers)
	for i := range subs {
		subs[i] = subscribe(t, h, WithBuffer(publishers*per))
	}
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range per {
				if err := h.Publish(&Event{UUID: fmt.Sprint(p, "-", i), Type: "t"}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for _, s := range subs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			var last uint64
			for range publishers * per {
				m, err := s.Next(ctx)
				if err != nil || m.Event == nil || m.Event.Seq <= last {
					t.Errorf("Next = %+v, %v after seq %d", m, err, last)
					return
				}
				last = m.Event.Seq
			}
		})
	}
	wg.Wait()
}

func TestDedupe(t *testing.T) {
	clk := newClock()
	d := newDedupe(time.Minute, 100)
	batch := func(ids ...string) (fresh []string, dups int) {
		events := make([]*Event, len(ids))
		for i, id := range ids {
			events[i] = &Event{UUID: id}
		}
		f, dup := d.split(events, clk.now())
		for _, e := range f {
			fresh = append(fresh, e.UUID)
		}
		return fresh, len(dup)
	}
	if fresh, dups := batch("a", "b", "a"); len(fresh) != 2 || dups != 1 {
		t.Fatalf("first batch: fresh %v, %d duplicates", fresh, dups)
	}
	clk.add(59 * time.Second)
	if fresh, dups := batch("a", "c"); len(fresh) != 1 || dups != 1 {
		t.Fatalf("within the window: fresh %v, %d duplicates", fresh, dups)
	}
	clk.add(time.Second) // a and b are a minute old, c is not
	if fresh, dups := batch("a", "b", "c"); len(fresh) != 2 || dups != 1 {
		t.Fatalf("after the window: fresh %v, %d duplicates", fresh, dups)
	}

	// At capacity the oldest go first, across the ring's wrap and growth.
	d = newDedupe(time.Hour, 100)
	ids := uuids("u", 250)
	for _, id := range ids {
		batch(id)
	}
	if d.len() != 100 {
		t.Fatalf("remembers %d, want 100", d.len())
	}
	for _, id := range ids[150:] {
		if _, dups := batch(id); dups != 1 {
			t.Fatalf("%s forgotten, one of the newest 100", id)
		}
	}
	if _, dups := batch(ids[149]); dups != 0 {
		t.Fatalf("%s remembered, want the oldest forgotten", ids[149])
	}
}

// NextBatch hands over what arrived together (a delivery's events, with
// the gap before them), at most max at a time, and nothing it has not got.
func TestNextBatch(t *testing.T) {
	h, _ := newTestHub(t)
	s := subscribe(t, h, WithBuffer(3))
	publish(t, h, "a", "b", "c", "d", "e") // d and e do not fit
	label := func(ms []Message) (out []string) {
		for _, m := range ms {
			if m.Gap != nil {
				out = append(out, fmt.Sprintf("gap:%d", m.Gap.Missed))
			} else {
				out = append(out, m.Event.UUID)
			}
		}
		return out
	}
	for _, want := range [][]string{{"a", "b"}, {"c", "gap:2"}} {
		got, err := s.NextBatch(t.Context(), 2)
		if err != nil || strings.Join(label(got), ",") != strings.Join(want, ",") {
			t.Fatalf("batch = %v, %v; want %v", label(got), err, want)
		}
	}
	expectNothing(t, s)
}
