package forward

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state"
)

// The fleet tests' parts: a clock the test moves, a door to Okta that
// counts what waits at it, replicas sharing one store, and ways to look
// at the store and the log.

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

// syncAll runs one sync of every replica, as their background loops do,
// twice: the first heartbeats every replica in, the second gives each
// the whole fleet's picture and its share of the cap.
func syncAll(t *testing.T, fleet []replica) {
	t.Helper()
	for range 2 {
		for i, r := range fleet {
			if err := r.fleet.sync(t.Context()); err != nil {
				t.Fatalf("replica %d's sync: %v", i, err)
			}
		}
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

// commandStats returns the store's command counts since CONFIG RESETSTAT,
// without the test's own INFO and CONFIG, the only commands rc sends.
func commandStats(t *testing.T, rc *goredis.Client) map[string]int {
	t.Helper()
	info, err := rc.Info(t.Context(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
		out[strings.TrimPrefix(name, "cmdstat_")] = n
	}
	delete(out, "info")
	delete(out, "config|resetstat")
	return out
}
