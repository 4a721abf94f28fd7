package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/loopback"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// RateLimit is Okta's view of the bucket the call was counted in.
type RateLimit struct {
	Limit     int64
	Remaining int64
	Reset     int64 // epoch seconds
}

// Response is Okta's answer to a successful call.
type Response struct {
	Status    int
	Body      []byte // exactly as Okta sent it; empty for 204
	RequestID string
	RateLimit RateLimit
	// NextCursor is the after cursor of Okta's rel="next" link; empty on the
	// last page.
	NextCursor string
}

// Client calls one Okta org.
type Client struct {
	base   *url.URL
	cred   Credential
	http   *http.Client
	opts   options
	limits *limits
	fleet  *fleet // nil without a shared store (WithSharedLimits)
}

// New returns a client for the org at orgURL (for example
// https://example.okta.com). The org URL must be https, or http to a literal
// loopback IP (the built-in simulator).
func New(orgURL string, opts ...Option) (*Client, error) {
	o := defaultOptions
	for _, opt := range opts {
		opt(&o)
	}
	base, err := ParseOrgURL(orgURL)
	if err != nil {
		return nil, err
	}
	if o.maxInFlight < 1 || o.maxWaiting < 0 || o.reserve < 0 || o.reserve >= 1 || o.maxReadAttempts < 1 || o.attemptTimeout <= 0 {
		return nil, errors.New("forward: concurrency, reserve, attempts and timeouts must be positive (reserve below 1)")
	}
	cred := o.credential
	if cred == nil {
		return nil, errors.New("forward: a credential is required (WithCredential or WithAPIToken)")
	}
	hc := o.httpClient
	if hc == nil {
		// Every call that may be in flight finds an idle connection.
		hc = &http.Client{Transport: newTransport(o.maxInFlight)}
	}
	// Never follow a redirect: it could carry the credential to another host.
	copied := *hc
	copied.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &Client{base: base, cred: cred, http: &copied, opts: o, limits: newLimits(o.maxInFlight, o.maxWaiting, o.reserve)}
	if o.store != nil {
		if o.fleetMaxInFlight < 1 {
			return nil, errors.New("forward: the fleet's cap on requests in flight must be positive")
		}
		c.fleet = newFleet(o.store, o.fleetMaxInFlight, c.limits.inflight, o)
	}
	return c, nil
}

// ParseOrgURL checks an Okta org URL: an absolute https URL with no path,
// query or credentials, or http to a literal loopback IP (the simulator).
// The API token goes to this URL, so plain http to a name is refused: the
// name could resolve anywhere (see package loopback).
func ParseOrgURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("okta org URL: %w", err)
	}
	switch {
	case u.Host == "":
		return nil, errors.New("okta org URL must be absolute, like https://example.okta.com")
	case u.User != nil:
		return nil, errors.New("okta org URL must not contain credentials")
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("okta org URL must not have a path, query or fragment")
	}
	if err := loopback.CheckURL(u); err != nil {
		return nil, fmt.Errorf("okta org URL %w", err)
	}
	return u, nil
}

// Do sends call to Okta. decisionID is sent in the User-Agent so each Okta
// System Log entry can be matched to its decision.
//
// Before sending, Do holds back when the call's rate-limit bucket is down
// to the share kept for people, and waits for a place under the cap on
// requests in flight (inflight.go); with a shared store, the fleet's
// picture and this sidecar's share of the fleet's cap decide as well, kept
// in memory and in step with the store in the background (fleet.go). A 429
// for Okta's concurrent limit is retried after a short jittered back-off,
// any other 429 once its window resets, and a read that failed in transit
// or with 502/503/504 after a jittered back-off, all only when the deadline
// leaves time for it (retry.go). Writes are never retried after they may
// have reached Okta; one whose connection failed or timed out by then is
// KindOutcomeUnknown (outcome.go).
func (c *Client) Do(ctx context.Context, call *catalog.Call, decisionID string) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.timeout)
	defer cancel()
	bucket := BucketOf(call.Action)
	// With a shared store, each attempt is decided on the fleet's picture
	// as it takes its place (place).
	if wait := c.localReserveWait(bucket); wait > 0 {
		if !fits(ctx, wait, c.opts.maxRetryWait) {
			c.opts.inst.RateLimited(ctx, call.Action.Name, true)
			return nil, &Error{Kind: KindRateLimited, Action: call.Action.Name, Held: true, RetryAfter: wait,
				RateLimit: c.limits.last(bucket)}
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, c.actionError(ctx, call, err)
		}
	}
	for attempt := 1; ; attempt++ {
		// A place under the cap is held for one attempt only: a call
		// waiting to retry leaves its place to the next in line.
		s, counted, err := c.place(ctx, bucket)
		if err != nil {
			fe := c.actionError(ctx, call, err)
			if fe.Kind == KindRateLimited {
				c.opts.inst.RateLimited(ctx, call.Action.Name, true)
			}
			return nil, fe
		}
		out, err := c.doOnce(ctx, call, decisionID)
		var fe *Error
		concurrent := errors.As(err, &fe) && fe.Concurrent
		switch {
		case concurrent:
			c.limits.inflight.done(s, resultConcurrencyLimited)
		case out != nil:
			c.limits.inflight.done(s, resultAnswered)
			c.limits.observe(bucket, out.RateLimit)
		default:
			c.limits.inflight.done(s, resultNone)
		}
		c.finishFleet(bucket, counted, out, concurrent)
		wait, retry := c.retryAfter(ctx, call, attempt, err)
		if !retry {
			if err != nil {
				fe := c.actionError(ctx, call, err)
				if fe.Kind == KindRateLimited {
					c.opts.inst.RateLimited(ctx, call.Action.Name, fe.Held)
				}
				return nil, fe
			}
			return out, nil
		}
		reason := string(fe.Kind)
		if concurrent {
			reason = retryConcurrency
		}
		c.opts.inst.Retry(ctx, call.Action.Name, reason)
		c.opts.logger.LogAttrs(ctx, slog.LevelInfo, "okta call retried",
			slog.String("decision_id", decisionID), slog.String("action", call.Action.Name), slog.Int("attempt", attempt), slog.Duration("wait", wait), slog.String("error", err.Error()))
		if err := sleep(ctx, wait); err != nil {
			return nil, c.actionError(ctx, call, err)
		}
	}
}

// actionError turns any failure into an *Error naming the action.
func (c *Client) actionError(ctx context.Context, call *catalog.Call, err error) *Error {
	var fe *Error
	if errors.As(err, &fe) {
		fe.Action = call.Action.Name
		return fe
	}
	return &Error{Kind: c.transportKind(ctx), Action: call.Action.Name, cause: scrubURLError(err)}
}

// doOnce sends one attempt. A non-2xx answer is returned as both the
// Response (for its rate-limit headers) and an *Error.
func (c *Client) doOnce(ctx context.Context, call *catalog.Call, decisionID string) (*Response, error) {
	if call.Action.Method == http.MethodGet {
		// A read that hangs is abandoned and retried within the deadline.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.attemptTimeout)
		defer cancel()
	}
	// Built on each attempt, with the attempt's context (its span's).
	newRequest := func() (*http.Request, error) {
		return NewRequest(ctx, c.base, call, c.opts.userAgent, decisionID, c.cred)
	}

	start := time.Now()
	ctx, span := telemetry.StartOktaSpan(ctx, c.opts.tracer, call.Action.Method, call.Action.Path, c.base.Hostname())
	var result telemetry.OktaResult
	defer func() {
		telemetry.EndOktaSpan(span, result)
		c.opts.inst.OktaRequest(ctx, call.Action.Name, result.Status, time.Since(start))
	}()
	resp, sent, err := c.send(ctx, newRequest)
	if err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			fe = &Error{Kind: c.failureKind(ctx, call, sent), cause: scrubURLError(err)}
		}
		result.ErrorType = string(fe.Kind)
		return nil, fe
	}
	rl := parseRateLimit(resp.Header)
	result.Status = resp.StatusCode
	result.RequestID = resp.Header.Get("X-Okta-Request-Id")
	// A missing header parses as 0, which must not read as "none left".
	result.RateLimitRemaining, result.HasRateLimit = rl.Remaining, resp.Header.Get("X-Rate-Limit-Remaining") != ""
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.opts.maxResponseBytes+1))
	if err != nil {
		kind := c.transportKind(ctx)
		if writeApplied(call, resp.StatusCode) {
			kind = c.failureKind(ctx, call, true)
		}
		return nil, &Error{Kind: kind, Status: resp.StatusCode, cause: fmt.Errorf("read Okta response: %w", scrubURLError(err))}
	}
	if int64(len(raw)) > c.opts.maxResponseBytes {
		kind := KindUnavailable
		if writeApplied(call, resp.StatusCode) {
			kind = KindOutcomeUnknown
		}
		return nil, &Error{Kind: kind, Status: resp.StatusCode,
			cause: fmt.Errorf("okta response exceeds %d bytes", c.opts.maxResponseBytes)}
	}
	out := &Response{
		Status:    resp.StatusCode,
		Body:      raw,
		RequestID: result.RequestID,
		RateLimit: rl,
	}
	c.opts.logger.LogAttrs(ctx, slog.LevelDebug, "okta call",
		slog.String("decision_id", decisionID), slog.String("action", call.Action.Name), slog.Int("status", resp.StatusCode),
		slog.String("okta_request_id", out.RequestID), slog.Duration("latency", time.Since(start)))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return out, newError(call.Action.Name, resp, out, c.opts.now())
	}
	if call.Action.Paginated() {
		out.NextCursor = nextCursor(resp.Header.Values("Link"))
	}
	return out, nil
}

// send sends the request built by newRequest, once more if the credential
// asks for it after seeing Okta's answer (a DPoP nonce). sent reports
// whether the failed attempt may have put bytes on the wire (sentTrace).
func (c *Client) send(ctx context.Context, newRequest func() (*http.Request, error)) (resp *http.Response, sent bool, err error) {
	for attempt := 0; ; attempt++ {
		req, err := newRequest()
		if err != nil {
			if ctx.Err() != nil {
				return nil, false, err
			}
			if errors.Is(err, ErrScopeNotAllowed) {
				// The catalog needs a scope the configuration does not allow:
				// a deployment error, not an Okta outage.
				return nil, false, &Error{Kind: KindInternal, cause: err}
			}
			return nil, false, &Error{Kind: KindCredentialUnavailable, cause: err}
		}
		// Traced on this request only: the credential's own token request,
		// made above with ctx, must not count.
		var got sentFlag
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), got.trace()))
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, got.Load(), err
		}
		// Every answer is shown to the credential (a new nonce, a revoked
		// token), but only the first may be resent.
		obs, ok := c.cred.(ResponseObserver)
		if !ok || !obs.ObserveResponse(req, resp) || attempt > 0 {
			return resp, true, nil
		}
		// Drain so the connection is reused, then try again.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
}

func (c *Client) transportKind(ctx context.Context) Kind {
	switch {
	case errors.Is(context.Cause(ctx), context.Canceled):
		return KindCanceled
	case ctx.Err() != nil:
		return KindTimeout
	}
	return KindUnavailable
}

func parseRateLimit(h http.Header) RateLimit {
	n := func(k string) int64 {
		v, _ := strconv.ParseInt(strings.TrimSpace(h.Get(k)), 10, 64)
		return v
	}
	return RateLimit{Limit: n("X-Rate-Limit-Limit"), Remaining: n("X-Rate-Limit-Remaining"), Reset: n("X-Rate-Limit-Reset")}
}

// scrubURLError drops the request URL from a transport error: it holds ids
// and query text that belong in the audit record, not in an error string.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
