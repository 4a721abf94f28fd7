package impact

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// replica is one sidecar's view of the shared store: its own connection.
func replica(t testing.TB, srv *redistest.Server, opts ...SharedOption) (*Shared, *state.Store) {
	t.Helper()
	cfg := srv.Config()
	cfg.KeyPrefix = "impact-test:" // every replica of the test shares it
	st, err := state.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return NewShared(st, opts...), st
}

// sharedCall decides a call of the agent with decide (true: it goes),
// counting it as the gateway does: decided again each time the counts
// moved. It returns the counts of the last decision, and whether it went.
func sharedCall(t testing.TB, s *Shared, agent string, decide func(Counts) bool) (Counts, bool) {
	t.Helper()
	h, err := s.Hold(t.Context(), agent)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	for {
		if !decide(h.Counts()) {
			return h.Counts(), false
		}
		err := h.Count(t.Context())
		if err == nil {
			return h.Counts(), true
		}
		if !errors.Is(err, ErrCountsMoved) {
			t.Fatal(err)
		}
	}
}

func always(Counts) bool { return true }
func never(Counts) bool  { return false }

// within is the shipped policy's limit: both counts under n.
func within(n int) func(Counts) bool {
	return func(c Counts) bool { return c.Hour < n && c.Day < n }
}

// Three replicas, 15 racing calls each, a limit of 5: exactly 5 go,
// whichever replicas they came through, as with one process's mutex; and
// each was decided against the fleet's counts at the moment it counted.
func TestSharedCountsExactlyAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	const limit = 5
	var replicas []*Shared
	for range 3 {
		s, _ := replica(t, srv)
		replicas = append(replicas, s)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var seen []int
	for i := range 45 {
		s := replicas[i%3]
		wg.Go(func() {
			c, went := sharedCall(t, s, "a", within(limit))
			if went {
				mu.Lock()
				seen = append(seen, c.Hour)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(seen)
	if !slices.Equal(seen, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("calls that went were decided against hour counts %v, want 0 to 4 once each", seen)
	}
	// A fresh replica learns the fleet's counts from its first count.
	fresh, _ := replica(t, srv)
	if got, went := sharedCall(t, fresh, "a", within(limit)); went || got != (Counts{Hour: limit, Day: limit}) {
		t.Fatalf("a fresh replica's call went=%v against %+v, want refused against %d/%d", went, got, limit, limit)
	}
	// Counts answer from each replica's view, never more than the fleet's,
	// with no round trip.
	for i, s := range append(replicas, fresh) {
		if c := s.Counts("a"); c.Hour > limit || c.Day > limit {
			t.Errorf("replica %d counts %+v, more than the fleet's %d", i, c, limit)
		}
	}
}

// A replica's own view slides as the store's buckets do: its counts agree
// with the store's across both windows, so its calls count at the first
// try; buckets out of both windows are trimmed; the key expires.
func TestSharedCountsSlideOut(t *testing.T) {
	srv := redistest.Start(t)
	clk := newClock()
	s, st := replica(t, srv, WithSharedClock(clk.now))
	first := func(want Counts) {
		t.Helper()
		h, err := s.Hold(t.Context(), "a")
		if err != nil {
			t.Fatal(err)
		}
		if h.Counts() != want {
			t.Errorf("counts %+v, want %+v", h.Counts(), want)
		}
		if err := h.Count(t.Context()); err != nil {
			t.Errorf("count against the replica's own view: %v, want it counted at once", err)
		}
	}
	first(Counts{})
	first(Counts{Hour: 1, Day: 1})
	first(Counts{Hour: 2, Day: 2})
	if got := s.Counts("b"); got != (Counts{}) {
		t.Errorf("another agent's counts = %+v", got)
	}
	clk.add(59*time.Minute + 29*time.Second)
	if got := s.Counts("a"); got != (Counts{Hour: 3, Day: 3}) {
		t.Errorf("after 59m59s counts = %+v, want 3/3", got)
	}
	clk.add(2 * time.Minute)
	first(Counts{Hour: 0, Day: 3}) // after 61m30s
	clk.add(23 * time.Hour)
	first(Counts{Hour: 0, Day: 4}) // the day window rounds outwards
	clk.add(26 * time.Hour)
	first(Counts{}) // every bucket is out of both windows
	key := s.key("a")
	c := st.Client()
	if n := c.HLen(t.Context(), key).Val(); n != 2 {
		t.Errorf("%d buckets kept, want 2 (the stale ones trimmed)", n)
	}
	if ttl := c.TTL(t.Context(), key).Val(); ttl <= 25*time.Hour || ttl > countsTTL {
		t.Errorf("counts TTL %v, want about %v", ttl, countsTTL)
	}
	// A second replica agrees with the first from the store's buckets.
	other, _ := replica(t, srv, WithSharedClock(clk.now))
	if got, _ := sharedCall(t, other, "a", never); got != (Counts{}) {
		t.Errorf("a fresh replica's view before learning = %+v, want none", got)
	}
	if got, went := sharedCall(t, other, "a", always); !went || got != (Counts{Hour: 1, Day: 1}) {
		t.Errorf("a fresh replica counted against %+v (went %v), want 1/1 learnt from the store", got, went)
	}
}

// A call that is released without Count is not counted, and its turn
// passes to the next call in the process.
func TestSharedReleaseDoesNotCount(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := replica(t, srv)
	h, err := s.Hold(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	h.Release()
	h.Release() // no second release
	if got, _ := sharedCall(t, s, "a", always); got != (Counts{}) {
		t.Errorf("counts %+v after an uncounted call", got)
	}
	if got := s.Counts("a"); got.Hour != 1 {
		t.Errorf("hour = %d, want 1", got.Hour)
	}
}

// In one process an agent's calls take turns: a second Hold waits for the
// first to end, and gives up with its context.
func TestSharedTurnsInAProcess(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := replica(t, srv)
	h, err := s.Hold(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Hold(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hold of an agent held in the process: %v, want the caller's deadline", err)
	}
	if _, went := sharedCall(t, s, "b", always); !went {
		t.Fatal("another agent waited for a")
	}
	if err := h.Count(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, _ := sharedCall(t, s, "a", never); got.Hour != 1 {
		t.Errorf("after the first call counted, hour = %d, want 1", got.Hour)
	}
}

// Nothing is locked in the store: a replica that dies in the middle of a
// call blocks no other replica, and a call decided against counts that
// moved while it was paused is decided again, not counted.
func TestSharedDeadReplicaBlocksNoOne(t *testing.T) {
	srv := redistest.Start(t)
	paused, _ := replica(t, srv)
	alive, _ := replica(t, srv)
	stale, err := paused.Hold(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	for want := range 2 {
		if got, went := sharedCall(t, alive, "a", always); !went || got.Hour != want {
			t.Fatalf("call %d on the other replica went=%v against %+v", want+1, went, got)
		}
	}
	if err := stale.Count(t.Context()); !errors.Is(err, ErrCountsMoved) {
		t.Fatalf("count against counts that moved: %v, want ErrCountsMoved", err)
	}
	if got := stale.Counts(); got != (Counts{Hour: 2, Day: 2}) {
		t.Fatalf("counts after the move %+v, want 2/2", got)
	}
	if err := stale.Count(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, _ := sharedCall(t, alive, "a", within(3)); got.Hour != 3 {
		t.Errorf("hour = %d, want 3", got.Hour)
	}
}

// Killed, the store refuses counts at once and marks itself unavailable;
// nothing is counted then; back empty (no persistence), the replicas' views
// of the lost counts give way to the store's at the next count.
func TestSharedStoreKilledAndRestarted(t *testing.T) {
	srv := redistest.Start(t)
	s, st := replica(t, srv)
	sharedCall(t, s, "a", always)
	srv.Stop()
	h, err := s.Hold(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Count(t.Context()); !errors.Is(err, state.ErrUnavailable) {
		t.Fatalf("count with the store down: %v, want ErrUnavailable", err)
	}
	h.Release()
	if st.Available() {
		t.Error("the store is still marked available")
	}
	if got := s.Counts("a"); got.Hour != 1 {
		t.Errorf("hour = %d after a refused count, want 1", got.Hour)
	}
	srv.Restart() // empty: the scripts are loaded again, the counts lost
	for want := range 3 {
		if got, _ := sharedCall(t, s, "a", always); got.Hour != want {
			t.Fatalf("after the restart call %d was decided against %d, want %d", want+1, got.Hour, want)
		}
	}
}

// One destructive call's cost in the store: Hold (no round trip) and
// Count, one round trip to Redis on loopback.
func BenchmarkSharedHoldCount(b *testing.B) {
	srv := redistest.Start(b)
	s, _ := replica(b, srv)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h, err := s.Hold(ctx, "agent")
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Count(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// One budgeted destructive call's cost in the store: Count with the
// budget's charge, still one script and one round trip.
func BenchmarkSharedHoldCountCharging(b *testing.B) {
	srv := redistest.Start(b)
	s, st := replica(b, srv)
	c := budget.Charge{Key: st.Key("budget", "{bench}"), Interval: 1, Depth: 1 << 40}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h, err := s.Hold(ctx, "agent")
		if err != nil {
			b.Fatal(err)
		}
		if wait, err := h.(ChargingHold).CountCharging(ctx, c); err != nil || wait > 0 {
			b.Fatal(wait, err)
		}
	}
}
