package forward

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// The token cache holds one access token per scope. A token never carries
// more than the one scope its calls need, so a policy bug that lets a read
// through cannot ride a write-capable token at Okta.
//
// Per scope, at most one token request is in flight (single flight): a burst
// of calls after start-up or expiry costs Okta one token request, not one per
// call, which matters because the token endpoint has its own, small, rate
// limit. Each waiter still honours its own context; the request itself runs
// under the credential's lifetime and a timeout, so one impatient caller
// cannot fail the others.
//
// A token is refreshed ahead of expiry in the background while callers keep
// using the current one, so Authorize waits for Okta only when no valid token
// exists. A failed request is not cached: the next call that needs a token
// tries again (a failed background refresh waits refreshRetryDelay first,
// since the current token still works).

// refreshRetryDelay spaces background refresh attempts after a failure.
const refreshRetryDelay = 5 * time.Second

// cachedToken is one access token for one scope.
type cachedToken struct {
	value     string // the access token
	header    string // Authorization value, built once: "Bearer <token>" or "DPoP <token>"
	ath       string // base64url(SHA-256(value)) for DPoP proofs; empty for Bearer
	refreshAt time.Time
	expiresAt time.Time // stop using it from here on (Okta's expiry minus a margin)
}

// String keeps the token out of anything that formats it.
func (*cachedToken) String() string               { return "access token [redacted]" }
func (t *cachedToken) GoString() string           { return t.String() }
func (t *cachedToken) LogValue() slog.Value       { return slog.StringValue(t.String()) }
func (t *cachedToken) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// tokenLifetime turns Okta's expires_in into when to refresh and when to stop
// using the token. By default the refresh starts when 5 minutes or 10% of the
// lifetime remain, whichever is smaller; before overrides that. The token is
// retired a little before Okta's expiry so it does not expire in flight.
func tokenLifetime(obtained time.Time, life, before time.Duration) (refreshAt, expiresAt time.Time) {
	skew := min(10*time.Second, life/10)
	margin := before
	if margin <= 0 {
		margin = min(5*time.Minute, life/10)
	}
	margin = max(min(margin, life/2), skew)
	return obtained.Add(life - margin), obtained.Add(life - skew)
}

type fetchFunc func(ctx context.Context, scope string) (*cachedToken, error)

type tokenCache struct {
	fetch   fetchFunc
	now     func() time.Time
	life    context.Context // cancelling it aborts token requests in flight
	timeout time.Duration   // bound of one token request, retries included
	logger  *slog.Logger
	// entries is fixed at construction (one per allowed scope) and never
	// written again, so lookups need no lock.
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	cur atomic.Pointer[cachedToken] // read without a lock on every call

	mu      sync.Mutex
	flight  *flight   // non-nil while a token request runs
	retryAt time.Time // no background refresh before this, after a failure
}

// flight is one token request; done is closed when tok or err is set.
type flight struct {
	done chan struct{}
	tok  *cachedToken
	err  error
}

func newTokenCache(life context.Context, scopes []string, fetch fetchFunc, now func() time.Time, timeout time.Duration, logger *slog.Logger) *tokenCache {
	c := &tokenCache{fetch: fetch, now: now, life: life, timeout: timeout, logger: logger, entries: make(map[string]*cacheEntry, len(scopes))}
	for _, s := range scopes {
		c.entries[s] = &cacheEntry{}
	}
	return c
}

// get returns a usable token for scope, requesting one if needed.
func (c *tokenCache) get(ctx context.Context, scope string) (*cachedToken, error) {
	e, ok := c.entries[scope]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrScopeNotAllowed, scope)
	}
	now := c.now()
	if t := e.cur.Load(); t != nil && now.Before(t.refreshAt) {
		return t, nil
	}

	e.mu.Lock()
	t := e.cur.Load()
	if t != nil && now.Before(t.refreshAt) {
		e.mu.Unlock()
		return t, nil
	}
	valid := t != nil && now.Before(t.expiresAt)
	f := e.flight
	if f == nil && (!valid || !now.Before(e.retryAt)) {
		f = c.start(ctx, e, scope)
	}
	e.mu.Unlock()
	if valid {
		return t, nil // any refresh runs in the background
	}
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("okta token for scope %s: %w", scope, context.Cause(ctx))
	}
}

// start launches a token request for e; e.mu must be held. The request keeps
// the caller's context values (trace) but not its cancellation.
func (c *tokenCache) start(ctx context.Context, e *cacheEntry, scope string) *flight {
	f := &flight{done: make(chan struct{})}
	e.flight = f
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	stop := context.AfterFunc(c.life, cancel)
	go func() {
		defer cancel()
		defer stop()
		start := time.Now()
		tok, err := c.fetch(fctx, scope)
		e.mu.Lock()
		e.flight = nil
		if err == nil {
			e.cur.Store(tok)
			e.retryAt = time.Time{}
		} else {
			e.retryAt = c.now().Add(refreshRetryDelay)
		}
		e.mu.Unlock()
		f.tok, f.err = tok, err
		close(f.done)
		if err != nil {
			c.logger.LogAttrs(fctx, slog.LevelWarn, "okta token request failed",
				slog.String("scope", scope), slog.String("error", err.Error()))
			return
		}
		c.logger.LogAttrs(fctx, slog.LevelDebug, "okta token obtained",
			slog.String("scope", scope), slog.Duration("latency", time.Since(start)),
			slog.Time("refresh_at", tok.refreshAt))
	}()
	return f
}

// drop forgets the cached token whose Authorization header is header, after
// Okta rejected it (revoked, or the app's grants changed); the next call
// requests a new one instead of failing until expiry.
func (c *tokenCache) drop(header string) {
	if header == "" {
		return
	}
	for _, e := range c.entries {
		if t := e.cur.Load(); t != nil && t.header == header {
			e.cur.CompareAndSwap(t, nil)
		}
	}
}
