package budget_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// fleetClock stands in for the store's TIME, which a test cannot stop: a
// budget's window is a minute, and a test that waited on it would be slow
// and flaky.
type fleetClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fleetClock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fleetClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// replicas opens n stores on srv, as n sidecars would (each its own
// client and pool), and a shared budget on each.
func replicas(t testing.TB, srv *redistest.Server, n int, local func() *budget.Limiter, opts ...budget.SharedOption) ([]*budget.Shared, []*state.Store) {
	t.Helper()
	cfg := srv.Config()
	var bs []*budget.Shared
	var stores []*state.Store
	for range n {
		st, err := state.Open(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
		bs = append(bs, budget.NewShared(st, local(), opts...))
	}
	return bs, stores
}

// TestSharedBudgetHoldsAcrossTheFleet: three replicas sharing one store,
// 150 concurrent calls of one agent with a budget of 10 a minute: exactly
// 10 go, not 30; every refusal says to wait one call's worth (6s); once
// that has passed, exactly one more call goes, whichever replica it
// reaches; another agent has its own budget.
func TestSharedBudgetHoldsAcrossTheFleet(t *testing.T) {
	srv := redistest.Start(t)
	c := &fleetClock{t: time.Unix(1_790_000_000, 0)}
	fleet, _ := replicas(t, srv, 3, func() *budget.Limiter { return budget.New(0, map[string]int{"runaway-bot": 10, "reader-bot": 10}) },
		budget.WithStoreClock(c.now))
	ctx := t.Context()

	var allowed atomic.Int64
	var mu sync.Mutex
	var waits []time.Duration
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			for range 5 {
				ok, wait, err := fleet[i%3].Spend(ctx, "runaway-bot")
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					allowed.Add(1)
					continue
				}
				mu.Lock()
				waits = append(waits, wait)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 10 {
		t.Fatalf("%d calls allowed across three replicas, want exactly the budget of 10", allowed.Load())
	}
	if len(waits) != 140 || slices.Min(waits) != 6*time.Second || slices.Max(waits) != 6*time.Second {
		t.Errorf("%d refusals, waits from %v to %v; want 140, all 6s", len(waits), slices.Min(waits), slices.Max(waits))
	}
	if ok, _, err := fleet[1].Spend(ctx, "reader-bot"); !ok || err != nil {
		t.Errorf("another agent refused: %v", err)
	}

	c.advance(6 * time.Second)
	allowed.Store(0)
	for i := range 9 {
		wg.Go(func() {
			if ok, _, _ := fleet[i%3].Spend(ctx, "runaway-bot"); ok {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 1 {
		t.Errorf("%d calls allowed one call's worth later, want 1", allowed.Load())
	}
}

// TestSharedRetryAfterUsesTheStoresClock: with the server's own TIME, an
// agent that spent its budget of 6 a minute is told to wait at most one
// call's worth, 10s; a replica that was refused repeats the refusal with
// what is left of it, without asking the store.
func TestSharedRetryAfterUsesTheStoresClock(t *testing.T) {
	srv := redistest.Start(t)
	fleet, _ := replicas(t, srv, 2, func() *budget.Limiter { return budget.New(6, nil) })
	ctx := t.Context()
	for i := range 6 {
		if ok, _, err := fleet[i%2].Spend(ctx, "batch-bot"); !ok || err != nil {
			t.Fatalf("call %d refused within the budget: %v", i, err)
		}
	}
	ok, wait, err := fleet[0].Spend(ctx, "batch-bot")
	if ok || err != nil || wait <= 0 || wait > 10*time.Second {
		t.Fatalf("7th call: ok=%v wait=%v err=%v, want refused with a wait up to 10s", ok, wait, err)
	}
	before := commandCalls(t, srv)
	ok, again, err := fleet[0].Spend(ctx, "batch-bot")
	if ok || err != nil || again <= 0 || again > wait {
		t.Errorf("repeated refusal: ok=%v wait=%v err=%v, want refused with at most %v", ok, again, err, wait)
	}
	if after := commandCalls(t, srv); total(after) != total(before) {
		t.Errorf("a refusal still running cost %d commands, want none", total(after)-total(before))
	}
	if ok, other, err := fleet[1].Spend(ctx, "batch-bot"); ok || err != nil || other <= 0 || other > 10*time.Second {
		t.Errorf("the other replica: ok=%v wait=%v err=%v, want the same refusal", ok, other, err)
	}
}

// TestSharedAgentWithoutBudgetTouchesNoStore: an agent with no budget (no
// default, or an override of 0) sends no command at all, as the server's
// own statistics show; an agent with one sends one script a call.
func TestSharedAgentWithoutBudgetTouchesNoStore(t *testing.T) {
	srv := redistest.Start(t)
	fleet, _ := replicas(t, srv, 1, func() *budget.Limiter { return budget.New(0, map[string]int{"trusted-bot": 0, "batch-bot": 1000}) })
	ctx := t.Context()
	before := commandCalls(t, srv)
	for range 1000 {
		for _, agent := range []string{"reader-bot", "trusted-bot"} {
			if ok, _, err := fleet[0].Spend(ctx, agent); !ok || err != nil {
				t.Fatalf("%s refused with no budget: %v", agent, err)
			}
		}
	}
	if after := commandCalls(t, srv); total(after) != total(before) {
		t.Fatalf("agents without a budget caused %d commands, want none: %v", total(after)-total(before), after)
	}
	for range 10 {
		fleet[0].Spend(ctx, "batch-bot")
	}
	// The first call may be EVALSHA, answered NOSCRIPT, then EVAL.
	if after := commandCalls(t, srv); after["evalsha"]-before["evalsha"] != 10 || after["eval"]-before["eval"] > 1 {
		t.Errorf("10 budgeted calls caused %v, want 10 EVALSHA and at most one EVAL", after)
	}
}

// commandCalls is how many commands the server ran, INFO and CONFIG aside,
// by name; those a script runs count under their own names as well as the
// script's.
func commandCalls(t testing.TB, srv *redistest.Server) map[string]int {
	t.Helper()
	info, err := srv.Client().Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		name = strings.TrimPrefix(name, "cmdstat_")
		if !ok || name == "info" || name == "config" || name == "ping" || name == "hello" {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		c, err := strconv.Atoi(calls)
		if err != nil {
			t.Fatalf("commandstats line %q", line)
		}
		m[name] = c
	}
	return m
}

func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// TestSharedWhenTheStoreDies: with the store killed, the first call that
// cannot reach it marks it unavailable; under deny_shared each replica
// then spends from its own bucket at the same rate (so the fleet may spend
// up to three budgets between them), and under deny_all every budgeted
// call is refused with state.ErrUnavailable while an agent without a
// budget goes on. When the store is back (empty, as a restarted Redis
// without persistence is), the fleet shares one budget again, and what was
// spent locally was not added to it: exactly the budget goes.
func TestSharedWhenTheStoreDies(t *testing.T) {
	for _, mode := range []string{config.UnavailableDenyShared, config.UnavailableDenyAll} {
		t.Run(mode, func(t *testing.T) {
			srv := redistest.Start(t)
			c := &fleetClock{t: time.Unix(1_790_000_000, 0)}
			fleet, stores := replicas(t, srv, 3, func() *budget.Limiter {
				return budget.New(0, map[string]int{"reader-bot": 5}, budget.WithClock(c.now))
			}, budget.WithStoreClock(c.now), budget.WithWhenUnavailable(mode))
			ctx := t.Context()
			for i := range 3 {
				if ok, _, err := fleet[i].Spend(ctx, "reader-bot"); !ok || err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}

			srv.Stop()
			allowed := 0
			for i := range 30 {
				ok, wait, err := fleet[i%3].Spend(ctx, "reader-bot")
				switch {
				case mode == config.UnavailableDenyAll:
					if ok || !errors.Is(err, state.ErrUnavailable) {
						t.Fatalf("deny_all, store down: ok=%v err=%v, want refused with ErrUnavailable", ok, err)
					}
				case err != nil:
					t.Fatalf("deny_shared, store down: %v", err)
				case ok:
					allowed++
				case wait <= 0 || wait > 12*time.Second:
					t.Errorf("local refusal with wait %v, want up to 12s", wait)
				}
			}
			if want := map[string]int{config.UnavailableDenyShared: 15, config.UnavailableDenyAll: 0}[mode]; allowed != want {
				t.Errorf("%d calls allowed while the store was down, want %d", allowed, want)
			}
			for i, st := range stores {
				if st.Available() {
					t.Errorf("replica %d still thinks the store is available", i)
				}
			}
			if ok, _, err := fleet[0].Spend(ctx, "no-budget-bot"); !ok || err != nil {
				t.Errorf("an agent without a budget, store down: ok=%v err=%v", ok, err)
			}

			srv.Restart()
			waitAvailable(t, stores)
			allowed = 0
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i := range 30 {
				wg.Go(func() {
					ok, _, err := fleet[i%3].Spend(ctx, "reader-bot")
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						t.Error(err)
					}
					if ok {
						allowed++
					}
				})
			}
			wg.Wait()
			if allowed != 5 {
				t.Errorf("%d calls allowed once the store was back, want exactly the budget of 5", allowed)
			}
		})
	}
}

// waitAvailable runs each store's check until it sees the server again,
// and keeps it running to the end of the test (a check cut short reports
// the store unavailable). It waits on a condition, not on time: the
// deadline only ends a test that would otherwise hang.
func waitAvailable(t *testing.T, stores []*state.Store) {
	t.Helper()
	for _, st := range stores {
		go st.Watch(t.Context(), 10*time.Millisecond)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, st := range stores {
		for !st.Available() {
			if time.Now().After(deadline) {
				t.Fatal("the store did not come back")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// The memory limiter and the shared one are interchangeable for callers.
var _ interface {
	Spend(context.Context, string) (bool, time.Duration, error)
	Limit(string) int
} = (*budget.Shared)(nil)

// BenchmarkSharedSpend is the cost a call pays for a budget the fleet
// shares: one script on the store, here on loopback, from one caller and
// from many at once. p50-µs is the median call.
func BenchmarkSharedSpend(b *testing.B) {
	srv := redistest.Start(b)
	fleet, _ := replicas(b, srv, 1, func() *budget.Limiter { return budget.New(0, map[string]int{"reader-bot": 1 << 30}) })
	s := fleet[0]
	ctx := context.Background()
	if _, _, err := s.Spend(ctx, "reader-bot"); err != nil { // loads the script
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		lat := make([]time.Duration, 0, 1<<16)
		for b.Loop() {
			start := time.Now()
			if ok, _, err := s.Spend(ctx, "reader-bot"); !ok || err != nil {
				b.Fatal(ok, err)
			}
			if len(lat) < cap(lat) {
				lat = append(lat, time.Since(start))
			}
		}
		reportMedian(b, lat)
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var mu sync.Mutex
		var lat []time.Duration
		b.RunParallel(func(pb *testing.PB) {
			var mine []time.Duration
			for pb.Next() {
				start := time.Now()
				if ok, _, err := s.Spend(ctx, "reader-bot"); !ok || err != nil {
					b.Error(ok, err)
					return
				}
				if len(mine) < 1<<14 {
					mine = append(mine, time.Since(start))
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
		reportMedian(b, lat)
	})
	b.Run("no-budget", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Spend(ctx, "unlimited-bot")
		}
	})
}

func reportMedian(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
}

// TestSharedRunsUnderTheDocumentedACL: the ACL user docs/scaling.md
// recommends can run the budgets' script (a script runs with its caller's
// rights: TIME needs its own grant).
func TestSharedRunsUnderTheDocumentedACL(t *testing.T) {
	srv := redistest.Start(t)
	cfg := srv.DocumentedACLConfig("../../docs/scaling.md")
	st, err := state.Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := budget.NewShared(st, budget.New(1, nil), budget.WithWhenUnavailable(config.UnavailableDenyAll))
	if ok, _, err := b.Spend(t.Context(), "reader-bot"); !ok || err != nil {
		t.Fatalf("first call under the documented ACL: ok=%v err=%v", ok, err)
	}
	if ok, wait, err := b.Spend(t.Context(), "reader-bot"); ok || err != nil || wait <= 0 {
		t.Fatalf("second call: ok=%v wait=%v err=%v, want refused", ok, wait, err)
	}
}
