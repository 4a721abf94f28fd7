package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

const testHeader = "Authorization"

var testSecret = []byte("okta-hook-secret-0123456789")

// wait bounds every wait in the tests: reaching it is the failure, never a
// timing assertion that could flake on a slow machine.
const wait = 5 * time.Second

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 30, 15, 0, 30, 0, time.UTC)} }

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is an Observer that remembers what it was told.
type recorder struct {
	mu         sync.Mutex
	deliveries []Delivery
	rejected   map[Reason]int
}

func (r *recorder) Delivered(_ context.Context, d Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, d)
}

func (r *recorder) Rejected(_ context.Context, reason Reason) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rejected == nil {
		r.rejected = map[Reason]int{}
	}
	r.rejected[reason]++
}

// totals returns the events accepted and duplicated over all deliveries.
func (r *recorder) totals() (deliveries, accepted, duplicates int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.deliveries {
		accepted += len(d.Accepted)
		duplicates += len(d.Duplicates)
	}
	return len(r.deliveries), accepted, duplicates
}

func (r *recorder) refusals(reason Reason) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected[reason]
}

type fixture struct {
	hub   *Hub
	rc    *Receiver
	srv   *httptest.Server
	obs   *recorder
	clock *clock
	logs  *tooltest.Buffer
}

// newFixture serves a receiver over real HTTP, publishing to a fresh hub.
func newFixture(t testing.TB, hubOpts []HubOption, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{obs: &recorder{}, clock: newClock(), logs: &tooltest.Buffer{}}
	hub, err := NewHub(append([]HubOption{WithHubClock(f.clock.now)}, hubOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rc, err := NewReceiver(hub, append([]Option{WithAuth(testHeader, testSecret), WithClock(f.clock.now),
		WithLogger(log), WithObserver(f.obs)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f.hub, f.rc = hub, rc
	f.srv = httptest.NewServer(rc)
	t.Cleanup(func() {
		f.srv.Close()
		hub.Close()
	})
	return f
}

// ev is a System Log event as Okta sends it, trimmed to a few fields.
func ev(uuid, typ string) string {
	return fmt.Sprintf(`{"uuid":%q,"published":"2026-11-30T15:00:29.412Z","eventType":%q,"version":"0",`+
		`"severity":"INFO","displayMessage":"test","actor":{"id":"0oa1","type":"PublicClientApp"},`+
		`"outcome":{"result":"SUCCESS"},"target":[{"id":"00u1","type":"User"}]}`, uuid, typ)
}

// envelope wraps events as Okta delivers them.
func envelope(events ...string) []byte {
	return fmt.Appendf(nil, `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1",`+
		`"source":"https://dev-1.okta.com/api/v1/eventHooks/who1","eventId":"delivery-1",`+
		`"eventTime":"2026-11-30T15:00:30.000Z","contentType":"application/json","data":{"events":[%s]}}`,
		strings.Join(events, ","))
}

// do sends a request to the receiver with the right secret and content
// type unless edit changes them, and returns the status and body.
func (f *fixture) do(t testing.TB, method string, body io.Reader, edit ...func(*http.Request)) (int, string) {
	t.Helper()
	code, b, err := f.try(method, body, edit...)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return code, b
}

// try is do for goroutines other than the test's, which must not call
// t.Fatal.
func (f *fixture) try(method string, body io.Reader, edit ...func(*http.Request)) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, f.srv.URL, body)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set(testHeader, string(testSecret))
	req.Header.Set("Content-Type", "application/json")
	for _, e := range edit {
		e(req)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func (f *fixture) post(t testing.TB, body []byte, edit ...func(*http.Request)) (int, string) {
	t.Helper()
	return f.do(t, http.MethodPost, bytes.NewReader(body), edit...)
}

// mustPost posts a delivery that must be accepted.
func (f *fixture) mustPost(t testing.TB, events ...string) {
	t.Helper()
	if code, body := f.post(t, envelope(events...)); code != http.StatusOK {
		t.Fatalf("POST = %d %q, want 200", code, body)
	}
}

func subscribe(t testing.TB, h *Hub, opts ...SubscribeOption) *Subscription {
	t.Helper()
	s, err := h.Subscribe(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func next(t testing.TB, s *Subscription) Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	m, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return m
}

// expect reads the next messages and checks them against want: a uuid for
// an event, or "gap:N" for a gap of N missed events ("gap:?N" if Unknown).
func expect(t testing.TB, s *Subscription, want ...string) {
	t.Helper()
	for i, w := range want {
		m := next(t, s)
		var got string
		switch {
		case m.Gap != nil && m.Gap.Unknown:
			got = fmt.Sprintf("gap:?%d", m.Gap.Missed)
		case m.Gap != nil:
			got = fmt.Sprintf("gap:%d", m.Gap.Missed)
		default:
			got = m.Event.UUID
		}
		if got != w {
			t.Fatalf("message %d = %s, want %s (all wanted: %v)", i, got, w, want)
		}
	}
}

// expectNothing checks that nothing is waiting. No wait is needed: the hub
// queues synchronously in Publish, so anything due is already there, and
// Next hands out what is queued before it looks at its context, which here
// has already ended.
func expectNothing(t testing.TB, s *Subscription) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	if m, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %+v, %v; want nothing waiting", m, err)
	}
}

// publish publishes events made with ev straight to the hub.
func publish(t testing.TB, h *Hub, uuids ...string) []*Event {
	t.Helper()
	events := make([]*Event, len(uuids))
	for i, u := range uuids {
		events[i] = &Event{UUID: u, Type: "user.lifecycle.create", Raw: []byte(ev(u, "user.lifecycle.create"))}
	}
	if err := h.Publish(events...); err != nil {
		t.Fatal(err)
	}
	return events
}

func uuids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}
