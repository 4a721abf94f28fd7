package impact

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

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

func sharedCall(t *testing.T, s *Shared, agent string, sent bool) Counts {
	t.Helper()
	h, err := s.Hold(t.Context(), agent)
	if err != nil {
		t.Fatal(err)
	}
	got := h.Counts()
	if err := h.Done(sent); err != nil {
		t.Fatal(err)
	}
	return got
}

// Three replicas, 15 racing calls each, a limit of 5: exactly 5 go,
// whichever replicas they came through, as with one process's mutex.
func TestSharedHoldsAnAgentAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	const limit = 5
	var replicas []*Shared
	for range 3 {
		s, _ := replica(t, srv)
		replicas = append(replicas, s)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := 0
	for i := range 45 {
		s := replicas[i%3]
		wg.Go(func() {
			h, err := s.Hold(t.Context(), "a")
			if err != nil {
				t.Error(err)
				return
			}
			ok := h.Counts().Hour < limit && h.Counts().Day < limit
			if err := h.Done(ok); err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				sent++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got := sharedCall(t, replicas[0], "a", false); sent != limit || got != (Counts{Hour: limit, Day: limit}) {
		t.Fatalf("sent %d, counted %+v, want %d", sent, got, limit)
	}
	// Counts answer from this replica's own calls, never more than the
	// fleet's, with no round trip.
	local := 0
	for _, s := range replicas {
		local += s.Counts("a").Hour
	}
	if local != limit {
		t.Errorf("replicas' own counts add up to %d, want %d", local, limit)
	}
}

// The windows slide as in memory; buckets out of both windows are
// trimmed; both keys expire; nothing is left held.
func TestSharedCountsSlideOut(t *testing.T) {
	srv := redistest.Start(t)
	clk := newClock()
	s, st := replica(t, srv, WithSharedClock(clk.now))
	for range 3 {
		sharedCall(t, s, "a", true)
	}
	sharedCall(t, s, "a", false)
	if got := sharedCall(t, s, "b", false); got != (Counts{}) {
		t.Errorf("another agent's counts = %+v", got)
	}
	clk.add(59*time.Minute + 29*time.Second)
	if got := sharedCall(t, s, "a", false); got != (Counts{Hour: 3, Day: 3}) {
		t.Errorf("after 59m59s counts = %+v, want 3/3", got)
	}
	clk.add(2 * time.Minute)
	if got := sharedCall(t, s, "a", false); got != (Counts{Hour: 0, Day: 3}) {
		t.Errorf("after 61m30s counts = %+v, want 0/3", got)
	}
	clk.add(23 * time.Hour)
	if got := sharedCall(t, s, "a", false); got.Day != 3 {
		t.Errorf("after 24h01m day = %d, want 3 (the window rounds outwards)", got.Day)
	}
	clk.add(2 * time.Hour)
	if got := sharedCall(t, s, "a", true); got != (Counts{}) {
		t.Errorf("after 26h counts = %+v, want none", got)
	}
	keys := s.keys("a")
	c := st.Client()
	if n := c.HLen(t.Context(), keys[1]).Val(); n != 2 {
		t.Errorf("%d buckets kept, want 2 (the stale ones trimmed)", n)
	}
	if ttl := c.TTL(t.Context(), keys[1]).Val(); ttl <= 25*time.Hour || ttl > countsTTL {
		t.Errorf("counts TTL %v, want about %v", ttl, countsTTL)
	}
	if c.Exists(t.Context(), keys[0]).Val() != 0 {
		t.Error("the hold outlived Done")
	}
}

func TestSharedDoneFalseDoesNotCount(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := replica(t, srv)
	sharedCall(t, s, "a", false)
	h, err := s.Hold(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if h.Counts() != (Counts{}) {
		t.Fatalf("counts = %+v after an uncounted call", h.Counts())
	}
	if err := h.Done(true); err != nil {
		t.Fatal(err)
	}
	if err := h.Done(true); err != nil { // no double count, no second release
		t.Fatal(err)
	}
	if got := sharedCall(t, s, "a", false); got.Hour != 1 {
		t.Errorf("hour = %d, want 1", got.Hour)
	}
}

// A replica that dies holding an agent blocks it for the rest of its
// lease, no longer; and should it come back to life, its call is refused
// rather than counted against counts another replica has since decided on.
func TestSharedHoldOfADeadReplicaEndsWithItsLease(t *testing.T) {
	srv := redistest.Start(t)
	dead, _ := replica(t, srv, WithLease(2*time.Second))
	alive, _ := replica(t, srv)
	stale, err := dead.Hold(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	// While the lease runs, the agent is held fleet-wide.
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := alive.Hold(short, "a"); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, state.ErrUnavailable) {
		t.Fatalf("hold of a held agent: %v, want the caller's deadline", err)
	}
	// The holder never calls Done: the lease alone frees the agent.
	h, err := alive.Hold(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := stale.Done(true); !errors.Is(err, ErrHoldLost) || !errors.Is(err, state.ErrUnavailable) {
		t.Fatalf("Done of a lost hold: %v, want ErrHoldLost (unavailable)", err)
	}
	if err := h.Done(true); err != nil {
		t.Fatal(err)
	}
	if got := sharedCall(t, alive, "a", false); got.Hour != 1 {
		t.Errorf("hour = %d, want 1: the lost hold's call must not count", got.Hour)
	}
}

// Killed, the store refuses holds at once and marks itself unavailable; a
// call held across the restart is refused, not counted; after the restart
// every call counts once.
func TestSharedStoreKilledAndRestarted(t *testing.T) {
	srv := redistest.Start(t)
	s, st := replica(t, srv)
	sharedCall(t, s, "a", true)
	inFlight, err := s.Hold(t.Context(), "b")
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if _, err := s.Hold(t.Context(), "a"); !errors.Is(err, state.ErrUnavailable) {
		t.Fatalf("hold with the store down: %v, want ErrUnavailable", err)
	}
	if st.Available() {
		t.Error("the store is still marked available")
	}
	srv.Restart() // empty: the scripts are loaded again, the lease is gone
	if err := inFlight.Done(true); !errors.Is(err, state.ErrUnavailable) {
		t.Fatalf("Done of a hold taken before the restart: %v, want it refused", err)
	}
	for want := range 3 {
		if got := sharedCall(t, s, "b", true); got.Hour != want {
			t.Fatalf("after the restart call %d saw %d, want %d", want+1, got.Hour, want)
		}
	}
}

// One destructive call's cost: Hold (the hold and the counts) and Done
// (count and release), two round trips to Redis on loopback.
func BenchmarkSharedHoldDone(b *testing.B) {
	srv := redistest.Start(b)
	s, _ := replica(b, srv)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		h, err := s.Hold(ctx, "agent")
		if err != nil {
			b.Fatal(err)
		}
		if err := h.Done(true); err != nil {
			b.Fatal(err)
		}
	}
}
