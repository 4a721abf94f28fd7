package forward

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// These tests run three replicas' clients against one simulated org and
// one real redis-server (redistest), as a fleet does. The store's sockets
// are real, so no synctest bubble: Okta's clock is injected instead, and
// what a test waits for is a condition, never a duration.

// testClock is a clock the test moves, shared by the simulator and the
// clients, so Okta's windows and the clients' view of them agree.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	// Early in a minute: the simulator's window resets at the minute, far
	// beyond the longest a call waits, so a held call fails at once.
	return &testClock{now: time.Now().Truncate(time.Minute).Add(time.Second)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// gate serves the simulator and counts what reaches it in flight; while
// closed, requests wait at the door, counted, until it opens.
type gate struct {
	h              http.Handler
	inFlight, peak atomic.Int64
	mu             sync.Mutex
	open           chan struct{}
}

func newGate(h http.Handler) *gate {
	g := &gate{h: h, open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := g.inFlight.Add(1)
	defer g.inFlight.Add(-1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
	case <-r.Context().Done():
		return
	}
	g.h.ServeHTTP(w, r)
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = make(chan struct{})
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.open)
}

// replica is one sidecar's client, with its own connection to the store.
type replica struct {
	*Client
	store *state.Store
}

// newFleetReplicas makes n clients of the org at url sharing the store
// at cfg, each as its own sidecar does.
func newFleetReplicas(t *testing.T, n int, url string, cfg config.Redis, fleetMax int, opts ...Option) []replica {
	t.Helper()
	out := make([]replica, n)
	for i := range out {
		st, err := state.Open(t.Context(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		c, err := New(url, append([]Option{WithAPIToken(token), WithSharedLimits(st, fleetMax)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = replica{Client: c, store: st}
	}
	return out
}

func getAlice(t *testing.T) *catalog.Call {
	return bind(t, "users.get", map[string]any{"userId": oktasim.SeedUserAlice})
}

func statuses(sim *oktasim.Sim) map[int]int {
	out := map[int]int{}
	for _, r := range sim.Requests() {
		out[r.Status]++
	}
	return out
}

func isHeld(err error) bool {
	var fe *Error
	return errors.As(err, &fe) && fe.Kind == KindRateLimited && fe.Held
}

// TestFleetHoldsBackOnWhatAnotherReplicaSaw: replica A spends a bucket
// down to the share kept for people; B and C, which never called it, hold
// back without reaching Okta, until the window resets.
func TestFleetHoldsBackOnWhatAnotherReplicaSaw(t *testing.T) {
	redis := redistest.Start(t)
	clk := newTestClock()
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithRateLimit(10, time.Minute), oktasim.WithClock(clk.Now))
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	fleet := newFleetReplicas(t, 3, srv.URL, redis.Config(), 10, WithReserve(0.2), WithClock(clk.Now)) // keep 2 of 10
	a, b, c := fleet[0], fleet[1], fleet[2]
	call := getAlice(t)
	for i := range 8 {
		if _, err := a.Do(t.Context(), call, "d"); err != nil {
			t.Fatalf("A's call %d: %v", i, err)
		}
	}
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

// TestFleetKeepsTheReserveOnceForTheFleet: with 5 of 10 left and 2 kept
// for people, twelve concurrent calls spread over three replicas let
// exactly 3 through: the replicas do not each spend the same headroom.
func TestFleetKeepsTheReserveOnceForTheFleet(t *testing.T) {
	redis := redistest.Start(t)
	clk := newTestClock()
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithRateLimit(10, time.Minute), oktasim.WithClock(clk.Now))
	g := newGate(sim.Handler())
	srv := httptest.NewServer(g)
	defer srv.Close()
	fleet := newFleetReplicas(t, 3, srv.URL, redis.Config(), 20, WithReserve(0.2), WithClock(clk.Now))
	call := getAlice(t)
	for range 5 {
		if _, err := fleet[0].Do(t.Context(), call, "d"); err != nil {
			t.Fatal(err)
		}
	}
	// The calls admitted wait at Okta's door while the others are decided:
	// what lets them through is the fleet's count, not answers coming in.
	g.close()
	var (
		wg         sync.WaitGroup
		sent, held atomic.Int64
		failed     atomic.Int64
	)
	for i := range 12 {
		wg.Go(func() {
			_, err := fleet[i%3].Do(t.Context(), call, "d")
			switch {
			case err == nil:
				sent.Add(1)
			case isHeld(err):
				held.Add(1)
			default:
				failed.Add(1)
				t.Errorf("call failed: %v", err)
			}
		})
	}
	// Every call is either held or at the door; then the door opens.
	waitFor(t, "every call held or at Okta's door", func() bool {
		return held.Load()+failed.Load()+g.inFlight.Load() == 12
	})
	g.release()
	wg.Wait()
	if sent.Load() != 3 || held.Load() != 9 {
		t.Errorf("%d sent and %d held, want 3 and 9", sent.Load(), held.Load())
	}
	if got := statuses(sim); got[200] != 8 {
		t.Errorf("okta answered %v, want 8 calls in all (2 of 10 left for people)", got)
	}
}

// TestFleetNeverExceedsItsCap: three replicas whose own caps add up to
// 12 never have more than the fleet's 5 in flight at Okta, which enforces
// exactly that: no call meets Okta's concurrent limit, and every place is
// given back.
func TestFleetNeverExceedsItsCap(t *testing.T) {
	redis := redistest.Start(t)
	const fleetCap = 5
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithConcurrencyLimit(fleetCap))
	sim.InjectFault(oktasim.Fault{Method: "GET", PathPrefix: "/api/v1/users", Delay: 20 * time.Millisecond})
	g := newGate(sim.Handler())
	srv := httptest.NewServer(g)
	defer srv.Close()
	fleet := newFleetReplicas(t, 3, srv.URL, redis.Config(), fleetCap, WithConcurrency(4, 100))
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
	if n := redis.Client().ZCard(t.Context(), fleet[0].fleet.leases).Val(); n != 0 {
		t.Errorf("%d leases left after every call ended", n)
	}
}

// TestFleetLeasesOfADeadReplicaExpire: a replica that dies holding every
// place of the fleet frees them when its attempts' deadlines pass; the
// others then go on.
func TestFleetLeasesOfADeadReplicaExpire(t *testing.T) {
	redis := redistest.Start(t)
	sim := oktasim.New(oktasim.WithAPIToken(token))
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	fleet := newFleetReplicas(t, 2, srv.URL, redis.Config(), 3)
	dead, b := fleet[0], fleet[1]
	dead.fleet.leaseGrace = 0
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	for range 3 {
		lease, hold, _, err := dead.fleet.take(ctx, "GET /x", time.Now())
		if err != nil || lease == "" || hold != 0 {
			t.Fatalf("take = %q, %v, %v", lease, hold, err)
		}
	}
	dead.store.Close() // it dies without giving them back
	if n := redis.Client().ZCard(t.Context(), b.fleet.leases).Val(); n != 3 {
		t.Fatalf("%d leases, want the dead replica's 3: the fleet must be full", n)
	}
	// The fleet is full until the dead leases expire: B's call goes once
	// they have.
	if _, err := b.Do(t.Context(), getAlice(t), "d"); err != nil {
		t.Fatal(err)
	}
	if got := len(sim.Requests()); got != 1 {
		t.Errorf("okta saw %d requests, want B's", got)
	}
	if n := redis.Client().ZCard(t.Context(), b.fleet.leases).Val(); n != 0 {
		t.Errorf("%d leases left", n)
	}
}

// waitFor waits for cond, which the test's goroutines make true; the
// deadline only keeps a broken build from hanging.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
	}
}

// logCounter counts log records by message.
type logCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n[r.Message]++
	return nil
}
func (l *logCounter) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCounter) WithGroup(string) slog.Handler      { return l }
func (l *logCounter) count(prefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for m, c := range l.n {
		if strings.HasPrefix(m, prefix) {
			n += c
		}
	}
	return n
}

// TestFleetFallsBackWhileTheStoreIsDown: the store is killed while calls
// are at Okta; those calls and the next go on under each replica's own
// limits (said once per replica), this sidecar's own picture still holds
// back a spent bucket, and once the store is back the fleet's picture and
// cap apply again with nothing left over or counted twice.
func TestFleetFallsBackWhileTheStoreIsDown(t *testing.T) {
	redis := redistest.Start(t)
	clk := newTestClock()
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithRateLimit(40, time.Minute), oktasim.WithClock(clk.Now))
	g := newGate(sim.Handler())
	srv := httptest.NewServer(g)
	defer srv.Close()
	logs := &logCounter{n: map[string]int{}}
	fleet := newFleetReplicas(t, 3, srv.URL, redis.Config(), 2, WithConcurrency(3, 100), WithReserve(0.25), // keep 10 of 40
		WithClock(clk.Now), WithLogger(slog.New(logs)))
	watch, stop := context.WithCancel(t.Context())
	defer stop()
	for _, r := range fleet {
		go r.store.Watch(watch, 20*time.Millisecond)
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

	// Two calls hold the fleet's two places, at Okta's door, when the
	// store dies.
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
	g.release()
	inFlight.Wait()
	// Nine at once, over the fleet's cap of 2: each replica's own cap of 3
	// applies instead.
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

	// Back, empty: a new window, and the fleet's picture and cap again.
	redis.Restart()
	for _, r := range fleet {
		waitFor(t, "the store back", r.store.Available)
	}
	clk.Advance(time.Minute)
	do(6)
	if n := logs.count("okta limits: shared store back"); n != 3 {
		t.Errorf("the return was logged %d times, want once per replica", n)
	}
	rc := redis.Client()
	if n := rc.ZCard(t.Context(), a.fleet.leases).Val(); n != 0 {
		t.Errorf("%d leases left", n)
	}
	pic := rc.HGetAll(t.Context(), a.fleet.bucketKey(BucketOf(call.Action))).Val()
	if pic["spent"] != "0" || pic["limit"] != "40" {
		t.Errorf("bucket after the store came back = %v, want Okta's numbers and nothing pending", pic)
	}
	if ttl := rc.TTL(t.Context(), a.fleet.bucketKey(BucketOf(call.Action))).Val(); ttl <= 0 {
		t.Errorf("bucket TTL = %v, want one", ttl)
	}
}
