package hooks

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestVerification(t *testing.T) {
	f := newFixture(t, nil)
	challenge := func(v string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("X-Okta-Verification-Challenge", v) }
	}
	noAuth := func(r *http.Request) { r.Header.Del(testHeader) }
	for _, tc := range []struct {
		name  string
		edit  []func(*http.Request)
		code  int
		value string // the verification expected back on 200
	}{
		{"echoed", []func(*http.Request){challenge("9mp2V8Aq-EhkZTafEAE7eBbNCsFOBvDGsRWcT6uaOQOp")}, 200, "9mp2V8Aq-EhkZTafEAE7eBbNCsFOBvDGsRWcT6uaOQOp"},
		// Quotes and markup come back as JSON data, never as JSON or HTML.
		{"hostile value", []func(*http.Request){challenge(`x","verification":"y<script>`)}, 200, `x","verification":"y<script>`},
		{"no challenge", nil, 400, ""},
		{"challenge too long", []func(*http.Request){challenge(strings.Repeat("a", 1025))}, 400, ""},
		{"no secret", []func(*http.Request){challenge("abc"), noAuth}, 401, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, http.MethodGet, nil, tc.edit...)
			if code != tc.code {
				t.Fatalf("GET = %d %q, want %d", code, body, tc.code)
			}
			if code != 200 {
				return
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if len(got) != 1 || got["verification"] != tc.value {
				t.Errorf("body = %q, want verification %q", body, tc.value)
			}
			if strings.Contains(body, "<") {
				t.Errorf("body %q holds markup unescaped", body)
			}
		})
	}
}

func TestAuthFailure(t *testing.T) {
	f := newFixture(t, nil)
	sub := subscribe(t, f.hub)
	wrong := "okta-hook-secret-0123456789X"
	for _, tc := range []struct {
		name string
		edit func(*http.Request)
	}{
		{"missing", func(r *http.Request) { r.Header.Del(testHeader) }},
		{"empty", func(r *http.Request) { r.Header.Set(testHeader, "") }},
		{"wrong", func(r *http.Request) { r.Header.Set(testHeader, wrong) }},
		{"prefix", func(r *http.Request) { r.Header.Set(testHeader, string(testSecret[:5])) }},
		{"other header", func(r *http.Request) { r.Header.Del(testHeader); r.Header.Set("X-Auth", string(testSecret)) }},
		// Which of two values a proxy passes on is anyone's guess.
		{"twice", func(r *http.Request) { r.Header.Add(testHeader, wrong) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.post(t, envelope(ev("u-1", "user.lifecycle.create")), tc.edit)
			if code != http.StatusUnauthorized {
				t.Fatalf("POST = %d %q, want 401", code, body)
			}
			if strings.Contains(body, string(testSecret)) || strings.Contains(body, wrong) {
				t.Errorf("answer %q mentions the secret", body)
			}
		})
	}
	expectNothing(t, sub)
	if got := f.obs.refusals(ReasonUnauthorized); got != 6 {
		t.Errorf("unauthorized refusals = %d, want 6", got)
	}
	if n, _, _ := f.obs.totals(); n != 0 {
		t.Errorf("deliveries = %d, want 0", n)
	}
	if f.rc.dedupe.len() != 0 {
		t.Errorf("refused events were remembered as seen")
	}
	if logs := f.logs.String(); strings.Contains(logs, string(testSecret)) || strings.Contains(logs, wrong) ||
		!strings.Contains(logs, "reason=unauthorized") {
		t.Errorf("logs mention the secret, or not the refusal:\n%s", logs)
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t, nil, WithMaxBodyBytes(4096), WithMaxEvents(3))
	sub := subscribe(t, f.hub)
	contentType := func(ct string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Content-Type", ct) }
	}
	good := ev("u-1", "user.lifecycle.create")
	for _, tc := range []struct {
		name   string
		method string
		body   []byte
		edit   func(*http.Request)
		code   int
		reason Reason
	}{
		{"put", http.MethodPut, envelope(good), nil, 405, ReasonMethod},
		{"text/plain", "", envelope(good), contentType("text/plain"), 415, ReasonMediaType},
		{"no content type", "", envelope(good), func(r *http.Request) { r.Header.Del("Content-Type") }, 415, ReasonMediaType},
		{"utf-16", "", envelope(good), contentType("application/json; charset=utf-16"), 415, ReasonMediaType},
		{"too large", "", envelope(ev(strings.Repeat("u", 5000), "x")), nil, 413, ReasonTooLarge},
		{"not json", "", []byte(`{"eventType":`), nil, 400, ReasonBadJSON},
		{"array", "", []byte(`[]`), nil, 400, ReasonBadJSON},
		{"null", "", []byte(`null`), nil, 400, ReasonBadJSON},
		{"other envelope", "", bytes.Replace(envelope(good), []byte("com.okta.event_hook"), []byte("com.okta.other"), 1), nil, 400, ReasonBadEnvelope},
		{"no data", "", []byte(`{"eventType":"com.okta.event_hook"}`), nil, 400, ReasonBadEnvelope},
		{"events not an array", "", []byte(`{"eventType":"com.okta.event_hook","data":{"events":{}}}`), nil, 400, ReasonBadEnvelope},
		{"too many events", "", envelope(good, good, good, good), nil, 400, ReasonTooManyEvents},
		{"event not an object", "", envelope(`"u-1"`), nil, 400, ReasonBadEvent},
		{"no uuid", "", envelope(`{"eventType":"user.lifecycle.create"}`), nil, 400, ReasonBadEvent},
		{"uuid a number", "", envelope(`{"uuid":7,"eventType":"user.lifecycle.create"}`), nil, 400, ReasonBadEvent},
		{"uuid too long", "", envelope(ev(strings.Repeat("u", 129), "x")), nil, 400, ReasonBadEvent},
		{"uuid with a newline", "", envelope(ev("u-1\nlevel=ERROR", "x")), nil, 400, ReasonBadEvent},
		// encoding/json would match "UUID" to a uuid field; agents read "uuid".
		{"uuid in capitals", "", envelope(`{"UUID":"u-1","eventType":"user.lifecycle.create"}`), nil, 400, ReasonBadEvent},
		{"no eventType", "", envelope(`{"uuid":"u-1"}`), nil, 400, ReasonBadEvent},
		{"one bad event of two", "", envelope(good, `{"uuid":"u-2"}`), nil, 400, ReasonBadEvent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := cmp.Or(tc.method, http.MethodPost)
			var edit []func(*http.Request)
			if tc.edit != nil {
				edit = append(edit, tc.edit)
			}
			code, body := f.do(t, method, bytes.NewReader(tc.body), edit...)
			if code != tc.code || !strings.HasPrefix(body, string(tc.reason)+":") {
				t.Fatalf("%s = %d %q, want %d %s", method, code, body, tc.code, tc.reason)
			}
			if f.obs.refusals(tc.reason) == 0 {
				t.Errorf("refusal %s not counted", tc.reason)
			}
		})
	}
	// A body without a length is cut at the cap all the same.
	code, _ := f.post(t, nil, func(r *http.Request) {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(envelope()), strings.NewReader(strings.Repeat(" ", 5000))))
		r.ContentLength = -1
	})
	if code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversize POST = %d, want 413", code)
	}
	expectNothing(t, sub)

	// The parameters Okta may send are fine.
	f.mustPost(t, good)
	if code, body := f.post(t, envelope(ev("u-3", "x")), contentType("application/json; charset=UTF-8")); code != 200 {
		t.Errorf("charset=UTF-8: %d %q", code, body)
	}
	expect(t, sub, "u-1", "u-3")
}

// Okta retries a delivery it thinks failed: the events come once.
func TestDuplicateDelivery(t *testing.T) {
	f := newFixture(t, nil)
	sub := subscribe(t, f.hub)
	first := envelope(ev("u-1", "user.lifecycle.create"), ev("u-2", "group.user_membership.add"))
	for range 2 {
		if code, body := f.post(t, first); code != 200 {
			t.Fatalf("POST = %d %q", code, body)
		}
	}
	// An overlapping delivery, with a uuid repeated inside it.
	f.mustPost(t, ev("u-2", "group.user_membership.add"), ev("u-3", "user.session.start"), ev("u-3", "user.session.start"))
	expect(t, sub, "u-1", "u-2", "u-3")
	expectNothing(t, sub)
	deliveries, accepted, dups := f.obs.totals()
	if deliveries != 3 || accepted != 3 || dups != 4 {
		t.Errorf("deliveries, accepted, duplicates = %d, %d, %d; want 3, 3, 4", deliveries, accepted, dups)
	}
}

// Deliveries racing with the same events publish each event once.
func TestConcurrentDuplicates(t *testing.T) {
	f := newFixture(t, nil)
	sub := subscribe(t, f.hub, WithBuffer(1000))
	ids := uuids("u", 100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; i < len(ids); i += 10 {
				batch := make([]string, 0, 10)
				for _, u := range ids[i : i+10] {
					batch = append(batch, ev(u, fmt.Sprintf("type.%d", g)))
				}
				if code, body, err := f.try(http.MethodPost, bytes.NewReader(envelope(batch...))); code != 200 {
					t.Errorf("POST = %d %q %v", code, body, err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for range ids {
		m := next(t, sub)
		if m.Event == nil || seen[m.Event.UUID] {
			t.Fatalf("message %+v: not a new event", m)
		}
		seen[m.Event.UUID] = true
	}
	expectNothing(t, sub)
	if _, accepted, dups := f.obs.totals(); accepted != 100 || dups != 700 {
		t.Errorf("accepted, duplicates = %d, %d; want 100, 700", accepted, dups)
	}
}

// Each subscriber gets exactly the events its filter matches, in order,
// with Okta's JSON unchanged.
func TestFilters(t *testing.T) {
	f := newFixture(t, nil)
	lifecycle := subscribe(t, f.hub, WithTypes("user.lifecycle.create", "user.lifecycle.deactivate"))
	groups := subscribe(t, f.hub, WithFilter(func(e *Event) bool { return strings.HasPrefix(e.Type, "group.") }))
	all := subscribe(t, f.hub)

	body, err := os.ReadFile("testdata/delivery.json")
	if err != nil {
		t.Fatal(err)
	}
	if code, msg := f.post(t, body); code != 200 {
		t.Fatalf("POST testdata/delivery.json = %d %q", code, msg)
	}
	f.mustPost(t, ev("u-3", "user.lifecycle.deactivate"), ev("u-4", "user.session.start"), ev("u-5", "group.user_membership.remove"))

	created, added := "5d2c4a3e-8f1b-11ef-9a3c-2b1f5e6d7c8a", "5d2c4a3f-8f1b-11ef-9a3c-2b1f5e6d7c8a"
	expect(t, lifecycle, created, "u-3")
	expect(t, groups, added, "u-5")

	// The events carry Okta's bytes, the delivery's id and time, and
	// sequence numbers in order.
	_, sent, err := parseDelivery(body, 10)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for i, want := range sent {
		got := next(t, all).Event
		if got.UUID != want.UUID || !bytes.Equal(got.Raw, want.Raw) || !bytes.Contains(body, got.Raw) {
			t.Errorf("event %d = %s %s, want %s and the bytes Okta sent", i, got.UUID, got.Raw, want.UUID)
		}
		if got.Delivery != "b5a188b9-5ece-4636-b041-482ffda96311" || !got.Received.Equal(f.clock.now()) || got.Seq <= last {
			t.Errorf("event %d = %+v", i, got)
		}
		last = got.Seq
	}
	expect(t, all, "u-3", "u-4", "u-5")
	for _, s := range []*Subscription{lifecycle, groups, all} {
		expectNothing(t, s)
	}
}

// The span of the delivery's request travels with its events, for links.
func TestSpanContext(t *testing.T) {
	f := newFixture(t, nil)
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	f.srv.Close()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.rc.ServeHTTP(w, r.WithContext(trace.ContextWithSpanContext(r.Context(), sc)))
	}))
	sub := subscribe(t, f.hub)
	f.mustPost(t, ev("u-1", "user.lifecycle.create"))
	if got := next(t, sub).Event.Span; !got.Equal(sc) {
		t.Errorf("Span = %v, want %v", got, sc)
	}
}

// Subscribers that never read cannot hold up Okta's delivery: every POST
// completes, well within the test's deadline, and the stalled ones are
// told what they lost.
func TestStalledSubscribers(t *testing.T) {
	var mu sync.Mutex
	gaps := 0
	f := newFixture(t, []HubOption{WithGapObserver(func(n int) { mu.Lock(); gaps += n; mu.Unlock() })})
	stalled := make([]*Subscription, 5)
	for i := range stalled {
		stalled[i] = subscribe(t, f.hub, WithBuffer(4))
	}
	ids := uuids("u", 1000)
	for i := 0; i < len(ids); i += 10 {
		batch := make([]string, 10)
		for j, u := range ids[i : i+10] {
			batch[j] = ev(u, "user.lifecycle.create")
		}
		f.mustPost(t, batch...) // each with a deadline: a blocked handler fails here
	}
	expect(t, stalled[0], ids[0], ids[1], ids[2], ids[3], "gap:996")
	expectNothing(t, stalled[0])
	mu.Lock()
	defer mu.Unlock()
	if gaps != 5*996 {
		t.Errorf("gap observer counted %d, want %d", gaps, 5*996)
	}
}

// A slow subscriber gets a gap; a fast one, reading alongside, misses
// nothing.
func TestSlowAndFastSubscribers(t *testing.T) {
	f := newFixture(t, nil)
	slow := subscribe(t, f.hub, WithBuffer(2))
	fast := subscribe(t, f.hub, WithBuffer(1))
	ids := uuids("u", 50)

	got := make(chan string, len(ids))
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		for range ids {
			m, err := fast.Next(ctx)
			if err != nil || m.Event == nil {
				done <- fmt.Errorf("fast subscriber: %+v, %v", m, err)
				return
			}
			got <- m.Event.UUID
		}
		done <- nil
	}()
	for _, u := range ids {
		f.mustPost(t, ev(u, "user.lifecycle.create"))
		// Pace on the fast reader so that its buffer of one suffices: what
		// is tested is that the slow one does not slow it, not scheduling.
		if g := <-got; g != u {
			t.Fatalf("fast subscriber got %s, want %s", g, u)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	expect(t, slow, ids[0], ids[1], "gap:48")
	f.mustPost(t, ev("u-late", "user.lifecycle.create"))
	expect(t, slow, "u-late")
}

func TestShutdownDrains(t *testing.T) {
	f := newFixture(t, nil)
	a := subscribe(t, f.hub)
	b := subscribe(t, f.hub, WithBuffer(1))
	f.mustPost(t, ev("u-1", "user.lifecycle.create"), ev("u-2", "user.lifecycle.create"))

	// A subscriber waiting at shutdown sees the end too.
	waiting := subscribe(t, f.hub)
	ended := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		_, err := waiting.Next(ctx)
		ended <- err
	}()

	f.rc.Shutdown()
	f.rc.Shutdown() // idempotent
	if code, _ := f.post(t, envelope(ev("u-3", "user.lifecycle.create"))); code != http.StatusServiceUnavailable {
		t.Errorf("POST after shutdown = %d, want 503", code)
	}
	if code, _ := f.do(t, http.MethodGet, nil); code != http.StatusServiceUnavailable {
		t.Errorf("GET after shutdown = %d, want 503", code)
	}
	expect(t, a, "u-1", "u-2")
	expect(t, b, "u-1", "gap:1")
	for _, s := range []*Subscription{a, b} {
		if _, err := s.Next(t.Context()); !errors.Is(err, ErrClosed) {
			t.Errorf("Next after drain: %v, want ErrClosed", err)
		}
	}
	if err := <-ended; !errors.Is(err, ErrClosed) {
		t.Errorf("waiting subscriber: %v, want ErrClosed", err)
	}
	if _, err := f.hub.Subscribe(); !errors.Is(err, ErrClosed) {
		t.Errorf("Subscribe after shutdown: %v, want ErrClosed", err)
	}
	if n := f.hub.Subscribers(); n != 0 {
		t.Errorf("%d subscribers after shutdown", n)
	}
}

func TestNewReceiverValidates(t *testing.T) {
	hub, _ := NewHub()
	for _, tc := range []struct {
		name string
		hub  *Hub
		opts []Option
		want []string // all reported at once
	}{
		{"no auth", hub, nil, []string{"no auth header", "empty auth secret"}},
		{"empty secret", hub, []Option{WithAuth("Authorization", nil)}, []string{"empty auth secret"}},
		{"secret from a file with its newline", hub, []Option{WithAuth("Authorization", []byte("s3cret\n"))}, []string{"trailing newline"}},
		{"bad header name", hub, []Option{WithAuth("Auth header:", testSecret)}, []string{"not a valid HTTP header name"}},
		{"no hub, bad sizes", nil, []Option{WithAuth("X-Hook", testSecret), WithMaxBodyBytes(0), WithMaxEvents(-1), WithDedupe(0, 10)},
			[]string{"no hub", "max body", "max events", "dedupe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReceiver(tc.hub, tc.opts...)
			if err == nil {
				t.Fatal("NewReceiver succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := NewReceiver(hub, WithAuth("x-okta-hook", testSecret)); err != nil {
		t.Errorf("valid options: %v", err)
	}
}
