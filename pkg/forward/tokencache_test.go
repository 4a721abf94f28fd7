package forward

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func newStepClock() *stepClock { return &stepClock{t: time.Unix(1_790_000_000, 0)} }

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// waitFlight blocks until no token request for scope is in flight.
func waitFlight(o *OAuth, scope string) {
	e := o.cache.entries[scope]
	e.mu.Lock()
	f := e.flight
	e.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

// authHeader authorizes a fresh request and returns its Authorization value.
func authHeader(t testing.TB, o *OAuth, scope string) (string, error) {
	t.Helper()
	req := httptest.NewRequest("GET", "https://example.okta.com/api/v1/users", nil)
	err := o.Authorize(t.Context(), req, scope)
	return req.Header.Get("Authorization"), err
}

func TestTokenLifetime(t *testing.T) {
	tests := []struct {
		life, before          time.Duration
		wantRefresh, wantStop time.Duration // after obtaining
	}{
		{time.Hour, 0, 55 * time.Minute, time.Hour - 10*time.Second},                     // 5 min < 10%
		{10 * time.Minute, 0, 9 * time.Minute, 10*time.Minute - 10*time.Second},          // 10% < 5 min
		{time.Hour, 20 * time.Minute, 40 * time.Minute, time.Hour - 10*time.Second},      // configured
		{10 * time.Minute, time.Hour, 5 * time.Minute, 10*time.Minute - 10*time.Second},  // at most half the lifetime
		{time.Hour, time.Second, time.Hour - 10*time.Second, time.Hour - 10*time.Second}, // never after retirement
		{20 * time.Second, 0, 18 * time.Second, 18 * time.Second},                        // tiny lifetimes still work
	}
	t0 := time.Unix(1_790_000_000, 0)
	for _, tc := range tests {
		refresh, stop := tokenLifetime(t0, tc.life, tc.before)
		if refresh.Sub(t0) != tc.wantRefresh || stop.Sub(t0) != tc.wantStop {
			t.Errorf("tokenLifetime(%v, before %v) = refresh %v, stop %v; want %v, %v",
				tc.life, tc.before, refresh.Sub(t0), stop.Sub(t0), tc.wantRefresh, tc.wantStop)
		}
	}
}

// TestOAuthSingleFlight runs in a synctest bubble, the fake Okta on the
// in-memory network (its httptest server is only its URL): synctest.Wait
// returns once every caller is blocked, so all of them are known to wait
// behind the gated token requests before the gate opens.
func TestOAuthSingleFlight(t *testing.T) {
	for _, dpop := range []bool{false, true} {
		t.Run(map[bool]string{false: "Bearer", true: "DPoP"}[dpop], func(t *testing.T) {
			key := testECKey()
			f := newFakeOkta(t, key, "kid", dpop)
			synctest.Test(t, func(t *testing.T) {
				f.gate = make(chan struct{})
				cfg := f.config(key, scopeUsersRead, scopeGroupsRead)
				cfg.HTTPClient = serveMem(t, f.srv.Config.Handler)
				o := newTestOAuth(t, cfg)

				const callers = 100
				var wg sync.WaitGroup
				headers := make([]string, 2*callers)
				for i := range headers {
					scope := scopeUsersRead
					if i%2 == 1 {
						scope = scopeGroupsRead
					}
					wg.Go(func() {
						h, err := authHeader(t, o, scope)
						if err != nil {
							t.Error(err)
						}
						headers[i] = h
					})
				}
				synctest.Wait() // every caller waits behind the gate
				close(f.gate)
				wg.Wait()
				for _, scope := range []string{scopeUsersRead, scopeGroupsRead} {
					if n := f.tokenRequests(scope); n != 1 {
						t.Errorf("%d token requests for %s, want 1", n, scope)
					}
				}
				for i, h := range headers {
					if h != headers[i%2] || h == "" {
						t.Fatalf("caller %d got %q, want the shared token %q", i, h, headers[i%2])
					}
				}
				if headers[0] == headers[1] {
					t.Error("two scopes share one token")
				}
			})
		})
	}
}

func TestOAuthWaitersHonourTheirOwnContext(t *testing.T) {
	key := testECKey()
	f := newFakeOkta(t, key, "kid", false)
	synctest.Test(t, func(t *testing.T) {
		f.gate = make(chan struct{})
		cfg := f.config(key, scopeUsersRead)
		cfg.HTTPClient = serveMem(t, f.srv.Config.Handler)
		o := newTestOAuth(t, cfg)

		const patience = 20 * time.Millisecond
		ctx, cancel := context.WithTimeout(t.Context(), patience)
		defer cancel()
		req := httptest.NewRequest("GET", f.srv.URL, nil)
		start := time.Now()
		if err := o.Authorize(ctx, req, scopeUsersRead); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("impatient caller: err = %v, want its own deadline", err)
		}
		if d := time.Since(start); d != patience {
			t.Errorf("impatient caller left after %v, want its own %v", d, patience)
		}
		// The request it started goes on for the others.
		done := make(chan error, 1)
		go func() { _, err := authHeader(t, o, scopeUsersRead); done <- err }()
		close(f.gate)
		if err := <-done; err != nil {
			t.Fatalf("patient caller: %v", err)
		}
		if n := f.tokenRequests(scopeUsersRead); n != 1 {
			t.Errorf("%d token requests, want 1 shared", n)
		}
	})
}

func TestOAuthRefreshesBeforeExpiry(t *testing.T) {
	key := testECKey()
	f := newFakeOkta(t, key, "kid", false)
	failing := map[int]bool{3: true, 5: true}
	f.tokenReply = func(w http.ResponseWriter, _ string, n int) bool {
		if failing[n] {
			oauthError(w, 503, "temporarily_unavailable", "")
			return true
		}
		return false
	}
	clock := newStepClock()
	cfg := f.config(key, scopeUsersRead)
	cfg.Clock = clock.Now
	o := newTestOAuth(t, cfg)
	get := func() string {
		t.Helper()
		h, err := authHeader(t, o, scopeUsersRead)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	requests := func(want int) {
		t.Helper()
		waitFlight(o, scopeUsersRead)
		if n := f.tokenRequests(scopeUsersRead); n != want {
			t.Fatalf("%d token requests, want %d", n, want)
		}
	}

	first := get()
	clock.Advance(54 * time.Minute)
	if get() != first {
		t.Fatal("token replaced long before expiry")
	}
	requests(1)

	// Inside the refresh window: the current token is still used while a new
	// one is requested in the background.
	clock.Advance(2 * time.Minute)
	if get() != first {
		t.Fatal("caller waited for the refresh instead of using the valid token")
	}
	requests(2)
	second := get()
	if second == first {
		t.Fatal("token not refreshed")
	}

	// A failed background refresh keeps the valid token and is retried after
	// a pause, not on every call.
	clock.Advance(56 * time.Minute)
	if get() != second {
		t.Fatal("failed refresh lost the valid token")
	}
	requests(3)
	get()
	requests(3)
	clock.Advance(refreshRetryDelay)
	get()
	requests(4)
	third := get()

	// Past expiry with the endpoint down: an error, then recovery on the next call.
	clock.Advance(time.Hour)
	if _, err := authHeader(t, o, scopeUsersRead); err == nil {
		t.Fatal("expired token used")
	}
	if h := get(); h == third || h == "" {
		t.Fatal("no new token after recovery")
	}
	requests(6)
}
