package approvalnotify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
)

// maxDrain is how much of an answer's body is read, to reuse the
// connection; it is never logged.
const maxDrain = 4 << 10

// outcome is what one POST came to.
type outcome int

const (
	delivered outcome = iota
	retry             // a network error, 429 or 5xx
	final             // any other answer: sending it again would not help
	stopped           // the notifier is closing
)

// claimPurpose names the notification in Store.Claim.
const claimPurpose = "notify"

// deliver POSTs the approval's notification until the webhook takes it,
// refuses it, every attempt is spent, the approval is no longer pending,
// or the notifier closes.
func (n *Notifier) deliver(ctx context.Context, id string) {
	log := n.log.With("approval_id", id)
	for attempt := 1; ; attempt++ {
		// Read again before each attempt: a decided or expired approval
		// is not announced.
		a, err := n.store.Get(id)
		if err != nil || a.State != approval.Pending {
			n.abandoned.Add(1)
			log.Debug("approval notification not sent: no longer pending", "attempts", attempt-1)
			return
		}
		// One replica of a fleet announces it; the others, which see it
		// in the shared store too, leave it.
		if attempt == 1 {
			if first, err := n.store.Claim(claimPurpose, a); !first {
				if err != nil {
					n.failed.Add(1)
					log.Warn("approval notification not sent: the store cannot say whether another replica sends it", "error", err.Error())
				}
				return
			}
		}
		body, err := n.body(a)
		if err != nil {
			n.failed.Add(1)
			log.Error("approval notification not built", "error", err)
			return
		}
		out, status, wait, reason := n.post(ctx, body)
		switch {
		case out == delivered:
			n.sent.Add(1)
			log.Debug("approval notification sent", "status", status, "attempt", attempt)
			return
		case out == stopped:
			return
		case out == final:
			n.failed.Add(1)
			log.Warn("approval notification refused; not retried", "status", status, "error", reason, "attempt", attempt)
			return
		case attempt >= n.maxAttempts:
			n.failed.Add(1)
			log.Warn("approval notification failed; giving up", "status", status, "error", reason, "attempts", attempt)
			return
		}
		wait = max(wait, n.delay(attempt))
		log.Info("approval notification failed; retrying", "status", status, "error", reason, "attempt", attempt, "retry_in", wait)
		if sleep(ctx, wait) != nil {
			return
		}
	}
}

// post sends body once. reason says why it failed, never repeating the
// URL; wait is the server's Retry-After, capped at the back-off's cap.
func (n *Notifier) post(ctx context.Context, body []byte) (out outcome, status int, wait time.Duration, reason string) {
	rctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, n.webhook(n.log), bytes.NewReader(body))
	if err != nil {
		return final, 0, 0, "the request could not be built"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", n.userAgent)
	resp, err := n.client.Do(req)
	if err != nil {
		if ctx.Err() != nil { // the notifier closes; a timeout is rctx's alone
			return stopped, 0, 0, ""
		}
		return retry, 0, 0, scrub(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	_ = resp.Body.Close()
	status = resp.StatusCode
	switch {
	case status >= 200 && status < 300:
		return delivered, status, 0, ""
	case status == http.StatusTooManyRequests || status >= 500:
		return retry, status, min(retryAfter(resp.Header.Get("Retry-After")), n.maxBackoff), http.StatusText(status)
	case status >= 300 && status < 400:
		return final, status, 0, "a redirect, which is not followed"
	}
	return final, status, 0, http.StatusText(status)
}

// scrub is a transport error without the URL, which *url.Error repeats.
func scrub(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timed out"
		}
		err = ue.Err
	}
	return err.Error()
}

// retryAfter reads a Retry-After given in seconds; a date or nonsense is 0.
func retryAfter(v string) time.Duration {
	s, err := strconv.Atoi(v)
	if err != nil || s < 0 {
		return 0
	}
	return time.Duration(min(s, 3600)) * time.Second
}

// delay is the wait after the attempt-th failure: the back-off doubled
// each time, capped, then spread by ±25% so that a fleet does not retry in
// step.
func (n *Notifier) delay(attempt int) time.Duration {
	d := n.backoff
	for i := 1; i < attempt && d < n.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, n.maxBackoff)
	return d*3/4 + rand.N(d/2+1)
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
