package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func newURLVerifier(t testing.TB, srv *jwksServer, opts ...JWTOption) (*JWTVerifier, *fakeClock) {
	t.Helper()
	clock := newClock()
	base := []JWTOption{
		WithIssuer(testIssuer), WithAudience(testAudience), WithJWKSURL(srv.URL + "/openid/v1/jwks"),
		WithHTTPClient(srv.Client()), WithClock(clock.Now), WithLogger(testLogger(t)),
	}
	v, err := NewJWTVerifier(t.Context(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v, clock
}

func TestJWKSURLRotation(t *testing.T) {
	oldKey, newKey := ecKeyA(), rsaKeyB()
	srv := newJWKSServer(t, jwksJSON(t, oldKey))
	v, clock := newURLVerifier(t, srv)
	tok := newKey.sign(t, goodClaims("reader-bot"))

	// The issuer rotates before our cache knows; a fetch happened just now,
	// so unknown kids are refused without hammering the JWKS endpoint.
	srv.set(http.StatusOK, jwksJSON(t, oldKey, newKey))
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := v.Authenticate(t.Context(), tok)
			if ReasonOf(err) != ReasonUnknownKeyID {
				t.Errorf("before the gap: %v", err)
			}
		})
	}
	wg.Wait()
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("JWKS fetched %d times, want 1 (rate limit)", got)
	}

	clock.Advance(DefaultMinRefreshInterval)
	for range 50 {
		wg.Go(func() {
			if id, err := v.Authenticate(t.Context(), tok); err != nil || id.ID != "reader-bot" {
				t.Errorf("after rotation: %+v, %v", id, err)
			}
		})
	}
	wg.Wait()
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (one refetch for the new kid)", got)
	}

	// Made-up kids cannot force more than one fetch per gap either.
	for i := range 20 {
		forged := testKey{kid: "forged-" + string(rune('a'+i)), alg: jose.ES256, priv: oldKey.priv}
		_, err := v.Authenticate(t.Context(), forged.sign(t, goodClaims("x")))
		wantReason(t, err, ReasonUnknownKeyID)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("JWKS fetched %d times after forged kids, want 2", got)
	}
}

func TestJWKSFailureKeepsLastGoodKeys(t *testing.T) {
	k := ecKeyA()
	tok := k.sign(t, goodClaims("reader-bot"))
	big := `{"keys":[],"pad":"` + strings.Repeat("x", maxJWKSSize) + `"}`
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string
	}{
		{name: "server error", status: http.StatusInternalServerError, body: "oops", wantErr: "HTTP status 500"},
		{name: "not found", status: http.StatusNotFound, wantErr: "HTTP status 404"},
		{name: "not json", status: http.StatusOK, body: "<html>", wantErr: "parse JWKS"},
		{name: "empty set", status: http.StatusOK, body: `{"keys":[]}`, wantErr: "no usable signing keys"},
		{name: "only unusable keys", status: http.StatusOK, body: `{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}`, wantErr: "no usable signing keys"},
		{name: "too large", status: http.StatusOK, body: big, wantErr: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJWKSServer(t, jwksJSON(t, k))
			v, clock := newURLVerifier(t, srv)
			srv.set(tt.status, []byte(tt.body))

			err := v.Refresh(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Refresh() error = %v, want %q", err, tt.wantErr)
			}
			if id, err := v.Authenticate(t.Context(), tok); err != nil || id.ID != "reader-bot" {
				t.Fatalf("after failed refresh: %+v, %v", id, err)
			}

			// The periodic refresh runs in the background and fails the same way.
			clock.Advance(DefaultRefreshInterval + time.Second)
			before := srv.hits.Load()
			if _, err := v.Authenticate(t.Context(), tok); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return srv.hits.Load() > before && !v.keys.bgRunning.Load() })
			if _, err := v.Authenticate(t.Context(), tok); err != nil {
				t.Fatalf("after failed background refresh: %v", err)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := newJWKSServer(t, jwksJSON(t, k))
		v, _ := newURLVerifier(t, srv, WithFetchTimeout(time.Second))
		srv.Close()
		if err := v.Refresh(t.Context()); err == nil {
			t.Fatal("Refresh() of a closed server succeeded")
		}
		if _, err := v.Authenticate(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("first load fails", func(t *testing.T) {
		srv := newJWKSServer(t, nil)
		srv.set(http.StatusServiceUnavailable, nil)
		_, err := NewJWTVerifier(t.Context(), WithIssuer(testIssuer), WithAudience(testAudience),
			WithJWKSURL(srv.URL), WithLogger(testLogger(t)))
		if err == nil || !strings.Contains(err.Error(), "HTTP status 503") {
			t.Fatalf("NewJWTVerifier() error = %v", err)
		}
	})
}

func TestJWKSBackgroundRefreshPicksUpRotation(t *testing.T) {
	oldKey, newKey := ecKeyA(), rsaKeyA()
	srv := newJWKSServer(t, jwksJSON(t, oldKey, newKey))
	v, clock := newURLVerifier(t, srv)
	oldTok := oldKey.sign(t, goodClaims("reader-bot"))

	// The issuer retires the old key; after the refresh interval it is gone.
	// The refresh is held open so that "while refreshing" is a fact, not a
	// race with a fast machine.
	srv.set(http.StatusOK, jwksJSON(t, newKey))
	release := srv.hold()
	clock.Advance(DefaultRefreshInterval)
	if _, err := v.Authenticate(t.Context(), oldTok); err != nil {
		release()
		t.Fatalf("stale set still served while refreshing: %v", err)
	}
	release()
	waitFor(t, func() bool { return srv.hits.Load() == 2 && !v.keys.bgRunning.Load() })
	_, err := v.Authenticate(t.Context(), oldTok)
	wantReason(t, err, ReasonUnknownKeyID)
}

func TestJWKSFileRotation(t *testing.T) {
	oldKey, newKey := ecKeyA(), rsaKeyB()
	dir := t.TempDir()
	path := writeFile(t, dir, "jwks.json", jwksJSON(t, oldKey))
	clock := newClock()
	v, err := NewJWTVerifier(t.Context(), WithIssuer(testIssuer), WithAudience(testAudience),
		WithJWKSFile(path), WithClock(clock.Now), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "jwks.json", jwksJSON(t, newKey))
	clock.Advance(time.Minute)
	if _, err := v.Authenticate(t.Context(), newKey.sign(t, goodClaims("reader-bot"))); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "jwks.json", []byte("{broken"))
	if err := v.Refresh(t.Context()); err == nil {
		t.Fatal("Refresh() of a broken file succeeded")
	}
	if _, err := v.Authenticate(t.Context(), newKey.sign(t, goodClaims("reader-bot"))); err != nil {
		t.Fatalf("after broken file: %v", err)
	}
}

// A real JWKS mixes keys we must not use; they are skipped, not fatal.
func TestJWKSSkipsUnusableKeys(t *testing.T) {
	good := ecKeyA()
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pub := func(k jose.JSONWebKey) json.RawMessage {
		b, err := k.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rsaA := rsaKeyA()
	keys := []json.RawMessage{
		json.RawMessage(`{"kty":"oct","kid":"hmac","k":"c2VjcmV0c2VjcmV0c2VjcmV0"}`),
		json.RawMessage(`{"kty":"WAT","kid":"future"}`),
		pub(jose.JSONWebKey{Key: short.Public(), KeyID: "short", Algorithm: "RS256"}),
		pub(jose.JSONWebKey{Key: rsaA.priv, KeyID: "private", Algorithm: "RS256"}),
		pub(jose.JSONWebKey{Key: rsaA.priv.Public(), KeyID: "enc", Use: "enc"}),
		pub(jose.JSONWebKey{Key: rsaA.priv.Public(), KeyID: "hs-alg", Algorithm: "HS256"}),
		pub(jose.JSONWebKey{Key: rsaA.priv.Public(), KeyID: "wrong-alg", Algorithm: "ES256"}),
		pub(good.publicJWK()),
	}
	body, _ := json.Marshal(map[string]any{"keys": keys})
	srv := newJWKSServer(t, body)
	v, _ := newURLVerifier(t, srv)
	if n := v.keys.set.Load().n; n != 1 {
		t.Fatalf("usable keys = %d, want 1", n)
	}
	if _, err := v.Authenticate(t.Context(), good.sign(t, goodClaims("reader-bot"))); err != nil {
		t.Fatal(err)
	}
	for _, kid := range []string{"short", "private", "enc", "hs-alg", "wrong-alg"} {
		k := testKey{kid: kid, alg: jose.RS256, priv: rsaA.priv}
		if kid == "short" {
			k.priv = short
		}
		_, err := v.Authenticate(t.Context(), k.sign(t, goodClaims("reader-bot")))
		wantReason(t, err, ReasonUnknownKeyID)
	}
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A slow JWKS endpoint must not pin callers: waiters leave when their context
// ends, and a caller hanging up does not abort the refetch it started.
func TestJWKSSlowRefetch(t *testing.T) {
	oldKey, newKey := ecKeyA(), rsaKeyB()
	release := make(chan struct{})
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			_, _ = w.Write(jwksJSON(t, oldKey))
			return
		}
		<-release
		_, _ = w.Write(jwksJSON(t, oldKey, newKey))
	}))
	t.Cleanup(srv.Close)
	clock := newClock()
	v, err := NewJWTVerifier(t.Context(), WithIssuer(testIssuer), WithAudience(testAudience),
		WithJWKSURL(srv.URL), WithClock(clock.Now), WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	tok := newKey.sign(t, goodClaims("reader-bot"))
	clock.Advance(time.Minute)

	// The first caller starts the refetch, then hangs up.
	ctx1, cancel1 := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() {
		_, err := v.Authenticate(ctx1, tok)
		first <- err
	}()
	waitFor(t, func() bool { return calls.Load() == 2 })
	cancel1()

	// A second caller gives up when its own deadline passes.
	ctx2, cancel2 := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel2()
	start := time.Now()
	_, err = v.Authenticate(ctx2, tok)
	wantReason(t, err, ReasonUnknownKeyID)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("waiter blocked %s past its deadline", d)
	}

	close(release)
	<-first
	if id, err := v.Authenticate(t.Context(), tok); err != nil || id.ID != "reader-bot" {
		t.Fatalf("refetch started by a cancelled caller was lost: %+v, %v", id, err)
	}
}

// TestJWKSPlainHTTPOffLoopbackRefused: keys fetched over plain http from a
// name can be swapped by anyone on the path, who then signs tokens for any
// agent. The on-path attacker here answers every connection, whatever host
// was asked for, with its own key set.
func TestJWKSPlainHTTPOffLoopbackRefused(t *testing.T) {
	attacker := ecKeyA()
	srv := newJWKSServer(t, jwksJSON(t, attacker))
	onPath := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}}
	for _, raw := range []string{"http://jwks.example.com/keys", "http://127.attacker.example/keys", "http://localhost/keys"} {
		t.Run(raw, func(t *testing.T) {
			v, err := NewJWTVerifier(t.Context(), WithIssuer(testIssuer), WithAudience(testAudience),
				WithJWKSURL(raw), WithHTTPClient(onPath), WithClock(newClock().Now), WithLogger(testLogger(t)))
			if err == nil {
				_, aerr := v.Authenticate(t.Context(), attacker.sign(t, goodClaims("admin-bot")))
				t.Fatalf("NewJWTVerifier(%s) succeeded; the attacker's token authenticates: err = %v", raw, aerr)
			}
			if !strings.Contains(err.Error(), "https") || srv.hits.Load() != 0 {
				t.Errorf("err = %v after %d fetches, want a refusal naming https before any fetch", err, srv.hits.Load())
			}
		})
	}
}

// TestJWKSRedirectToPlainHTTPRefused: an https JWKS URL that redirects to
// plain http off loopback would fetch the keys in cleartext after all.
func TestJWKSRedirectToPlainHTTPRefused(t *testing.T) {
	attacker := ecKeyA()
	plain := newJWKSServer(t, jwksJSON(t, attacker))
	tlsSrv := httptest.NewTLSServer(http.RedirectHandler("http://jwks.example.com/keys", http.StatusFound))
	t.Cleanup(tlsSrv.Close)
	tr := tlsSrv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "jwks.example.com:80" { // the path answers for the name
			addr = plain.Listener.Addr().String()
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	v, err := NewJWTVerifier(t.Context(), WithIssuer(testIssuer), WithAudience(testAudience),
		WithJWKSURL(tlsSrv.URL+"/keys"), WithHTTPClient(&http.Client{Transport: tr}),
		WithClock(newClock().Now), WithLogger(testLogger(t)))
	if err == nil {
		_, aerr := v.Authenticate(t.Context(), attacker.sign(t, goodClaims("admin-bot")))
		t.Fatalf("NewJWTVerifier() followed the redirect to plain http; the attacker's token authenticates: err = %v", aerr)
	}
	if !strings.Contains(err.Error(), "https") || plain.hits.Load() != 0 {
		t.Errorf("err = %v after %d plain fetches, want the redirect refused", err, plain.hits.Load())
	}
}
