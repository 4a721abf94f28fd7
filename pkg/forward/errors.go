package forward

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kind classifies a failed Okta call; the gateway maps each kind to a gRPC code.
type Kind string

// Error kinds.
const (
	KindBadRequest  Kind = "okta_bad_request"  // 400: Okta rejected a field; see Causes
	KindNotFound    Kind = "okta_not_found"    // 404
	KindRateLimited Kind = "okta_rate_limited" // 429: retry after RetryAfter
	KindCredential  Kind = "okta_credential"   // 401, or 403 E0000006: Bollard's own credential is at fault
	// KindCredentialUnavailable: Bollard could not obtain a token to send
	// (the OAuth token endpoint refused, or could not be reached).
	KindCredentialUnavailable Kind = "okta_credential_unavailable"
	KindRejected              Kind = "okta_rejected"    // any other 4xx, e.g. a lifecycle rule (E0000056)
	KindUnavailable           Kind = "okta_unavailable" // 5xx, network failure, oversized answer
	KindTimeout               Kind = "okta_timeout"     // no answer in time
	// KindOutcomeUnknown: a write's connection failed or timed out after the
	// request may have reached Okta. Okta may or may not have applied it;
	// only reading the object back tells. Never retried.
	KindOutcomeUnknown Kind = "okta_outcome_unknown"
	// KindUnsupported: 405 E0000022, the endpoint does not take this method.
	// The catalog is checked against Okta's OpenAPI, so this means Okta
	// changed, or the org lacks the feature.
	KindUnsupported Kind = "okta_unsupported"
	KindCanceled    Kind = "canceled" // the caller went away
	KindInternal    Kind = "internal" // a bug on our side
)

// Error is a failed Okta call. Its Error() text is for logs: it names the
// action, status and Okta code, never the credential or the request URL.
type Error struct {
	Kind      Kind
	Action    string
	Status    int
	Code      string   // Okta's errorCode, e.g. E0000007
	Summary   string   // Okta's errorSummary
	Causes    []string // Okta's errorCauses[].errorSummary
	RequestID string
	RateLimit RateLimit
	// RetryAfter is how long to wait before retrying a rate-limited call.
	RetryAfter time.Duration
	// Held is true when Bollard itself held the call back (the bucket is down
	// to the share kept for people, or too many calls wait for a place under
	// the concurrent cap) and Okta never saw it.
	Held bool
	// Concurrent is true on a 429 for Okta's concurrent-request limit, which
	// Okta reports with X-Rate-Limit-Limit and -Remaining both 0: no bucket
	// is spent, and RetryAfter is only Okta's estimate of when a place frees
	// up.
	Concurrent bool
	cause      error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("okta %s: %s: status %d %s %s", e.Action, e.Kind, e.Status, e.Code, e.Summary)
	}
	return fmt.Sprintf("okta %s: %s: %v", e.Action, e.Kind, e.cause)
}

func (e *Error) Unwrap() error { return e.cause }

// oktaErrorBody is Okta's error document.
type oktaErrorBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

const (
	maxCauses     = 20
	maxSummaryLen = 1024
)

func newError(action string, resp *http.Response, out *Response, now time.Time) *Error {
	e := &Error{Action: action, Status: resp.StatusCode, RequestID: out.RequestID, RateLimit: out.RateLimit}
	var body oktaErrorBody
	if json.Unmarshal(out.Body, &body) == nil {
		e.Code = clip(body.ErrorCode, 16)
		e.Summary = clip(body.ErrorSummary, maxSummaryLen)
		for i, c := range body.ErrorCauses {
			if i == maxCauses {
				break
			}
			e.Causes = append(e.Causes, clip(c.ErrorSummary, maxSummaryLen))
		}
	}
	switch s := resp.StatusCode; {
	case s == http.StatusBadRequest:
		e.Kind = KindBadRequest
	case s == http.StatusNotFound:
		e.Kind = KindNotFound
	case s == http.StatusTooManyRequests:
		e.Kind = KindRateLimited
		e.RetryAfter = retryAfter(resp.Header, out.RateLimit, now)
		e.Concurrent = concurrencyLimited(resp.Header)
	case s == http.StatusUnauthorized, s == http.StatusForbidden && (e.Code == "E0000006" || e.Code == ""):
		e.Kind = KindCredential
	case s == http.StatusMethodNotAllowed:
		e.Kind = KindUnsupported
	case s >= 500:
		e.Kind = KindUnavailable
	default:
		e.Kind = KindRejected
	}
	return e
}

// retryAfter prefers Okta's X-Rate-Limit-Reset, measured against Okta's own
// Date header when present so clock skew does not matter, then Retry-After.
func retryAfter(h http.Header, rl RateLimit, now time.Time) time.Duration {
	if rl.Reset > 0 {
		ref := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			ref = d
		}
		if wait := time.Unix(rl.Reset, 0).Sub(ref); wait > 0 {
			return wait.Round(time.Second)
		}
		return time.Second
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return time.Second
}

// concurrencyLimited tells a 429 for Okta's concurrent limit from one for a
// spent bucket: Okta's rate-limit guide has both X-Rate-Limit-Limit and
// X-Rate-Limit-Remaining at 0 for the first. Absent headers are not 0.
func concurrencyLimited(h http.Header) bool {
	return strings.TrimSpace(h.Get("X-Rate-Limit-Limit")) == "0" && strings.TrimSpace(h.Get("X-Rate-Limit-Remaining")) == "0"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
