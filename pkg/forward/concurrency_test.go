package forward

import (
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// newMemSimClient is a client of a simulator on an in-memory network, for
// tests in a synctest bubble.
func newMemSimClient(t *testing.T, simOpts []oktasim.Option, opts ...Option) (*Client, *oktasim.Sim) {
	t.Helper()
	sim := oktasim.New(append([]oktasim.Option{oktasim.WithAPIToken(token)}, simOpts...)...)
	hc := serveMem(t, sim.Handler())
	c, err := New("http://127.0.0.1:1", append([]Option{WithAPIToken(token), WithHTTPClient(hc)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, sim
}

// TestConcurrencyLimitIsNotASpentBucket: Okta's concurrent limit is lower
// than Bollard's cap (it is shared with every other client of the org). A
// burst of 20 calls meets it, and Bollard backs off and narrows its cap
// instead of waiting out a bucket that is not spent: every call succeeds,
// and the per-minute bucket keeps what Okta last said of it.
func TestConcurrencyLimitIsNotASpentBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, sim := newMemSimClient(t, []oktasim.Option{oktasim.WithConcurrencyLimit(5)}, WithConcurrency(20, 100))
		sim.InjectFault(oktasim.Fault{Method: "GET", PathPrefix: "/api/v1/users", Delay: 50 * time.Millisecond})
		call := bind(t, "users.get", map[string]any{"userId": oktasim.SeedUserAlice})
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			failed []error
		)
		for range 20 {
			wg.Go(func() {
				if _, err := c.Do(t.Context(), call, "d"); err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, err := range failed {
			t.Errorf("call failed: %v", err)
		}
		concurrent := 0
		for _, r := range sim.Requests() {
			if r.Status == 429 {
				concurrent++
			}
		}
		if concurrent == 0 {
			t.Fatal("okta's concurrent limit was never met; the test shows nothing")
		}
		if rl := c.RateLimits()[BucketOf(call.Action)]; rl.Limit != oktasim.DefaultRateLimit || rl.Remaining == 0 {
			t.Errorf("bucket = %+v, want Okta's last per-minute numbers, not the concurrency 429's zeros", rl)
		}
		t.Logf("%d concurrency 429s for 20 calls", concurrent)
		if concurrent > 20 {
			t.Errorf("%d concurrency 429s for 20 calls: retries flood Okta", concurrent)
		}
		lowered := c.InFlightCap()
		if lowered > 5 {
			t.Errorf("cap in force = %d after Okta's limit of 5 was met, want it lowered to 5 or less", lowered)
		}
		// Calls that Okta answers raise it back, one step at a time, to
		// the configured cap.
		sim.ClearFaults()
		for i := 0; c.InFlightCap() < 20; i++ {
			if i > 300 {
				t.Fatalf("cap stuck at %d", c.InFlightCap())
			}
			if _, err := c.Do(t.Context(), call, "d"); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestConcurrencyLimitIsRetriedSoon: Okta's reset on a concurrency 429 is
// only an estimate and says nothing of the bucket; the call is retried after
// a short back-off, not at the reset.
func TestConcurrencyLimitIsRetriedSoon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				overConcurrentLimit(w, time.Now().Add(time.Minute))
				return
			}
			answerOK(w, 5, time.Now().Add(time.Minute))
		}}
		c := newMemClient(t, srv.handle)
		start := time.Now()
		call := bind(t, "users.create", createParams("x@example.com"))
		if _, err := c.Do(t.Context(), call, "d"); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d >= time.Second {
			t.Errorf("retried after %v, want a short back-off", d)
		}
		if got := srv.n.Load(); got != 2 {
			t.Errorf("okta saw %d requests, want 2 (a 429 is safe to resend, even for a write)", got)
		}
		if rl := c.RateLimits()[BucketOf(call.Action)]; rl.Remaining != 5 {
			t.Errorf("bucket = %+v", rl)
		}
	})
}

// TestSpentBucketStillWaitsForItsReset: a 429 with a limit is a spent
// bucket, as before: recorded, waited out until its reset, and the cap on
// requests in flight is left alone.
func TestSpentBucketStillWaitsForItsReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reset := time.Now().Add(5 * time.Second)
		var seen RateLimit
		var c *Client
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				rateLimited(w, reset)
				return
			}
			seen = c.RateLimits()["GET /api/v1/users/{userId}"]
			answerOK(w, 5, reset.Add(time.Minute))
		}}
		c = newMemClient(t, srv.handle)
		if _, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": "00u1"}), "d"); err != nil {
			t.Fatal(err)
		}
		if time.Now().Before(reset) {
			t.Errorf("retried before the window reset")
		}
		if seen.Limit != 100 || seen.Remaining != 0 {
			t.Errorf("bucket while waiting = %+v, want the 429's numbers", seen)
		}
		if got := c.InFlightCap(); got != defaultOptions.maxInFlight {
			t.Errorf("cap = %d, want the configured %d", got, defaultOptions.maxInFlight)
		}
	})
}

// overConcurrentLimit answers as Okta does past its concurrent limit.
func overConcurrentLimit(w http.ResponseWriter, reset time.Time) {
	w.Header().Set("X-Rate-Limit-Limit", "0")
	w.Header().Set("X-Rate-Limit-Remaining", "0")
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
	w.WriteHeader(http.StatusTooManyRequests)
	io.WriteString(w, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}`)
}
