package oktasim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// hookSecret is the Authorization value test receivers demand.
const hookSecret = "s3cret-hook-value"

// hookPost is one POST a receiver got.
type hookPost struct {
	at     time.Time
	header http.Header
	env    envelope
}

// envelope is Okta's event hook request body.
type envelope struct {
	EventType          string `json:"eventType"`
	EventTypeVersion   string `json:"eventTypeVersion"`
	CloudEventsVersion string `json:"cloudEventsVersion"`
	Source             string `json:"source"`
	EventID            string `json:"eventId"`
	EventTime          string `json:"eventTime"`
	ContentType        string `json:"contentType"`
	Data               struct {
		Events []map[string]any `json:"events"`
	} `json:"data"`
}

func (p hookPost) uuid() string      { return str(p.env.Data.Events[0], "uuid") }
func (p hookPost) eventType() string { return str(p.env.Data.Events[0], "eventType") }

// receiver is an event hook endpoint behind httptest. It answers the
// verification handshake as Okta expects unless verify is set, records
// every POST, and answers it with respond (200 when nil), which is given
// the 1-based number of the POST.
type receiver struct {
	srv     *httptest.Server
	verify  http.HandlerFunc
	respond func(w http.ResponseWriter, n int)

	mu       sync.Mutex
	posts    []hookPost
	gets     []http.Header
	arrivals chan struct{} // one value per POST, never blocks
}

func newReceiver(t *testing.T, configure func(*receiver)) *receiver {
	t.Helper()
	rc := &receiver{arrivals: make(chan struct{}, 10000)}
	if configure != nil {
		configure(rc)
	}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

// newMemReceiver is a receiver without a socket, for tests in a synctest
// bubble: the simulator reaches it through client(), which calls it in
// memory, so delivery delays and timeouts pass on the bubble's clock.
func newMemReceiver(configure func(*receiver)) *receiver {
	rc := &receiver{arrivals: make(chan struct{}, 10000)}
	if configure != nil {
		configure(rc)
	}
	return rc
}

// client reaches the receiver in memory, whatever the URL's host.
func (rc *receiver) client() *http.Client {
	return &http.Client{Transport: handlerTransport{http.HandlerFunc(rc.serve)}}
}

// handlerTransport answers requests with h in the calling goroutine. A
// request whose context ended meanwhile fails, as on a real connection.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	ht.h.ServeHTTP(w, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	return w.Result(), nil
}

// memHookEnv is hookEnv in a synctest bubble: a simulator, without an HTTP
// front, with one verified hook on a receiver reached in memory.
func memHookEnv(t *testing.T, configure func(*receiver), types []string, opts ...Option) (*Sim, *receiver, string) {
	t.Helper()
	rc := newMemReceiver(configure)
	clock := &testClock{now: testNow}
	sim := New(append([]Option{WithClock(clock.Now), WithEventHookClient(rc.client())}, opts...)...)
	t.Cleanup(func() { _ = sim.Close() })
	id, err := sim.RegisterEventHook(t.Context(), EventHook{
		Name: "bollard", URL: "http://127.0.0.1/hooks/okta", EventTypes: types,
		Headers: map[string]string{"Authorization": hookSecret, "X-Extra": "yes"},
	})
	if err != nil {
		t.Fatalf("RegisterEventHook: %v", err)
	}
	return sim, rc, id
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		rc.mu.Lock()
		rc.gets = append(rc.gets, r.Header.Clone())
		rc.mu.Unlock()
		if rc.verify != nil {
			rc.verify(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"verification": r.Header.Get(VerificationHeader)})
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var env envelope
	_ = json.Unmarshal(raw, &env)
	rc.mu.Lock()
	rc.posts = append(rc.posts, hookPost{at: time.Now(), header: r.Header.Clone(), env: env})
	n := len(rc.posts)
	rc.mu.Unlock()
	rc.arrivals <- struct{}{}
	if rc.respond != nil {
		rc.respond(w, n)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (rc *receiver) Posts() []hookPost {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hookPost(nil), rc.posts...)
}

func (rc *receiver) Gets() []http.Header {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]http.Header(nil), rc.gets...)
}

// waitPosts waits until the receiver has had n POSTs.
func (rc *receiver) waitPosts(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for len(rc.Posts()) < n {
		select {
		case <-rc.arrivals:
		case <-deadline:
			t.Fatalf("receiver got %d POSTs, want %d", len(rc.Posts()), n)
		}
	}
}

// hookEnv is a simulator with one verified hook on a receiver. The
// simulator is closed at cleanup, before the receiver is.
func hookEnv(t *testing.T, configure func(*receiver), types []string, opts ...Option) (*env, *receiver, string) {
	t.Helper()
	rc := newReceiver(t, configure)
	e := newEnv(t, opts...)
	t.Cleanup(func() { _ = e.sim.Close() })
	id, err := e.sim.RegisterEventHook(t.Context(), EventHook{
		Name: "bollard", URL: rc.srv.URL + "/hooks/okta", EventTypes: types,
		Headers: map[string]string{"Authorization": hookSecret, "X-Extra": "yes"},
	})
	if err != nil {
		t.Fatalf("RegisterEventHook: %v", err)
	}
	return e, rc, id
}

func flush(t *testing.T, s *Sim) {
	t.Helper()
	if err := s.FlushEventHooks(t.Context()); err != nil {
		t.Fatalf("FlushEventHooks: %v", err)
	}
}

// eventsOf returns the System Log events of the given types recorded after
// the first skip events, in order.
func eventsOf(s *Sim, skip int, types ...string) []Event {
	var out []Event
	for _, e := range s.Events()[skip:] {
		for _, typ := range types {
			if e.EventType == typ {
				out = append(out, e)
			}
		}
	}
	return out
}

// mappedEventTypes are the eight types Bollard maps (issue 6).
var mappedEventTypes = []string{
	"user.lifecycle.create", "user.lifecycle.deactivate", "user.account.update_profile",
	"group.user_membership.add", "group.user_membership.remove", "application.lifecycle.activate",
	"application.user_membership.add", "user.session.start",
}
