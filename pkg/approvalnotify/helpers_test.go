package approvalnotify_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvalnotify"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// sentinel is a parameter value no body may carry.
const sentinel = "SENTINEL-PERSONAL-DATA-4711"

var (
	ann = approval.Person{Subject: "00uANN", Email: "ann@example.com", Groups: []string{"security-approvers", "oncall"}}
	bob = approval.Person{Subject: "00uBOB", Email: "bob@example.com", Groups: []string{"security-approvers", "oncall"}}
	t0  = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newStore() (*approval.Store, *clock) {
	c := &clock{t: t0}
	return approval.New(approval.WithClock(c.now), approval.WithLimits(1000, 1000)), c
}

// request is a call waiting for approval whose parameters, and whatever
// else a body must not carry, hold the sentinel.
func request(agent string, approvals int) approval.Request {
	return approval.Request{
		Binding:     approval.Binding{Agent: agent, Action: "user_lifecycle.deactivate", ParamsHash: [32]byte{1}},
		Params:      map[string]any{"userId": "00u" + sentinel, "profile": map[string]any{"email": sentinel + "@example.com"}},
		OnBehalfOf:  sentinel + "-on-behalf",
		Concerns:    []string{sentinel + "-concerned"},
		DecisionID:  "dec-1",
		TraceParent: "00-" + sentinel + "-01",
		Requirement: approval.Requirement{
			Approvers: []approval.Set{{Groups: []string{"security-approvers"}, Users: []string{"ann@example.com"}}, {Groups: []string{"oncall"}}},
			Approvals: approvals, TTL: 15 * time.Minute,
			Reason: "deactivating a user who holds an admin role needs a security engineer"},
	}
}

func create(t *testing.T, s *approval.Store, r approval.Request) approval.Approval {
	t.Helper()
	a, err := s.Create(r)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// hook is a webhook that records what it gets and answers as told.
type hook struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	// answer writes the answer to the n-th request (from 1); nil: 204.
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

func newHook(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *hook {
	h := &hook{answer: answer}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, body)
		h.heads = append(h.heads, r.Header.Clone())
		n := len(h.bodies)
		h.mu.Unlock()
		if h.answer == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.answer(n, w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) received() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

// statuses answers the n-th request with codes[n-1], and the last code after.
func statuses(codes ...int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(codes[min(n, len(codes))-1])
	}
}

// start starts a notifier with quick retries, closed at the test's end.
func start(t *testing.T, s *approval.Store, url string, opts ...approvalnotify.Option) *approvalnotify.Notifier {
	t.Helper()
	n, err := approvalnotify.Start(t.Context(), s, url, append([]approvalnotify.Option{
		approvalnotify.WithBackoff(time.Millisecond, 5*time.Millisecond), approvalnotify.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n
}

// eventually waits for cond, failing the test after 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// logs is a log sink the notifier writes while the test reads it.
type logs struct{ tooltest.Buffer }

func (l *logs) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
