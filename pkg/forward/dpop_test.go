package forward

import (
	"crypto"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func TestOAuthDPoPTokenEndpointNonce(t *testing.T) {
	key := testRSAKey()
	f := newFakeOkta(t, key, "kid", true)
	f.tokenNonce = "n-token-1"
	o := newTestOAuth(t, f.config(key, scopeUsersRead, scopeGroupsRead))

	h, err := authHeader(t, o, scopeUsersRead)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "DPoP ") {
		t.Errorf("Authorization = %q, want the DPoP scheme", h)
	}
	// Two attempts, each with its own assertion (Okta rejects a reused jti;
	// the fake too), the second proof carrying the nonce.
	if len(f.assertions) != 2 || len(f.proofs) != 2 {
		t.Fatalf("%d assertions and %d proofs, want 2 and 2", len(f.assertions), len(f.proofs))
	}
	if f.proofs[0].claims.Nonce != "" || f.proofs[1].claims.Nonce != "n-token-1" {
		t.Errorf("proof nonces %q then %q", f.proofs[0].claims.Nonce, f.proofs[1].claims.Nonce)
	}
	if f.proofs[1].claims.ATH != "" || f.proofs[1].claims.HTM != "POST" || f.proofs[1].claims.HTU != f.srv.URL+"/oauth2/v1/token" {
		t.Errorf("token request proof claims %+v", f.proofs[1].claims)
	}
	// The nonce is remembered: the next scope's token takes one request.
	if _, err := authHeader(t, o, scopeGroupsRead); err != nil {
		t.Fatal(err)
	}
	if len(f.proofs) != 3 || f.proofs[2].claims.Nonce != "n-token-1" {
		t.Errorf("%d proofs; the nonce was not reused", len(f.proofs))
	}
}

func TestOAuthDPoPNonceRetriedOnlyOnce(t *testing.T) {
	key := testECKey()
	f := newFakeOkta(t, key, "kid", true)
	f.rotateNonce = true
	o := newTestOAuth(t, f.config(key, scopeUsersRead))
	_, err := authHeader(t, o, scopeUsersRead)
	var te *TokenError
	if !errors.As(err, &te) || te.Code != "use_dpop_nonce" {
		t.Fatalf("err = %v, want use_dpop_nonce after one retry", err)
	}
	if len(f.proofs) != 2 {
		t.Errorf("%d token requests, want 2 (one retry)", len(f.proofs))
	}
}

func TestOAuthDPoPResourceServerNonce(t *testing.T) {
	key := testECKey()
	f := newFakeOkta(t, key, "kid", true)
	f.tokenNonce = "n-token-1"
	f.apiNonce = "n-api-1"
	o := newTestOAuth(t, f.config(key, scopeUsersRead, scopeGroupsRead))
	c, err := New(f.srv.URL, WithCredential(o))
	if err != nil {
		t.Fatal(err)
	}
	calls := func() int { f.mu.Lock(); defer f.mu.Unlock(); return f.apiCalls }

	// The first call is refused for the nonce, observed, and sent again.
	resp, err := c.Do(t.Context(), bind(t, "users.list", map[string]any{"limit": 2.0}), "d")
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != `{"scope":"okta.users.read"}` || calls() != 2 {
		t.Fatalf("body %s after %d API calls, want success after 2", resp.Body, calls())
	}
	// The nonce is kept: no more refusals.
	if _, err := c.Do(t.Context(), bind(t, "groups.list", nil), "d"); err != nil || calls() != 3 {
		t.Fatalf("err %v after %d API calls, want 3", err, calls())
	}
	// The server rotates its nonce: one more refusal, then success.
	f.mu.Lock()
	f.apiNonce = "n-api-2"
	f.mu.Unlock()
	if _, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": "00u1"}), "d"); err != nil || calls() != 5 {
		t.Fatalf("err %v after %d API calls, want 5", err, calls())
	}

	// Every proof: the same key, not the client key; htu without the query;
	// ath only on API calls.
	clientJWK := jose.JSONWebKey{Key: key.Public()}
	tp, _ := clientJWK.Thumbprint(crypto.SHA256)
	clientJKT := base64.RawURLEncoding.EncodeToString(tp)
	var api int
	for i, p := range f.proofs {
		if p.jkt != f.proofs[0].jkt {
			t.Errorf("proof %d signed by another key", i)
		}
		if p.jkt == clientJKT {
			t.Fatal("DPoP proofs are signed with the client key")
		}
		if strings.Contains(p.claims.HTU, "?") {
			t.Errorf("htu %q has a query", p.claims.HTU)
		}
		if p.claims.ATH != "" {
			api++
		}
	}
	if api != 5 {
		t.Errorf("%d proofs with ath, want 5 (one per API call)", api)
	}
	if last := f.proofs[len(f.proofs)-1].claims; last.Nonce != "n-api-2" || last.HTM != "GET" || last.HTU != f.srv.URL+"/api/v1/users/00u1" {
		t.Errorf("last proof %+v", last)
	}
}

func TestObserveResponse(t *testing.T) {
	key := testECKey()
	dpop := newTestOAuth(t, OAuthConfig{OrgURL: "https://example.okta.com", ClientID: testClientID, PrivateKey: key, AllowedScopes: []string{scopeUsersRead}, DPoP: true})
	bearer := newTestOAuth(t, OAuthConfig{OrgURL: "https://example.okta.com", ClientID: testClientID, PrivateKey: key, AllowedScopes: []string{scopeUsersRead}})
	demand := `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`
	tests := []struct {
		name   string
		o      *OAuth
		status int
		header map[string]string
		retry  bool
	}{
		{"nonce demanded", dpop, 401, map[string]string{"WWW-Authenticate": demand, "DPoP-Nonce": "abc"}, true},
		{"demanded without a nonce", dpop, 401, map[string]string{"WWW-Authenticate": demand}, false},
		{"malformed nonce", dpop, 401, map[string]string{"WWW-Authenticate": demand, "DPoP-Nonce": `a"b`}, false},
		{"other dpop error", dpop, 401, map[string]string{"WWW-Authenticate": `DPoP error="invalid_token"`, "DPoP-Nonce": "abc"}, false},
		{"nonce on success", dpop, 200, map[string]string{"DPoP-Nonce": "fresh"}, false},
		{"bearer credential", bearer, 401, map[string]string{"WWW-Authenticate": demand, "DPoP-Nonce": "abc"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "https://example.okta.com/api/v1/users?limit=1", nil)
			resp := &http.Response{StatusCode: tc.status, Header: http.Header{}}
			for k, v := range tc.header {
				resp.Header.Set(k, v)
			}
			if got := tc.o.ObserveResponse(req, resp); got != tc.retry {
				t.Errorf("retry = %t, want %t", got, tc.retry)
			}
		})
	}
	if n := dpop.dpop.nonce("https://example.okta.com"); n != "fresh" {
		t.Errorf("latest nonce %q, want the one sent with the last answer", n)
	}
}

func TestValidNonce(t *testing.T) {
	for n, ok := range map[string]bool{
		"abc-123_~.": true, "": false, "a b": true, `a"b`: false, `a\b`: false, "a\nb": false,
		"é": false, strings.Repeat("n", maxNonceLen): true, strings.Repeat("n", maxNonceLen+1): false,
	} {
		if validNonce(n) != ok {
			t.Errorf("validNonce(%q) = %t", n, !ok)
		}
	}
}
