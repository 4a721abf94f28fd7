package oktasim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testNow is the simulator clock in tests; fixed so that responses are
// byte-stable.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// testClock is a settable clock for tests that need time to pass.
type testClock struct {
	mu  sync.Mutex
	now time.Time
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

// env is a simulator behind httptest with a client that sends the token.
type env struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *testClock
}

func newEnv(t *testing.T, opts ...Option) *env {
	t.Helper()
	clock := &testClock{now: testNow}
	sim := New(append([]Option{WithClock(clock.Now)}, opts...)...)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, sim: sim, srv: srv, clock: clock}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the simulator's token. body may be nil, a string
// (sent as is) or any value (sent as JSON).
func (e *env) do(method, path string, body any) *response {
	e.t.Helper()
	return e.doToken(method, path, body, "SSWS "+e.sim.APIToken())
}

func (e *env) doToken(method, path string, body any, auth string) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(raw)
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = e.srv.URL + path
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, target, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("read body: %v", err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// want fails the test unless the response has the given status.
func (r *response) want(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// wantError fails the test unless the response is an Okta error with the
// given status and code, and returns the decoded body.
func (r *response) wantError(t *testing.T, status int, code string) oktaErrorBody {
	t.Helper()
	r.want(t, status)
	var e oktaErrorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, r.body)
	}
	if e.ErrorCode != code || e.ErrorLink != code {
		t.Fatalf("errorCode = %q (link %q), want %q; body: %s", e.ErrorCode, e.ErrorLink, code, r.body)
	}
	if !strings.HasPrefix(e.ErrorID, "oae") || e.ErrorSummary == "" || e.ErrorCauses == nil {
		t.Fatalf("error body lacks Okta's fields: %s", r.body)
	}
	return e
}

func (r *response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (r *response) array(t *testing.T) []map[string]any {
	t.Helper()
	var a []map[string]any
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("body is not a JSON array: %v: %s", err, r.body)
	}
	return a
}

type oktaErrorBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorLink    string `json:"errorLink"`
	ErrorID      string `json:"errorId"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

// links parses Okta's Link headers into relation -> URL.
func links(t *testing.T, h http.Header) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range h.Values("Link") {
		url, rel, ok := strings.Cut(l, ">; rel=")
		if !ok || !strings.HasPrefix(url, "<") {
			t.Fatalf("malformed Link header %q", l)
		}
		out[strings.Trim(rel, `"`)] = strings.TrimPrefix(url, "<")
	}
	return out
}

func ids(items []map[string]any) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i], _ = it["id"].(string)
	}
	return out
}

func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = mm[p]
	}
	s, _ := v.(string)
	return s
}

func (e *env) userStatus(id string) string {
	e.t.Helper()
	st, ok := e.sim.UserStatus(id)
	if !ok {
		e.t.Fatalf("user %s does not exist", id)
	}
	return st
}

func newUserBody(login string) map[string]any {
	return map[string]any{"profile": map[string]any{
		"firstName": "Nina", "lastName": "New", "email": login, "login": login,
	}}
}
