package forward

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// retryMargin is kept free before the deadline: a retry that would finish
// only just in time is not worth starting.
const retryMargin = 250 * time.Millisecond

// maxConcurrencyAttempts bounds the attempts of a call that keeps meeting
// Okta's concurrent limit. With the default 100ms base the back-offs add up
// to a few seconds at most, time enough for the lowered cap to take hold.
const maxConcurrencyAttempts = 8

// retryConcurrency is the reason label of a retry after Okta's concurrent
// limit, told apart from a spent bucket's (okta_rate_limited).
const retryConcurrency = "okta_concurrency_limited"

// retryAfter decides whether attempt's failure is worth another attempt, and
// after how long.
//
//   - 429 for Okta's concurrent limit: Okta did not process the request and
//     no bucket is spent; any method is sent again after a short jittered
//     back-off (not Okta's reset, only an estimate), up to
//     maxConcurrencyAttempts in all, while the deadline allows. The cap in
//     force was lowered meanwhile (inflight.go).
//   - Any other 429: Okta did not process the request, so any method may be
//     sent again once the window resets; once, and only if the deadline
//     allows the wait.
//   - A read (GET) that failed in transit, timed out, or got 502/503/504:
//     retried with jittered exponential back-off within the deadline.
//   - Anything else, and every write that may have reached Okta: not retried.
//     A write that timed out or lost its connection may have been applied
//     (KindOutcomeUnknown); sending it again blindly could apply it twice.
func (c *Client) retryAfter(ctx context.Context, call *catalog.Call, attempt int, err error) (time.Duration, bool) {
	var fe *Error
	if err == nil || !errors.As(err, &fe) || ctx.Err() != nil {
		return 0, false
	}
	switch {
	case fe.Kind == KindOutcomeUnknown:
		return 0, false
	case fe.Kind == KindRateLimited && fe.Concurrent:
		if attempt >= maxConcurrencyAttempts {
			return 0, false
		}
		wait := backoff(attempt, c.opts.retryBase)
		return wait, fits(ctx, wait, c.opts.maxRetryWait)
	case fe.Kind == KindRateLimited && !fe.Held:
		if attempt > 1 || !fits(ctx, fe.RetryAfter, c.opts.maxRetryWait) {
			return 0, false
		}
		return fe.RetryAfter, true
	case call.Action.Method != http.MethodGet || attempt >= c.opts.maxReadAttempts:
		return 0, false
	case fe.Kind == KindTimeout, fe.Kind == KindUnavailable && (fe.Status == 0 || fe.Status == 502 || fe.Status == 503 || fe.Status == 504):
		wait := backoff(attempt, c.opts.retryBase)
		return wait, fits(ctx, wait, c.opts.maxRetryWait)
	}
	return 0, false
}

// backoff is full-jitter exponential back-off: a random wait up to
// base·2^(attempt-1), capped at 2s, so retrying callers spread out.
func backoff(attempt int, base time.Duration) time.Duration {
	ceiling := min(base<<(attempt-1), 2*time.Second)
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond
}

// fits reports whether waiting d still leaves time before ctx's deadline,
// and d is within the longest wait Bollard accepts.
func fits(ctx context.Context, d, longest time.Duration) bool {
	if d > longest {
		return false
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d+retryMargin
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
