package forward

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

const (
	scopeUsersRead   = "okta.users.read"
	scopeUsersManage = "okta.users.manage"
	scopeGroupsRead  = "okta.groups.read"
)

func newTestOAuth(t testing.TB, cfg OAuthConfig, opts ...OAuthOption) *OAuth {
	t.Helper()
	o, err := NewOAuth(t.Context(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// apiScope calls the fake API with o's token for scope and returns the scope
// the fake says the token carries.
func apiScope(t testing.TB, o *OAuth, f *fakeOkta, scope string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", f.srv.URL+"/api/v1/users?limit=1", nil)
	if err := o.Authorize(t.Context(), req, scope); err != nil {
		t.Fatalf("Authorize(%s): %v", scope, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Scope string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("API answered %d (%v)", resp.StatusCode, err)
	}
	return out.Scope
}

func TestParsePrivateKeyPEM(t *testing.T) {
	rsaKey, ecKey := testRSAKey(), testECKey()
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name string
		pem  []byte
		alg  string // "" means an error is expected
	}{
		{"rsa pkcs1", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), AlgRS256},
		{"rsa pkcs8", pemOf(t, "PRIVATE KEY", pkcs8(t, rsaKey)), AlgRS256},
		{"ec pkcs8", pemOf(t, "PRIVATE KEY", pkcs8(t, ecKey)), AlgES256},
		{"ec sec1 after parameters", append(pemOf(t, "EC PARAMETERS", []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}), pemOf(t, "EC PRIVATE KEY", sec1)...), AlgES256},
		{"rsa 1024", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)), ""},
		{"ec p384", pemOf(t, "PRIVATE KEY", pkcs8(t, p384)), ""},
		{"ed25519", pemOf(t, "PRIVATE KEY", pkcs8(t, edKey)), ""},
		{"encrypted", pemOf(t, "ENCRYPTED PRIVATE KEY", []byte("opaque")), ""},
		{"corrupt", pemOf(t, "RSA PRIVATE KEY", []byte("not der")), ""},
		{"not pem", []byte("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := ParsePrivateKeyPEM(tc.pem)
			if tc.alg == "" {
				if err == nil {
					t.Fatal("parsed; want an error")
				}
				if body := strings.Split(string(tc.pem), "\n"); len(body) > 1 && len(body[1]) > 16 && strings.Contains(err.Error(), body[1][:16]) {
					t.Errorf("error quotes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if alg, _ := inferAlgorithm(key.Public()); alg != tc.alg {
				t.Errorf("algorithm %s, want %s", alg, tc.alg)
			}
		})
	}
}

func TestOAuthConfigValidate(t *testing.T) {
	good := OAuthConfig{OrgURL: "https://example.okta.com", ClientID: testClientID, PrivateKey: testECKey(), AllowedScopes: catalog.Scopes()}
	if err := good.Validate(); err != nil {
		t.Fatalf("every catalog scope should be allowed: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*OAuthConfig)
		want   []string
	}{
		{"http org", func(c *OAuthConfig) { c.OrgURL = "http://example.okta.com" }, []string{"https"}},
		{"no client", func(c *OAuthConfig) { c.ClientID = "" }, []string{"client id"}},
		{"no key", func(c *OAuthConfig) { c.PrivateKey = nil }, []string{"private key is required"}},
		{"alg mismatch", func(c *OAuthConfig) { c.Algorithm = AlgRS256 }, []string{`"RS256" does not match`}},
		{"no scopes", func(c *OAuthConfig) { c.AllowedScopes = nil }, []string{"at least one"}},
		{"oidc scope", func(c *OAuthConfig) { c.AllowedScopes = []string{"openid"} }, []string{`"openid" is not an okta.* scope`}},
		{"two in one", func(c *OAuthConfig) { c.AllowedScopes = []string{"okta.users.read okta.users.manage"} }, []string{"not an okta.* scope"}},
		{"all at once", func(c *OAuthConfig) { c.ClientID, c.AllowedScopes, c.RefreshBefore = "a b", []string{"okta."}, -1 },
			[]string{"client id", `"okta."`, "negative"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.mutate(&cfg)
			_, err := NewOAuth(t.Context(), cfg)
			if err == nil {
				t.Fatal("NewOAuth accepted the configuration")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestOAuthClientAssertion(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		kid  string
	}{
		{"RS256", testRSAKey(), "rsa-kid-1"},
		{"ES256", testECKey(), "ec-kid-1"},
		{"ES256 opaque signer, no kid", opaqueKey{testECKey()}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOkta(t, tc.key, tc.kid, false)
			o := newTestOAuth(t, f.config(tc.key, scopeUsersRead))
			// The fake verifies signature, kid, iss, sub, aud, iat, exp and jti.
			if got := apiScope(t, o, f, scopeUsersRead); got != scopeUsersRead {
				t.Fatalf("token scope %q", got)
			}
		})
	}
}

// opaqueKey hides the concrete key type, like a KMS-backed crypto.Signer.
type opaqueKey struct{ k *ecdsa.PrivateKey }

func (o opaqueKey) Public() crypto.PublicKey { return o.k.Public() }
func (o opaqueKey) Sign(r io.Reader, d []byte, op crypto.SignerOpts) ([]byte, error) {
	return o.k.Sign(r, d, op)
}

func TestOAuthOneTokenPerScope(t *testing.T) {
	key := testECKey()
	f := newFakeOkta(t, key, "kid", false)
	o := newTestOAuth(t, f.config(key, scopeUsersRead, scopeUsersManage, scopeGroupsRead))
	for _, scope := range []string{scopeUsersRead, scopeUsersManage, scopeUsersRead, scopeGroupsRead, scopeUsersManage} {
		if got := apiScope(t, o, f, scope); got != scope {
			t.Errorf("call for %s carried a token for %q", scope, got)
		}
	}
	for _, scope := range []string{scopeUsersRead, scopeUsersManage, scopeGroupsRead} {
		if n := f.tokenRequests(scope); n != 1 {
			t.Errorf("%d token requests for %s, want 1", n, scope)
		}
	}
}

func TestOAuthScopeNotAllowed(t *testing.T) {
	key := testECKey()
	f := newFakeOkta(t, key, "kid", false)
	o := newTestOAuth(t, f.config(key, scopeUsersRead))
	req := httptest.NewRequest("POST", f.srv.URL+"/api/v1/users", nil)
	err := o.Authorize(t.Context(), req, scopeUsersManage)
	if !errors.Is(err, ErrScopeNotAllowed) || !strings.Contains(err.Error(), scopeUsersManage) {
		t.Fatalf("err = %v, want ErrScopeNotAllowed naming the scope", err)
	}
	if req.Header.Get("Authorization") != "" || f.tokenRequests(scopeUsersManage) != 0 {
		t.Error("a token was requested or set for a scope outside AllowedScopes")
	}
}

func TestOAuthTokenEndpointErrorThenRecovery(t *testing.T) {
	key := testRSAKey()
	f := newFakeOkta(t, key, "kid", false)
	var echoed string
	f.tokenReply = func(w http.ResponseWriter, scope string, n int) bool {
		if n > 1 {
			return false
		}
		f.mu.Lock()
		echoed = f.assertions[len(f.assertions)-1]
		f.mu.Unlock()
		// Okta does not echo the assertion; make sure it would not leak if it did.
		oauthError(w, 401, "invalid_client", "The client_assertion "+echoed+" is not valid.\n")
		return true
	}
	o := newTestOAuth(t, f.config(key, scopeUsersRead))
	req := httptest.NewRequest("GET", f.srv.URL+"/api/v1/users", nil)
	err := o.Authorize(t.Context(), req, scopeUsersRead)
	var te *TokenError
	if !errors.As(err, &te) || te.Scope != scopeUsersRead || te.Code != "invalid_client" || te.Status != 401 {
		t.Fatalf("err = %#v, want a TokenError for %s with invalid_client", err, scopeUsersRead)
	}
	if !strings.Contains(err.Error(), scopeUsersRead) || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("error text %q does not name the scope and code", err)
	}
	if strings.Contains(err.Error(), echoed) || strings.Contains(err.Error(), "\n") {
		t.Errorf("error text leaks the assertion or control characters: %q", err)
	}
	// Not cached: the next call asks again and succeeds.
	if got := apiScope(t, o, f, scopeUsersRead); got != scopeUsersRead || f.tokenRequests(scopeUsersRead) != 2 {
		t.Fatalf("after recovery: scope %q, %d token requests", got, f.tokenRequests(scopeUsersRead))
	}
}

func TestOAuthRefusesBadTokenResponses(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"broader scope", `{"token_type":"Bearer","expires_in":3600,"access_token":"SECRET-AT","scope":"okta.users.read okta.users.manage"}`, "not exactly the requested scope"},
		{"other scope", `{"token_type":"Bearer","expires_in":3600,"access_token":"SECRET-AT","scope":"okta.users.manage"}`, "not exactly the requested scope"},
		{"wrong type", `{"token_type":"DPoP","expires_in":3600,"access_token":"SECRET-AT"}`, "token type"},
		{"no expiry", `{"token_type":"Bearer","expires_in":0,"access_token":"SECRET-AT"}`, "expires_in"},
		{"fractional expiry", `{"token_type":"Bearer","expires_in":1.5,"access_token":"SECRET-AT"}`, "expires_in"},
		{"no token", `{"token_type":"Bearer","expires_in":3600}`, "empty"},
		{"header injection", `{"token_type":"Bearer","expires_in":3600,"access_token":"SECRET-AT\r\nX-Evil: 1"}`, "characters"},
		{"not json", `SECRET-AT`, "not a JSON"},
		{"oversized", `{"token_type":"Bearer","expires_in":3600,"access_token":"SECRET-AT","pad":"` + strings.Repeat("x", 64<<10) + `"}`, "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := testECKey()
			f := newFakeOkta(t, key, "kid", false)
			f.tokenReply = func(w http.ResponseWriter, _ string, n int) bool {
				if n > 1 {
					return false
				}
				io.WriteString(w, tc.body)
				return true
			}
			o := newTestOAuth(t, f.config(key, scopeUsersRead))
			req := httptest.NewRequest("GET", f.srv.URL+"/api/v1/users", nil)
			err := o.Authorize(t.Context(), req, scopeUsersRead)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "SECRET-AT") || req.Header.Get("Authorization") != "" {
				t.Errorf("refused token leaked: %v / %q", err, req.Header.Get("Authorization"))
			}
			if got := apiScope(t, o, f, scopeUsersRead); got != scopeUsersRead {
				t.Errorf("the refused answer was cached: next call got %q", got)
			}
		})
	}
}

func TestOAuthDoesNotFollowRedirects(t *testing.T) {
	stolen := make(chan string, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		stolen <- r.PostForm.Get("client_assertion")
	}))
	defer other.Close()
	key := testECKey()
	f := newFakeOkta(t, key, "kid", false)
	f.tokenReply = func(w http.ResponseWriter, _ string, _ int) bool {
		w.Header().Set("Location", other.URL+"/oauth2/v1/token")
		w.WriteHeader(http.StatusTemporaryRedirect)
		return true
	}
	o := newTestOAuth(t, f.config(key, scopeUsersRead))
	err := o.Authorize(t.Context(), httptest.NewRequest("GET", f.srv.URL, nil), scopeUsersRead)
	var te *TokenError
	if !errors.As(err, &te) || te.Status != http.StatusTemporaryRedirect {
		t.Fatalf("err = %v, want the redirect reported", err)
	}
	select {
	case <-stolen:
		t.Fatal("the token request followed the redirect")
	default:
	}
}

func TestOAuthDropsTokenOktaRejects(t *testing.T) {
	key := testECKey()
	f := newFakeOkta(t, key, "kid", false)
	f.apiReply = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("revoked") == "" {
			return false
		}
		w.WriteHeader(http.StatusUnauthorized)
		return true
	}
	o := newTestOAuth(t, f.config(key, scopeUsersRead))
	c, err := New(f.srv.URL, WithCredential(o))
	if err != nil {
		t.Fatal(err)
	}
	call := bind(t, "users.list", nil)
	call.Query = map[string][]string{"revoked": {"1"}}
	var oe *Error
	if _, err := c.Do(t.Context(), call, "d"); !errors.As(err, &oe) || oe.Kind != KindCredential {
		t.Fatalf("err = %v, want a credential error", err)
	}
	if f.apiCalls != 1 { // no data race: the call above has returned
		t.Errorf("%d API calls: a plain 401 must not be retried", f.apiCalls)
	}
	if _, err := c.Do(t.Context(), bind(t, "users.list", nil), "d"); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenRequests(scopeUsersRead); n != 2 {
		t.Errorf("%d token requests, want a new token after the 401", n)
	}
}

func TestOAuthSecretsNeverFormatted(t *testing.T) {
	key := testRSAKey()
	f := newFakeOkta(t, key, "kid", true)
	cfg := f.config(key, scopeUsersRead)
	o := newTestOAuth(t, cfg)
	req := httptest.NewRequest("GET", f.srv.URL+"/api/v1/users", nil)
	if err := o.Authorize(t.Context(), req, scopeUsersRead); err != nil {
		t.Fatal(err)
	}
	_, tok, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	cached := o.cache.entries[scopeUsersRead].cur.Load()
	secrets := []string{tok, key.D.String(), key.Primes[0].String(), fmt.Sprintf("%x", key.D.Bytes()[:8])}

	var out bytes.Buffer
	for _, v := range []any{o, cfg, &cfg, cached, o.dpop} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		slog.New(slog.NewTextHandler(&out, nil)).Info("x", "v", v)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "v", v)
	}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(j)
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Fatalf("formatted output contains a secret:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), "[redacted]") || !strings.Contains(out.String(), testClientID) {
		t.Errorf("formatted output should say [redacted] and keep the client id:\n%s", out.String())
	}
}

func TestOAuthLifetimeEndsWithContext(t *testing.T) {
	key := testECKey()
	f := newFakeOkta(t, key, "kid", false)
	f.gate = make(chan struct{})
	defer close(f.gate)
	ctx, cancel := context.WithCancel(t.Context())
	o, err := NewOAuth(ctx, f.config(key, scopeUsersRead))
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- o.Authorize(t.Context(), httptest.NewRequest("GET", f.srv.URL, nil), scopeUsersRead) }()
	cancel()
	if err := <-errc; err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the token request cancelled with the credential", err)
	}
}
