package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// These tests run three replicas' clients against one simulated org and
// one real redis-server (redistest), as a fleet does. The store's sockets
// are real, so no synctest bubble: Okta's clock is injected instead, and
// what a test waits for is a condition, never a duration. The replicas'
// syncs with the store, which their background loops make in a sidecar,
// are made by the test (syncAll), so what each replica knows of the fleet
// is what the test says.

// TestFleetHoldsBackOnWhatAnotherReplicaSaw: replica A spends a bucket
// down to the share kept for people; once the fleet has synced, B and C,
// which never called it, hold back without reaching Okta, until the
// window resets.
func TestFleetHoldsBackOnWhatAnotherReplicaSaw(t *testing.T) {
	redis := redistest.Start(t)
	clk := newTestClock()
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithRateLimit(10, time.Minute), oktasim.WithClock(clk.Now))
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	fleet := newFleetReplicas(t, 3, srv.URL, redis.Config(), 10, WithReserve(0.2), WithClock(clk.Now)) // keep 2 of 10
	syncAll(t, fleet)
	a, b, c := fleet[0], fleet[1], fleet[2]
	call := getAlice(t)
	for i := range 8 {
		if _, err := a.Do(t.Context(), call, "d"); err != nil {
			t.Fatalf("A's call %d: %v", i, err)
		}
	}
	// A's own picture holds it back at once, without a sync.
	if _, err := a.Do(t.Context(), call, "d"); !isHeld(err) {
		t.Errorf("A's ninth call: %v, want held", err)
	}
	syncAll(t, fleet)
	for name, r := range map[string]replica{"B": b, "C": c} {
		_, err := r.Do(t.Context(), call, "d")
		var fe *Error
		if !isHeld(err) || !errors.As(err, &fe) || fe.RateLimit.Remaining != 2 || fe.RetryAfter < 50*time.Second {
			t.Errorf("%s: err = %+v, want held on the fleet's picture (2 left)", name, err)
		}
	}
	if got := statuses(sim); got[200] != 8 || len(got) != 1 {
		t.Errorf("okta answered %v, want 8 calls from A and none from B or C", got)
	}
	// A new window: the share is back for everyone.
	clk.Advance(time.Minute)
	if _, err := b.Do(t.Context(), call, "d"); err != nil {
		t.Errorf("B after the window reset: %v", err)
	}
}

// TestFleetKeepsTheReserveOnceForTheFleet: calls spread over three
// replicas, the fleet syncing between rounds, stop at the share kept for
// people counted once for the fleet: within a round, each replica spends
// at most what the fleet's picture and its own answers leave it, so the
// fleet goes past the reserve by at most one call per other replica (the
// lag docs/scaling.md states), never by three reserves' worth.
func TestFleetKeepsTheReserveOnceForTheFleet(t *testing.T) {
	redis := redistest.Start(t)
	clk := newTestClock()
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithRateLimit(30, time.Minute), oktasim.WithClock(clk.Now))
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	fleet := newFleetReplicas(t, 3, srv.URL, redis.Config(), 20, WithReserve(0.2), WithClock(clk.Now)) // keep 6 of 30
	syncAll(t, fleet)
	call := getAlice(t)
	held := 0
	for round := 0; held < 3; round++ {
		if round > 30 {
			t.Fatal("the fleet never held back")
		}
		held = 0
		for _, r := range fleet {
			_, err := r.Do(t.Context(), call, "d")
			switch {
			case isHeld(err):
				held++
			case err != nil:
				t.Fatal(err)
			}
		}
		syncAll(t, fleet)
	}
	sent := statuses(sim)[200]
	if sent < 24 || sent > 24+2 {
		t.Errorf("the fleet sent %d, want 24 (30 less 6 kept once for people), at most 2 more within one sync", sent)
	}
	// Steady state: one replica at a time, synced between calls, is exact.
	clk.Advance(time.Minute)
	syncAll(t, fleet)
	before := len(sim.Requests())
	for i := 0; ; i++ {
		_, err := fleet[i%3].Do(t.Context(), call, "d")
		if isHeld(err) {
			break
		}
		if err != nil || i > 30 {
			t.Fatalf("call %d: %v", i, err)
		}
		syncAll(t, fleet)
	}
	if got := len(sim.Requests()) - before; got != 24 {
		t.Errorf("the fleet sent %d in a new window, one replica at a time, want exactly 24", got)
	}
}

// TestFleetNeverExceedsItsCap: three replicas whose own caps add up to
// 12 never have more than the fleet's 5 in flight at Okta, which enforces
// exactly that: each keeps its share (2, 2 and 1), no call meets Okta's
// concurrent limit.
func TestFleetNeverExceedsItsCap(t *testing.T) {
	redis := redistest.Start(t)
	const fleetCap = 5
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithConcurrencyLimit(fleetCap))
	sim.InjectFault(oktasim.Fault{Method: "GET", PathPrefix: "/api/v1/users", Delay: 20 * time.Millisecond})
	g := newGate(sim.Handler())
	srv := httptest.NewServer(g)
	defer srv.Close()
	fleet := newFleetReplicas(t, 3, srv.URL, redis.Config(), fleetCap, WithConcurrency(4, 100))
	syncAll(t, fleet)
	total := 0
	for i, r := range fleet {
		if r.fleet.live != 3 {
			t.Errorf("replica %d sees %d live replicas, want 3", i, r.fleet.live)
		}
		total += r.InFlightCap()
	}
	if total != fleetCap {
		t.Errorf("the replicas' caps add up to %d, want the fleet's %d", total, fleetCap)
	}
	call := getAlice(t)
	var wg sync.WaitGroup
	for i := range 36 {
		wg.Go(func() {
			if _, err := fleet[i%3].Do(t.Context(), call, "d"); err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if peak := g.peak.Load(); peak > fleetCap {
		t.Errorf("%d requests in flight at Okta at once, over the fleet's cap of %d", peak, fleetCap)
	} else {
		t.Logf("peak in flight at Okta: %d of %d", peak, fleetCap)
	}
	if got := statuses(sim); got[429] != 0 || got[200] != 36 {
		t.Errorf("okta answered %v, want 36 calls and no concurrent-limit 429", got)
	}
}

// TestFleetShareOfADeadReplicaReturns: a replica that dies stops renewing
// its heartbeat; once it has expired, the others' shares add up to the
// whole cap again. One that stops cleanly gives its share back at once.
func TestFleetShareOfADeadReplicaReturns(t *testing.T) {
	redis := redistest.Start(t)
	sim := oktasim.New(oktasim.WithAPIToken(token))
	g := newGate(sim.Handler())
	srv := httptest.NewServer(g)
	defer srv.Close()
	fleet := newFleetReplicas(t, 3, srv.URL, redis.Config(), 4)
	for _, r := range fleet {
		r.fleet.ttl = 300 * time.Millisecond // the test waits for it to pass, not for a duration
	}
	syncAll(t, fleet)
	dead, gone, b := fleet[0], fleet[1], fleet[2]
	dead.store.Close() // it dies without a word

	// gone stops cleanly: its share is back at B's next sync.
	ctx, stop := context.WithCancel(t.Context())
	stop()
	gone.ShareLimits(ctx)
	if err := b.fleet.sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if b.fleet.live != 2 {
		t.Errorf("B sees %d live replicas after one left, want 2 (B and the dead one)", b.fleet.live)
	}
	// The dead one's heartbeat expires: B alone has the fleet's cap.
	waitFor(t, "the dead replica's heartbeat to expire", func() bool {
		if err := b.fleet.sync(t.Context()); err != nil {
			t.Fatal(err)
		}
		return b.fleet.live == 1
	})
	if got := b.InFlightCap(); got != 4 {
		t.Fatalf("B's cap = %d, want the fleet's 4", got)
	}
	g.close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := b.Do(t.Context(), getAlice(t), "d"); err != nil {
				t.Error(err)
			}
		})
	}
	waitFor(t, "B's four calls at Okta's door at once", func() bool { return g.inFlight.Load() == 4 })
	g.release()
	wg.Wait()
}

// TestFleetCallsMakeNoRoundTrip: with the fleet's limits in force, calls
// (reads and writes, held or sent) send no command to the store: only the
// sync does, one script a sync. Counted by the store itself.
func TestFleetCallsMakeNoRoundTrip(t *testing.T) {
	redis := redistest.Start(t)
	clk := newTestClock()
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithRateLimit(10, time.Minute), oktasim.WithClock(clk.Now))
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	fleet := newFleetReplicas(t, 3, srv.URL, redis.Config(), 10, WithReserve(0.2), WithClock(clk.Now))
	syncAll(t, fleet)
	rc := redis.Client()
	if err := rc.ConfigResetStat(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	write := bind(t, "user_lifecycle.suspend", map[string]any{"userId": oktasim.SeedUserBob})
	if _, err := fleet[1].Do(t.Context(), write, "d"); err != nil {
		t.Fatal(err)
	}
	held := 0
	for i := range 12 {
		_, err := fleet[i%3].Do(t.Context(), getAlice(t), "d")
		switch {
		case isHeld(err):
			held++
		case err != nil:
			t.Fatal(err)
		}
	}
	if held == 0 {
		t.Error("no call was held back: the test did not cover held calls")
	}
	if got := commandStats(t, rc); len(got) != 0 {
		t.Errorf("the store saw %v during the calls, want nothing", got)
	}
	if err := fleet[0].fleet.sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The script's own commands are counted too, but it is one command
	// from the replica: one round trip.
	if got := commandStats(t, rc); got["evalsha"]+got["eval"] != 1 {
		t.Errorf("one sync sent %v, want one script", got)
	}
}

// TestFleetFallsBackWhileTheStoreIsDown: the store is killed while calls
// are at Okta; those calls and the next go on under each replica's own
// limits (said once per replica, as its sync fails), this sidecar's own
// picture still holds back a spent bucket, and once the store is back and
// synced the fleet's picture and shares apply again, with the pictures
// kept meanwhile published and nothing counted twice.
func TestFleetFallsBackWhileTheStoreIsDown(t *testing.T) {
	redis := redistest.Start(t)
	clk := newTestClock()
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithRateLimit(40, time.Minute), oktasim.WithClock(clk.Now))
	g := newGate(sim.Handler())
	srv := httptest.NewServer(g)
	defer srv.Close()
	logs := &logCounter{n: map[string]int{}}
	fleet := newFleetReplicas(t, 3, srv.URL, redis.Config(), 3, WithConcurrency(3, 100), WithReserve(0.25), // keep 10 of 40
		WithClock(clk.Now), WithLogger(slog.New(logs)))
	watch, stop := context.WithCancel(t.Context())
	defer stop()
	for _, r := range fleet {
		go r.store.Watch(watch, 20*time.Millisecond)
	}
	syncAll(t, fleet)
	for i, r := range fleet {
		if got := r.InFlightCap(); got != 1 {
			t.Errorf("replica %d's cap = %d, want its share of 3, 1", i, got)
		}
	}
	call := getAlice(t)
	do := func(n int) {
		t.Helper()
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := fleet[i%3].Do(t.Context(), call, "d"); err != nil {
					t.Errorf("call: %v", err)
				}
			})
		}
		wg.Wait()
	}
	do(3)

	// Two calls are at Okta's door when the store dies.
	g.close()
	var inFlight sync.WaitGroup
	for i := range 2 {
		inFlight.Go(func() {
			if _, err := fleet[i].Do(t.Context(), call, "d"); err != nil {
				t.Errorf("call in flight when the store died: %v", err)
			}
		})
	}
	waitFor(t, "two calls at Okta's door", func() bool { return g.inFlight.Load() == 2 })
	redis.Stop()
	for i, r := range fleet {
		if err := r.fleet.sync(t.Context()); !errors.Is(err, errFleetUnavailable) {
			t.Errorf("replica %d's sync with the store dead: %v", i, err)
		}
	}
	g.release()
	inFlight.Wait()
	// Nine at once, over the fleet's cap of 3: each replica's own cap of 3
	// applies instead of its share.
	g.close()
	var burst sync.WaitGroup
	burst.Go(func() { do(9) })
	waitFor(t, "nine calls at Okta's door at once", func() bool { return g.inFlight.Load() == 9 })
	g.release()
	burst.Wait()
	if n := logs.count("okta limits: shared store unavailable"); n != 3 {
		t.Errorf("the fallback was logged %d times, want once per replica", n)
	}
	// 14 spent, 26 left; A's own picture keeps its 10 for people.
	a := fleet[0]
	sentByA := 0
	for {
		_, err := a.Do(t.Context(), call, "d")
		if isHeld(err) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if sentByA++; sentByA > 40 {
			t.Fatal("A's own picture never held it back")
		}
	}
	if left := 40 - statuses(sim)[200]; left < 10 {
		t.Errorf("%d left at Okta, want at least the 10 kept for people", left)
	}

	// Back, empty: the pictures kept meanwhile are published, and the
	// fleet's picture holds B and C back as well.
	redis.Restart()
	for _, r := range fleet {
		waitFor(t, "the store back", r.store.Available)
	}
	syncAll(t, fleet)
	if n := logs.count("okta limits: shared store back"); n != 3 {
		t.Errorf("the return was logged %d times, want once per replica", n)
	}
	for i, r := range fleet {
		if _, err := r.Do(t.Context(), call, "d"); !isHeld(err) {
			t.Errorf("replica %d after the store came back: %v, want held on the fleet's picture", i, err)
		}
		if got := r.InFlightCap(); got != 1 {
			t.Errorf("replica %d's cap = %d, want its share again", i, got)
		}
	}
	// A new window: the fleet's picture again, Okta's numbers in the store.
	clk.Advance(time.Minute)
	do(6)
	syncAll(t, fleet)
	rc := redis.Client()
	pic := rc.HGet(t.Context(), a.fleet.picture, BucketOf(call.Action)).Val()
	if want := fmt.Sprintf("40 34 %d", clk.Now().Truncate(time.Minute).Add(time.Minute).Unix()); pic != want {
		t.Errorf("bucket after the store came back = %q, want Okta's numbers %q", pic, want)
	}
	if ttl := rc.TTL(t.Context(), a.fleet.picture).Val(); ttl <= 0 {
		t.Errorf("picture TTL = %v, want one", ttl)
	}
	if n := rc.ZCard(t.Context(), a.fleet.members).Val(); n != 3 {
		t.Errorf("%d members, want 3", n)
	}
	if ttl := rc.PTTL(t.Context(), a.fleet.members).Val(); ttl <= 0 {
		t.Errorf("members TTL = %v, want one", ttl)
	}
}

// TestFleetSyncRunsUnderTheDocumentedACL: the ACL user docs/scaling.md
// recommends can run the fleet's sync and leave the fleet.
func TestFleetSyncRunsUnderTheDocumentedACL(t *testing.T) {
	redis := redistest.Start(t)
	fleet := newFleetReplicas(t, 1, "http://127.0.0.1:1", redis.DocumentedACLConfig("../../docs/scaling.md"), 5)
	f := fleet[0].fleet
	f.finish("GET /api/v1/users", false, endAnswered, RateLimit{Limit: 10, Remaining: 9, Reset: time.Now().Add(time.Minute).Unix()}, time.Now())
	if err := f.sync(t.Context()); err != nil {
		t.Fatalf("sync under the documented ACL: %v", err)
	}
	if f.live != 1 || f.buckets["GET /api/v1/users"].Remaining != 9 {
		t.Errorf("after the sync: %d live, picture %+v", f.live, f.buckets["GET /api/v1/users"])
	}
	f.leave()
	if n := redis.Client().ZCard(t.Context(), f.members).Val(); n != 0 {
		t.Errorf("%d members after leaving, want none", n)
	}
}
