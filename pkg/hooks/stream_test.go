package hooks

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// replica is one sidecar's share of the fleet: its store connection, hub,
// stream reader and receiver behind a real HTTP server.
type replica struct {
	*fixture
	store  *state.Store
	stream *Stream
}

type fleetOpts struct {
	events    int
	maxAge    time.Duration
	minStored int
	hubClock  func() time.Time
}

// newReplica starts a replica on the shared store and waits until its
// reader has loaded the stream.
func newReplica(t *testing.T, cfg config.Redis, fo fleetOpts) *replica {
	t.Helper()
	if fo.events == 0 {
		fo.events, fo.maxAge = 1024, 5*time.Minute
	}
	ctx, cancel := context.WithCancel(context.Background())
	store, err := state.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	watched := make(chan struct{})
	go func() { store.Watch(ctx, 20*time.Millisecond); close(watched) }()
	f := &fixture{obs: &recorder{}, clock: newClock(), logs: &tooltest.Buffer{}}
	hubOpts := []HubOption{WithReplay(fo.events, 1<<20, fo.maxAge), WithDefaultBuffer(4096)}
	if fo.hubClock != nil {
		hubOpts = append(hubOpts, WithHubClock(fo.hubClock))
	}
	hub, err := NewHub(hubOpts...)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := NewStream(store, hub, WithRetention(fo.events, fo.maxAge), WithBlock(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if fo.minStored > 0 {
		stream.maxlen = max(fo.events, fo.minStored)
	}
	stream.opts.retryCeil = 100 * time.Millisecond
	rc, err := NewReceiver(hub, WithAuth(testHeader, testSecret), WithObserver(f.obs), WithStream(stream))
	if err != nil {
		t.Fatal(err)
	}
	f.hub, f.rc = hub, rc
	f.srv = httptest.NewServer(rc)
	ran := make(chan error, 1)
	go func() { ran <- stream.Run(ctx) }()
	t.Cleanup(func() {
		f.srv.Close()
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
		<-watched
		hub.Close()
		store.Close()
	})
	select {
	case <-stream.Ready():
	case <-time.After(wait):
		t.Fatal("the stream reader did not load the stream")
	}
	return &replica{fixture: f, store: store, stream: stream}
}

// newFleet starts a redis-server and n replicas sharing it; cfg starts
// more.
func newFleet(t *testing.T, n int, fo fleetOpts) (*redistest.Server, config.Redis, []*replica) {
	srv := redistest.Start(t)
	cfg := srv.Config()
	fleet := make([]*replica, n)
	for i := range fleet {
		fleet[i] = newReplica(t, cfg, fo)
	}
	return srv, cfg, fleet
}

// barrier posts a fresh event through r and expects it next on every
// subscription: whatever was relayed before it, a duplicate included,
// would have come first. No sleep: the stream keeps order.
func barrier(t *testing.T, r *replica, subs ...*Subscription) {
	t.Helper()
	id := fmt.Sprintf("barrier-%d", time.Now().UnixNano())
	r.mustPost(t, ev(id, "user.lifecycle.create"))
	for _, s := range subs {
		expect(t, s, id)
	}
}

// An event delivered to A reaches the watchers on A, B and C once each,
// under the same number on every replica.
func TestFleetFanOut(t *testing.T) {
	_, _, fleet := newFleet(t, 3, fleetOpts{})
	subs := make([]*Subscription, len(fleet))
	for i, r := range fleet {
		subs[i] = subscribe(t, r.hub)
	}
	fleet[0].mustPost(t, ev("e-1", "user.lifecycle.create"), ev("e-2", "group.user_membership.add"))
	var seqs []uint64
	for _, s := range subs {
		m1, m2 := next(t, s), next(t, s)
		if m1.Event == nil || m1.Event.UUID != "e-1" || m2.Event == nil || m2.Event.UUID != "e-2" {
			t.Fatalf("messages %+v, %+v; want e-1, e-2", m1, m2)
		}
		if m2.Event.Seq != m1.Event.Seq+1 || string(m1.Event.Raw) != ev("e-1", "user.lifecycle.create") {
			t.Errorf("e-1, e-2 numbered %d, %d, raw %s", m1.Event.Seq, m2.Event.Seq, m1.Event.Raw)
		}
		seqs = append(seqs, m1.Event.Seq)
	}
	if seqs[0] != seqs[1] || seqs[1] != seqs[2] {
		t.Errorf("e-1 numbered %v across the fleet, want one number", seqs)
	}
	barrier(t, fleet[2], subs...)
	if _, accepted, dups := fleet[0].obs.totals(); accepted != 2 || dups != 0 {
		t.Errorf("A accepted %d, duplicates %d; want 2, 0", accepted, dups)
	}
}

// Okta's retry reaching another replica is a duplicate fleet-wide: B
// answers 200 and publishes nothing; racing deliveries of the same events
// to every replica publish each event once.
func TestFleetDuplicates(t *testing.T) {
	_, _, fleet := newFleet(t, 3, fleetOpts{})
	subs := make([]*Subscription, len(fleet))
	for i, r := range fleet {
		subs[i] = subscribe(t, r.hub)
	}
	fleet[0].mustPost(t, ev("e-1", "user.lifecycle.create"))
	fleet[1].mustPost(t, ev("e-1", "user.lifecycle.create"))
	for _, s := range subs {
		expect(t, s, "e-1")
	}
	barrier(t, fleet[2], subs...)
	if _, accepted, dups := fleet[1].obs.totals(); accepted != 0 || dups != 1 {
		t.Errorf("B accepted %d, duplicates %d; want 0, 1", accepted, dups)
	}

	ids := uuids("u", 60)
	var wg sync.WaitGroup
	for _, r := range fleet {
		for g := range 2 {
			wg.Go(func() {
				for i := 0; i < len(ids); i += 10 {
					batch := make([]string, 0, 10)
					for _, u := range ids[i : i+10] {
						batch = append(batch, ev(u, fmt.Sprintf("type.%d", g)))
					}
					if code, body, err := r.try(http.MethodPost, strings.NewReader(string(envelope(batch...)))); code != 200 {
						t.Errorf("POST = %d %q %v", code, body, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	for _, s := range subs {
		seen := map[string]bool{}
		for range ids {
			m := next(t, s)
			if m.Event == nil || seen[m.Event.UUID] {
				t.Fatalf("message %+v: not a new event", m)
			}
			seen[m.Event.UUID] = true
		}
	}
	barrier(t, fleet[0], subs...)
	accepted, dups := 0, 0
	for _, r := range fleet {
		_, a, d := r.obs.totals()
		accepted, dups = accepted+a, dups+d
	}
	// e-1, two barriers and the 60 once each; the rest duplicates.
	if accepted != 1+2+60 || dups != 1+5*60 {
		t.Errorf("accepted %d, duplicates %d; want 63, 301", accepted, dups)
	}
}

// A watcher that reconnects to another replica with its cursor resumes
// without loss or repeat, and a replica started later answers alike.
func TestFleetResumeElsewhere(t *testing.T) {
	_, cfg, fleet := newFleet(t, 3, fleetOpts{})
	a := subscribe(t, fleet[0].hub)
	fleet[0].mustPost(t, ev("e-1", "t"), ev("e-2", "t"), ev("e-3", "t"))
	expect(t, a, "e-1")
	cursor := next(t, a).Event.Seq // e-2: the last the watcher handled
	a.Close()
	fleet[2].mustPost(t, ev("e-4", "t"))
	fleet[1].mustPost(t, ev("e-5", "t"))

	late := newReplica(t, cfg, fleetOpts{})
	var resumed []*Subscription
	for _, r := range []*replica{fleet[1], late} {
		// Whether B's reader has relayed e-5 yet or not: what it has is
		// replayed, the rest follows live, under one lock.
		s := subscribe(t, r.hub, WithCursor(cursor))
		expect(t, s, "e-3", "e-4", "e-5")
		resumed = append(resumed, s)
	}
	barrier(t, fleet[2], resumed...)
}

// A replica whose reader is behind the one a watcher left skips what the
// watcher saw, instead of answering its cursor as unknown.
func TestResumeAhead(t *testing.T) {
	h, _ := newTestHub(t, WithReplay(8, 1<<20, time.Minute))
	h.share()
	const zero = 1_000_000
	h.prime(zero, nil)
	mk := func(n uint64) *Event {
		return &Event{Seq: zero + n, UUID: fmt.Sprint("e-", n), Type: "t", Received: newClock().now()}
	}
	if err := h.relay(Gap{}, []*Event{mk(1)}); err != nil {
		t.Fatal(err)
	}
	s := subscribe(t, h, WithCursor(zero+3)) // seen elsewhere: e-2 and e-3
	expectNothing(t, s)
	h.relay(Gap{}, []*Event{mk(2), mk(3), mk(4)})
	h.relay(Gap{}, []*Event{mk(4)}) // relayed twice: once
	expect(t, s, "e-4")
	expectNothing(t, s)
	// Further ahead than the retention is made up: unknown, as before.
	far := subscribe(t, h, WithCursor(zero+100))
	expect(t, far, "gap:?0", "e-1", "e-2", "e-3", "e-4")
	if err := h.Publish(mk(9)); err == nil {
		t.Error("Publish on a shared hub accepted")
	}
}

// Retention is bounded by count and age in the store, and every replica,
// started before or after, gives a cursor beyond it the same gap.
func TestFleetRetention(t *testing.T) {
	fo := fleetOpts{events: 4, maxAge: time.Minute, minStored: 4}
	srv, cfg, fleet := newFleet(t, 2, fo)
	cli := srv.Client()
	a := subscribe(t, fleet[0].hub)
	var seqs []uint64
	for _, id := range uuids("u", 10) {
		fleet[1].mustPost(t, ev(id, "t"))
		seqs = append(seqs, next(t, a).Event.Seq)
	}
	stream, meta := fleet[0].stream.stream, fleet[0].stream.meta
	if n := cli.XLen(t.Context(), stream).Val(); n != 4 {
		t.Errorf("stream holds %d events, want 4", n)
	}
	late := newReplica(t, cfg, fo)
	var resumed []*Subscription
	for _, r := range []*replica{fleet[0], fleet[1], late} {
		s := subscribe(t, r.hub, WithCursor(seqs[2]))
		expect(t, s, "gap:3", "u-0006", "u-0007", "u-0008", "u-0009")
		resumed = append(resumed, s)
	}
	barrier(t, fleet[0], resumed...)
	// By age, on a replica whose clock is past the window: the gap counts
	// every event after the cursor, as one process's hub does.
	aged := newReplica(t, cfg, fleetOpts{events: 4, maxAge: time.Minute, minStored: 4,
		hubClock: func() time.Time { return time.Now().Add(2 * time.Minute) }})
	expect(t, subscribe(t, aged.hub, WithCursor(seqs[2])), "gap:8") // u-0003..u-0009 and the barrier
	// Every key expires: the stream, the numbering and each uuid.
	for _, k := range []string{stream, meta, fleet[0].store.Key("hooks", "seen", "u-0000")} {
		if ttl := cli.PTTL(t.Context(), k).Val(); ttl <= 0 {
			t.Errorf("%s has TTL %v, want one", k, ttl)
		}
	}
}

// The store trims by age too: an entry older than the window (a leftover
// written by hand) goes with the next append, and the readers skip it,
// since it is not an event entry.
func TestStreamTrimsByAge(t *testing.T) {
	srv, _, fleet := newFleet(t, 1, fleetOpts{events: 100, maxAge: time.Minute})
	cli := srv.Client()
	stream := fleet[0].stream.stream
	if err := cli.XAdd(t.Context(), &redis.XAddArgs{Stream: stream, ID: "1-0", Values: []string{"u", "old"}}).Err(); err != nil {
		t.Fatal(err)
	}
	s := subscribe(t, fleet[0].hub)
	fleet[0].mustPost(t, ev("new", "t"))
	expect(t, s, "new")
	msgs := cli.XRange(t.Context(), stream, "-", "+").Val()
	if len(msgs) != 1 || msgs[0].Values["u"] != "new" {
		t.Errorf("stream holds %v, want only the new event", msgs)
	}
}

// Redis killed and restarted mid-test: a delivery that cannot be stored is
// answered 503 so that Okta retries it; the watchers on every replica are
// told of a gap of unknown size (what was not yet read is gone with the
// store) and then get the retried event once; an old cursor is answered as
// one from before a restart.
func TestFleetStoreRestart(t *testing.T) {
	srv, _, fleet := newFleet(t, 3, fleetOpts{})
	subs := make([]*Subscription, len(fleet))
	for i, r := range fleet {
		subs[i] = subscribe(t, r.hub)
	}
	fleet[0].mustPost(t, ev("e-1", "t"))
	var cursor uint64
	for _, s := range subs {
		cursor = next(t, s).Event.Seq
	}

	srv.Stop()
	code, body := fleet[0].post(t, envelope(ev("e-2", "t")))
	if code != http.StatusServiceUnavailable || !strings.Contains(body, string(ReasonUnavailable)) {
		t.Fatalf("POST with the store down = %d %q, want 503 %s", code, body, ReasonUnavailable)
	}
	if n := fleet[0].obs.refusals(ReasonUnavailable); n != 1 {
		t.Errorf("%d refusals counted as %s, want 1", n, ReasonUnavailable)
	}

	srv.Restart()
	// Okta's retry, to another replica; until the store answers again
	// every attempt is refused the same way, never half-stored.
	deadline := time.Now().Add(wait)
	for {
		code, body := fleet[1].post(t, envelope(ev("e-2", "t")))
		if code == http.StatusOK {
			break
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("retried POST = %d %q", code, body)
		}
	}
	for _, s := range subs {
		expect(t, s, "gap:?0", "e-2")
	}
	barrier(t, fleet[2], subs...)
	accepted := 0
	for _, r := range fleet {
		_, a, _ := r.obs.totals()
		accepted += a
	}
	if accepted != 3 { // e-1, e-2 and the barrier, once each
		t.Errorf("%d events accepted, want 3", accepted)
	}
	s := subscribe(t, fleet[2].hub, WithCursor(cursor))
	expect(t, s, "gap:?0", "e-2")
}
