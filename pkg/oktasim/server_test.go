package oktasim

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name, auth string
		ok         bool
	}{
		{"missing", "", false},
		{"wrong token", "SSWS not-the-token", false},
		{"bearer scheme", "Bearer secret-token", false},
		{"no scheme", "secret-token", false},
		{"ssws", "SSWS secret-token", true},
		{"scheme is case-insensitive", "ssws secret-token", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, WithAPIToken("secret-token"))
			resp := e.doToken("GET", "/api/v1/users/"+SeedUserAlice, nil, tt.auth)
			if tt.ok {
				resp.want(t, 200)
				return
			}
			got := resp.wantError(t, 401, CodeInvalidToken)
			if got.ErrorSummary != "Invalid token provided" {
				t.Errorf("errorSummary = %q", got.ErrorSummary)
			}
		})
	}
	t.Run("token always required", func(t *testing.T) {
		e := newEnv(t, WithAPIToken(""))
		if e.sim.APIToken() != DefaultAPIToken {
			t.Fatalf("empty token replaced the default")
		}
		e.doToken("GET", "/api/v1/users", nil, "").wantError(t, 401, CodeInvalidToken)
	})
}

func TestResponseHeaders(t *testing.T) {
	e := newEnv(t)
	seen := map[string]bool{}
	for _, path := range []string{"/api/v1/users", "/api/v1/users/nobody", "/api/v1/logs", "/api/v1/unknown"} {
		resp := e.do("GET", path, nil)
		id := resp.header.Get("X-Okta-Request-Id")
		if id == "" || seen[id] {
			t.Errorf("%s: X-Okta-Request-Id %q missing or reused", path, id)
		}
		seen[id] = true
		if ct := resp.header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		for _, h := range []string{"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} {
			if _, err := strconv.ParseInt(resp.header.Get(h), 10, 64); err != nil {
				t.Errorf("%s: %s = %q", path, h, resp.header.Get(h))
			}
		}
	}
	resp := e.do("DELETE", "/api/v1/sessions/"+SeedSessionBob, nil).want(t, http.StatusNoContent)
	if resp.header.Get("X-Okta-Request-Id") == "" {
		t.Errorf("204 lacks X-Okta-Request-Id")
	}
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/api/v1/widgets", nil).wantError(t, 404, CodePathNotFound)
	e.do("GET", "/api/v1/users/"+SeedUserAlice+"/lifecycle/explode", nil).wantError(t, 404, CodePathNotFound)
	resp := e.do("PATCH", "/api/v1/users/"+SeedUserAlice, nil)
	resp.wantError(t, 405, CodeMethodNotSupported)
	if allow := resp.header.Get("Allow"); allow != "DELETE, GET, POST, PUT" {
		t.Errorf("Allow = %q", allow)
	}
	e.do("GET", "/api/v1/users/"+SeedUserAlice+"/lifecycle/suspend", nil).wantError(t, 405, CodeMethodNotSupported)
}

func TestRequestBodies(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{"", "{", "[]", "null", `{"profile":{}} trailing`, `"text"`} {
		e.do("POST", "/api/v1/groups", body).wantError(t, 400, CodeMalformedBody)
	}
	big := `{"profile":{"name":"x","description":"` + strings.Repeat("a", MaxBodyBytes) + `"}}`
	e.do("POST", "/api/v1/groups", big).wantError(t, http.StatusRequestEntityTooLarge, CodeValidation)
	if n := len(e.do("GET", "/api/v1/groups", nil).want(t, 200).array(t)); n != 6 {
		t.Errorf("refused bodies created groups: %d groups, want the 6 seeded", n)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, WithRateLimit(3, time.Minute))
	reset := strconv.FormatInt(testNow.Truncate(time.Minute).Add(time.Minute).Unix(), 10)
	for i, want := range []string{"2", "1", "0"} {
		resp := e.do("GET", "/api/v1/users/"+SeedUserAlice, nil).want(t, 200)
		if got := resp.header.Get("X-Rate-Limit-Remaining"); got != want {
			t.Errorf("request %d: remaining %s, want %s", i, got, want)
		}
		if resp.header.Get("X-Rate-Limit-Limit") != "3" || resp.header.Get("X-Rate-Limit-Reset") != reset {
			t.Errorf("request %d: limit %s reset %s", i, resp.header.Get("X-Rate-Limit-Limit"), resp.header.Get("X-Rate-Limit-Reset"))
		}
	}
	resp := e.do("GET", "/api/v1/users/"+SeedUserAlice, nil)
	got := resp.wantError(t, 429, CodeRateLimited)
	if got.ErrorSummary != "API call exceeded rate limit due to too many requests." {
		t.Errorf("errorSummary = %q", got.ErrorSummary)
	}
	if resp.header.Get("X-Rate-Limit-Remaining") != "0" || resp.header.Get("X-Rate-Limit-Reset") != reset {
		t.Errorf("429 headers: %v", resp.header)
	}
	// Lifecycle calls share the user bucket; other families have their own.
	e.do("POST", "/api/v1/users/"+SeedUserAlice+"/lifecycle/suspend", nil).wantError(t, 429, CodeRateLimited)
	e.do("GET", "/api/v1/groups", nil).want(t, 200)
	e.do("GET", "/api/v1/users", nil).want(t, 200)
	if st := e.userStatus(SeedUserAlice); st != StatusActive {
		t.Errorf("a rate-limited call changed state: %s", st)
	}
	// The window resets on the simulator's clock.
	e.clock.Advance(time.Minute)
	e.do("GET", "/api/v1/users/"+SeedUserAlice, nil).want(t, 200)
}

func TestBucketLimit(t *testing.T) {
	e := newEnv(t, WithBucketLimit(BucketLogs, 1))
	e.do("GET", "/api/v1/logs", nil).want(t, 200)
	e.do("GET", "/api/v1/logs", nil).wantError(t, 429, CodeRateLimited)
	if got := e.do("GET", "/api/v1/apps", nil).want(t, 200).header.Get("X-Rate-Limit-Limit"); got != strconv.Itoa(DefaultRateLimit) {
		t.Errorf("apps limit = %s", got)
	}
}

func TestFaults(t *testing.T) {
	t.Run("status once", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(Fault{Method: "GET", PathPrefix: "/api/v1/users", Status: 503, Count: 1})
		e.do("GET", "/api/v1/groups", nil).want(t, 200)
		e.do("GET", "/api/v1/users", nil).wantError(t, 503, CodeUnavailable)
		e.do("GET", "/api/v1/users", nil).want(t, 200)
	})
	t.Run("method must match", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(Fault{Method: "POST", Status: 500})
		e.do("GET", "/api/v1/users", nil).want(t, 200)
		e.do("POST", "/api/v1/users/"+SeedUserAlice+"/lifecycle/suspend", nil).wantError(t, 500, CodeInternal)
		if st := e.userStatus(SeedUserAlice); st != StatusActive {
			t.Errorf("a failed call changed state: %s", st)
		}
	})
	t.Run("okta rejects the token", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(Fault{Status: 401})
		e.do("GET", "/api/v1/users", nil).wantError(t, 401, CodeInvalidToken)
		e.sim.ClearFaults()
		e.do("GET", "/api/v1/users", nil).want(t, 200)
	})
	t.Run("custom code", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(Fault{Status: 403, ErrorCode: "E0000005", ErrorSummary: "Invalid session", Count: 2})
		for range 2 {
			got := e.do("GET", "/api/v1/apps", nil).wantError(t, 403, "E0000005")
			if got.ErrorSummary != "Invalid session" {
				t.Errorf("errorSummary = %q", got.ErrorSummary)
			}
		}
		e.do("GET", "/api/v1/apps", nil).want(t, 200)
	})
	t.Run("429 with headers", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(Fault{Status: 429, Count: 1})
		resp := e.do("GET", "/api/v1/logs", nil)
		resp.wantError(t, 429, CodeRateLimited)
		if resp.header.Get("X-Rate-Limit-Remaining") != "0" || resp.header.Get("X-Rate-Limit-Reset") == "" {
			t.Errorf("429 fault headers: %v", resp.header)
		}
	})
	t.Run("slow response times the client out", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(Fault{PathPrefix: "/api/v1/users", Delay: 2 * time.Second, Count: 1})
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/v1/users", nil)
		req.Header.Set("Authorization", "SSWS "+e.sim.APIToken())
		start := time.Now()
		resp, err := e.srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("slow request succeeded with %d", resp.StatusCode)
		}
		if time.Since(start) > time.Second {
			t.Errorf("client waited %v", time.Since(start))
		}
	})
	t.Run("slow but successful", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(Fault{Delay: 30 * time.Millisecond, Count: 1})
		start := time.Now()
		e.do("GET", "/api/v1/users", nil).want(t, 200)
		if time.Since(start) < 30*time.Millisecond {
			t.Errorf("delay not applied")
		}
	})
	t.Run("abort", func(t *testing.T) {
		e := newEnv(t)
		e.sim.InjectFault(Fault{Abort: true, Count: 1})
		req, _ := http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+"/api/v1/users", nil)
		req.Header.Set("Authorization", "SSWS "+e.sim.APIToken())
		if resp, err := e.srv.Client().Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("aborted request got %d", resp.StatusCode)
		}
		e.do("GET", "/api/v1/users", nil).want(t, 200)
		if reqs := e.sim.Requests(); len(reqs) != 2 || reqs[0].Status != 0 || reqs[1].Status != 200 {
			t.Errorf("requests = %+v", reqs)
		}
	})
}

func TestRequestsAreRecorded(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/api/v1/users?limit=1", nil)
	e.doToken("GET", "/api/v1/groups", nil, "")
	got := e.sim.Requests()
	if len(got) != 2 || got[0].Path != "/api/v1/users" || got[0].RawQuery != "limit=1" || got[0].Status != 200 ||
		got[1].Status != 401 || got[0].RequestID == got[1].RequestID {
		t.Errorf("requests = %+v", got)
	}
}

// TestDeterministic checks that two simulators with the same clock answer
// the same requests with the same bytes, ids of created objects included.
func TestDeterministic(t *testing.T) {
	run := func() [][]byte {
		e := newEnv(t)
		var out [][]byte
		out = append(out, e.do("POST", "/api/v1/users", newUserBody("det@example.com")).want(t, 200).body)
		out = append(out, e.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "Det"}}).want(t, 200).body)
		out = append(out, e.do("GET", "/api/v1/apps/"+SeedAppPortal, nil).want(t, 200).body)
		out = append(out, e.do("GET", "/api/v1/users/"+SeedUserAlice+"/factors", nil).want(t, 200).body)
		for i := range out {
			out[i] = bytes.ReplaceAll(out[i], []byte(e.srv.URL), []byte("BASE"))
		}
		return out
	}
	a, b := run(), run()
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Errorf("response %d differs:\n%s\n%s", i, a[i], b[i])
		}
	}
}

func TestUnseeded(t *testing.T) {
	e := newEnv(t, WithSeed(false))
	if n := len(e.do("GET", "/api/v1/users", nil).want(t, 200).array(t)); n != 0 {
		t.Errorf("unseeded org has %d users", n)
	}
	e.do("POST", "/api/v1/users", newUserBody("first@example.com")).want(t, 200)
	if n := len(e.do("GET", "/api/v1/users", nil).want(t, 200).array(t)); n != 1 {
		t.Errorf("after create: %d users", n)
	}
}

func TestServe(t *testing.T) {
	s := New()
	ctx, cancel := context.WithCancel(t.Context())
	addr, err := s.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+addr.String()+"/api/v1/users/"+SeedLoginBob, nil)
	req.Header.Set("Authorization", "SSWS "+DefaultAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := (&http.Client{Timeout: 200 * time.Millisecond}).Get("http://" + addr.String() + "/")
		if err != nil {
			break
		}
		conn.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("server still answering after its context ended")
		}
		time.Sleep(20 * time.Millisecond)
	}

	for _, bad := range []string{":0", "0.0.0.0:0", "192.0.2.1:0", "nonsense", "localhost:0", "127.attacker.example:0"} {
		if _, err := s.Serve(t.Context(), bad); err == nil {
			t.Errorf("Serve(%q) accepted a non-loopback address", bad)
		}
	}
}
