package forward

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// counting wraps a handler and counts the requests it sees.
type counting struct {
	n atomic.Int64
	h func(n int64, w http.ResponseWriter, r *http.Request)
}

func (c *counting) handle(w http.ResponseWriter, r *http.Request) { c.h(c.n.Add(1), w, r) }

func rateLimited(w http.ResponseWriter, reset time.Time) {
	w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
	w.Header().Set("X-Rate-Limit-Limit", "100")
	w.Header().Set("X-Rate-Limit-Remaining", "0")
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
	w.WriteHeader(http.StatusTooManyRequests)
	io.WriteString(w, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}`)
}

func answerOK(w http.ResponseWriter, remaining int, reset time.Time) {
	w.Header().Set("X-Rate-Limit-Limit", "10")
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
	io.WriteString(w, `{}`)
}

// The tests that wait out a rate-limit window run in a synctest bubble on
// the in-memory network (newMemClient): the window passes on the bubble's
// clock, at once, and the wait is measured exactly.

func TestRateLimitedCallIsWaitedOutWhenTheDeadlineAllows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reset := time.Now().Add(time.Second)
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				rateLimited(w, reset)
				return
			}
			answerOK(w, 5, time.Now().Add(time.Minute))
		}}
		c := newMemClient(t, srv.handle)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		resp, err := c.Do(ctx, bind(t, "users.delete", map[string]any{"userId": "00u1"}), "d")
		if err != nil || resp.Status != 200 {
			t.Fatalf("Do = %v, %v", resp, err)
		}
		if got := srv.n.Load(); got != 2 {
			t.Errorf("okta saw %d requests, want 2 (a 429 is safe to resend, even for a write)", got)
		}
		if time.Now().Before(reset) {
			t.Errorf("resent at %v, before the window reset at %v", time.Now(), reset)
		}
	})
}

func TestRateLimitedCallFailsWhenTheDeadlineIsSooner(t *testing.T) {
	srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) { rateLimited(w, time.Now().Add(5*time.Second)) }}
	c := newClient(t, srv.handle)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := c.Do(ctx, bind(t, "users.get", map[string]any{"userId": "00u1"}), "d")
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != KindRateLimited || fe.Held || fe.RetryAfter < 3*time.Second {
		t.Fatalf("err = %+v", err)
	}
	if got := srv.n.Load(); got != 1 {
		t.Errorf("okta saw %d requests, want 1", got)
	}
}

func TestRateLimitIsRetriedOnlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) { rateLimited(w, time.Now().Add(time.Second)) }}
		c := newMemClient(t, srv.handle)
		_, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": "00u1"}), "d")
		var fe *Error
		if !errors.As(err, &fe) || fe.Kind != KindRateLimited {
			t.Fatalf("err = %v", err)
		}
		if got := srv.n.Load(); got != 2 {
			t.Errorf("okta saw %d requests, want 2", got)
		}
	})
}

func TestReadsAreRetriedWritesAreNot(t *testing.T) {
	dropFirst := func(status int) *counting {
		return &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				if status == 0 { // a connection reset
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return
				}
				w.WriteHeader(status)
				return
			}
			answerOK(w, 5, time.Now().Add(time.Minute))
		}}
	}
	tests := []struct {
		name     string
		action   string
		params   map[string]any
		status   int
		requests int64
		fails    bool
	}{
		{"read after reset", "users.get", map[string]any{"userId": "00u1"}, 0, 2, false},
		{"read after 503", "users.get", map[string]any{"userId": "00u1"}, 503, 2, false},
		{"read after 500 is not retried", "users.get", map[string]any{"userId": "00u1"}, 500, 1, true},
		{"write after reset", "user_lifecycle.suspend", map[string]any{"userId": "00u1"}, 0, 1, true},
		{"write after 503", "user_lifecycle.suspend", map[string]any{"userId": "00u1"}, 503, 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := dropFirst(tc.status)
			c := newClient(t, srv.handle)
			_, err := c.Do(t.Context(), bind(t, tc.action, tc.params), "d")
			if (err != nil) != tc.fails {
				t.Fatalf("err = %v, want failure %v", err, tc.fails)
			}
			if got := srv.n.Load(); got != tc.requests {
				t.Errorf("okta saw %d requests, want %d", got, tc.requests)
			}
		})
	}
}

func TestHangingReadIsAbandonedAndRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				<-r.Context().Done()
				return
			}
			answerOK(w, 5, time.Now().Add(time.Minute))
		}}
		c := newMemClient(t, srv.handle, WithAttemptTimeout(100*time.Millisecond))
		start := time.Now()
		if _, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": "00u1"}), "d"); err != nil {
			t.Fatal(err)
		}
		if got := srv.n.Load(); got != 2 {
			t.Errorf("okta saw %d requests, want 2", got)
		}
		if d := time.Since(start); d >= time.Second {
			t.Errorf("answered after %v: the hanging attempt was not abandoned at 100ms", d)
		}
	})
}

func TestReserveIsKeptForPeople(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reset := time.Now().Add(2 * time.Second)
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) { answerOK(w, 2, reset) }}
		c := newMemClient(t, srv.handle, WithReserve(0.2)) // keep 2 of 10
		call := bind(t, "users.get", map[string]any{"userId": "00u1"})
		if _, err := c.Do(t.Context(), call, "d"); err != nil {
			t.Fatal(err)
		}
		// The bucket now has 2 left, which is the reserve: a call that cannot
		// wait for the reset is held back without reaching Okta.
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		_, err := c.Do(ctx, call, "d")
		var fe *Error
		if !errors.As(err, &fe) || fe.Kind != KindRateLimited || !fe.Held || fe.RetryAfter <= 0 {
			t.Fatalf("err = %+v, want a held rate limit", err)
		}
		if got := srv.n.Load(); got != 1 {
			t.Errorf("okta saw %d requests, want 1", got)
		}
		// One that can wait goes after the reset.
		start := time.Now()
		if _, err := c.Do(t.Context(), call, "d"); err != nil {
			t.Fatal(err)
		}
		if time.Now().Before(reset.Truncate(time.Second)) || time.Since(start) < 500*time.Millisecond {
			t.Errorf("call went at %v, before the window reset at %v", time.Now(), reset)
		}
		if rl := c.RateLimits()[BucketOf(call.Action)]; rl.Limit != 10 {
			t.Errorf("RateLimits = %v", c.RateLimits())
		}
	})
}

func TestConcurrentCap(t *testing.T) {
	var inFlight, peak atomic.Int64
	release := make(chan struct{})
	srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) {
		now := inFlight.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		<-release
		inFlight.Add(-1)
		answerOK(w, 9, time.Now().Add(time.Minute))
	}}
	c := newClient(t, srv.handle, WithConcurrency(2, 3))
	call := bind(t, "users.list", nil)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Do(t.Context(), call, "d")
			errs <- err
		}()
	}
	// 2 in flight, 3 waiting, 3 refused at once.
	for range 3 {
		err := <-errs
		var fe *Error
		if !errors.As(err, &fe) || !fe.Held || fe.Kind != KindRateLimited {
			t.Fatalf("err = %v, want a held call", err)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); inFlight.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("queued call failed: %v", err)
		}
	}
	if peak.Load() != 2 || srv.n.Load() != 5 {
		t.Errorf("peak in flight %d (want 2), requests %d (want 5)", peak.Load(), srv.n.Load())
	}
}

func TestWaitingForACapIsCancelledByTheCallersDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) { <-release }}
		c := newMemClient(t, srv.handle, WithConcurrency(1, 10))
		call := bind(t, "users.list", nil)
		go c.Do(t.Context(), call, "d") // takes the only place
		synctest.Wait()                 // and holds it, waiting for Okta
		const deadline = 100 * time.Millisecond
		ctx, cancel := context.WithTimeout(t.Context(), deadline)
		defer cancel()
		start := time.Now()
		_, err := c.Do(ctx, call, "d")
		var fe *Error
		if !errors.As(err, &fe) || fe.Kind != KindTimeout {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if d := time.Since(start); d != deadline {
			t.Errorf("the waiting call gave up after %v, want its deadline %v", d, deadline)
		}
		if got := srv.n.Load(); got != 1 {
			t.Errorf("okta saw %d requests, want 1: the second call waits for the place", got)
		}
	})
}

// TestSimulatorsSpentWindowIsWaitedOut: against the Okta simulator's own
// rate limiter (a window of two calls a second), the third call meets a
// 429 and is sent again once the window resets, on the bubble's clock.
func TestSimulatorsSpentWindowIsWaitedOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithRateLimit(2, time.Second))
		c := newMemClient(t, sim.Handler().ServeHTTP, WithReserve(0))
		start := time.Now()
		for i := range 3 {
			if _, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": oktasim.SeedUserAlice}), "d"); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		var statuses []int
		for _, r := range sim.Requests() {
			statuses = append(statuses, r.Status)
		}
		if !slices.Equal(statuses, []int{200, 200, 429, 200}) {
			t.Errorf("okta answered %v, want the 429 waited out", statuses)
		}
		if waited := time.Since(start); waited <= 0 || waited > 2*time.Second {
			t.Errorf("waited %v for a one-second window", waited)
		}
	})
}
