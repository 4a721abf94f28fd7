package forward

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// A fake Okta org for the OAuth credential: the org authorization server's
// token endpoint (client credentials with private_key_jwt, optional DPoP with
// nonces) and an API that checks the token and proof it is sent. It verifies
// what real Okta would verify, so tests fail on a malformed assertion or proof.

const testClientID = "0oa-bollard-test"

var (
	testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	testECKey = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func pemOf(t testing.TB, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t testing.TB, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

type fakeOkta struct {
	t    testing.TB
	srv  *httptest.Server
	pub  crypto.PublicKey
	alg  jose.SignatureAlgorithm
	kid  string
	dpop bool

	mu         sync.Mutex
	requests   map[string]int    // token requests per scope
	issued     map[string]string // access token → scope
	boundJKT   map[string]string // access token → DPoP key thumbprint
	jtis       map[string]bool
	assertions []string
	proofs     []proofSeen
	apiCalls   int

	// knobs, set before use
	expiresIn  int
	tokenNonce string // the token endpoint demands this DPoP nonce
	// rotateNonce makes the token endpoint demand a new nonce every time.
	rotateNonce bool
	apiNonce    string // the API demands this DPoP nonce
	gate        chan struct{}
	// tokenReply, when set, answers token requests instead of the default;
	// n counts requests for the scope, from 1.
	tokenReply func(w http.ResponseWriter, scope string, n int) bool
	// apiReply, when set, answers API calls before the token is checked.
	apiReply func(w http.ResponseWriter, r *http.Request) bool
}

type proofSeen struct {
	claims dpopClaims
	jkt    string
}

func newFakeOkta(t testing.TB, key crypto.Signer, kid string, dpop bool) *fakeOkta {
	t.Helper()
	alg, err := inferAlgorithm(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeOkta{t: t, pub: key.Public(), alg: jose.SignatureAlgorithm(alg), kid: kid, dpop: dpop,
		requests: map[string]int{}, issued: map[string]string{}, boundJKT: map[string]string{}, jtis: map[string]bool{}, expiresIn: 3600}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/v1/token", f.token)
	mux.HandleFunc("/api/v1/", f.api)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOkta) config(key crypto.Signer, scopes ...string) OAuthConfig {
	return OAuthConfig{OrgURL: f.srv.URL, ClientID: testClientID, PrivateKey: key, KeyID: f.kid, AllowedScopes: scopes, DPoP: f.dpop}
}

func (f *fakeOkta) tokenRequests(scope string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[scope]
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":%q,"error_description":%q}`, code, desc)
}

func (f *fakeOkta) token(w http.ResponseWriter, r *http.Request) {
	if f.gate != nil {
		<-f.gate
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", err.Error())
		return
	}
	scope := r.PostForm.Get("scope")
	if r.PostForm.Get("grant_type") != "client_credentials" || len(r.PostForm["scope"]) != 1 || strings.Contains(scope, " ") ||
		r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		oauthError(w, 400, "invalid_request", "bad form "+r.PostForm.Encode())
		return
	}
	assertion := r.PostForm.Get("client_assertion")
	if msg := f.checkAssertion(assertion); msg != "" {
		oauthError(w, 401, "invalid_client", msg)
		return
	}
	var jkt string
	if f.dpop {
		p, msg := f.checkProof(r, f.srv.URL+"/oauth2/v1/token", "")
		if msg != "" {
			oauthError(w, 400, "invalid_dpop_proof", msg)
			return
		}
		if f.rotateNonce {
			w.Header().Set("DPoP-Nonce", rand.Text())
			oauthError(w, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
			return
		}
		if f.tokenNonce != "" && p.claims.Nonce != f.tokenNonce {
			w.Header().Set("DPoP-Nonce", f.tokenNonce)
			oauthError(w, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
			return
		}
		jkt = p.jkt
	}
	f.mu.Lock()
	f.requests[scope]++
	n := f.requests[scope]
	f.mu.Unlock()
	if f.tokenReply != nil && f.tokenReply(w, scope, n) {
		return
	}
	tok := fmt.Sprintf("at.%s.%d.%s", scope, n, rand.Text())
	typ := "Bearer"
	if f.dpop {
		typ = "DPoP"
	}
	f.mu.Lock()
	f.issued[tok] = scope
	f.boundJKT[tok] = jkt
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token_type": typ, "expires_in": f.expiresIn, "access_token": tok, "scope": scope})
}

// checkAssertion verifies a client assertion the way Okta does; it returns
// what is wrong, or "".
func (f *fakeOkta) checkAssertion(s string) string {
	tok, err := jwt.ParseSigned(s, []jose.SignatureAlgorithm{f.alg})
	if err != nil {
		return "parse: " + err.Error()
	}
	if got := tok.Headers[0].KeyID; got != f.kid {
		return fmt.Sprintf("kid %q, want %q", got, f.kid)
	}
	var c jwt.Claims
	if err := tok.Claims(f.pub, &c); err != nil {
		return "signature: " + err.Error()
	}
	aud := f.srv.URL + "/oauth2/v1/token"
	if c.Issuer != testClientID || c.Subject != testClientID || len(c.Audience) != 1 || c.Audience[0] != aud {
		return fmt.Sprintf("claims iss=%s sub=%s aud=%v", c.Issuer, c.Subject, c.Audience)
	}
	if c.IssuedAt == nil || c.Expiry == nil || c.Expiry.Time().Sub(c.IssuedAt.Time()) != 5*time.Minute {
		return "iat/exp: want a 5 minute assertion"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.ID == "" || f.jtis[c.ID] {
		return "jti missing or replayed"
	}
	f.jtis[c.ID] = true
	f.assertions = append(f.assertions, s)
	return ""
}

// checkProof verifies a DPoP proof (RFC 9449 section 4.3).
func (f *fakeOkta) checkProof(r *http.Request, wantHTU, wantATH string) (proofSeen, string) {
	vals := r.Header.Values("DPoP")
	if len(vals) != 1 {
		return proofSeen{}, fmt.Sprintf("%d DPoP headers", len(vals))
	}
	jws, err := jose.ParseSigned(vals[0], []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return proofSeen{}, "parse proof: " + err.Error()
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders[jose.HeaderType] != "dpop+jwt" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || h.KeyID != "" {
		return proofSeen{}, fmt.Sprintf("proof header typ=%v jwk=%v kid=%q", h.ExtraHeaders[jose.HeaderType], h.JSONWebKey, h.KeyID)
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return proofSeen{}, "proof signature: " + err.Error()
	}
	var p proofSeen
	if err := json.Unmarshal(payload, &p.claims); err != nil {
		return proofSeen{}, "proof claims: " + err.Error()
	}
	c := p.claims
	if c.HTM != r.Method || c.HTU != wantHTU || c.ATH != wantATH || c.JTI == "" || c.IAT == 0 {
		return proofSeen{}, fmt.Sprintf("proof claims %+v, want htm=%s htu=%s ath=%s", c, r.Method, wantHTU, wantATH)
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return proofSeen{}, err.Error()
	}
	p.jkt = base64.RawURLEncoding.EncodeToString(tp)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.jtis[c.JTI] {
		return proofSeen{}, "proof jti replayed"
	}
	f.jtis[c.JTI] = true
	f.proofs = append(f.proofs, p)
	return p, ""
}

// api answers any /api/v1/ call with the scope of the token it was sent.
func (f *fakeOkta) api(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.apiCalls++
	f.mu.Unlock()
	if f.apiReply != nil && f.apiReply(w, r) {
		return
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	f.mu.Lock()
	scope, ok := f.issued[tok]
	jkt := f.boundJKT[tok]
	f.mu.Unlock()
	want := "Bearer"
	if f.dpop {
		want = "DPoP"
	}
	if !ok || scheme != want {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errorCode":"E0000011","errorSummary":"Invalid token provided"}`)
		return
	}
	if f.dpop {
		p, msg := f.checkProof(r, f.srv.URL+r.URL.EscapedPath(), accessTokenHash(tok))
		if msg != "" || p.jkt != jkt {
			w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof"`)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, strconv.Quote(msg))
			return
		}
		if f.apiNonce != "" && p.claims.Nonce != f.apiNonce {
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
			w.Header().Set("DPoP-Nonce", f.apiNonce)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"scope":%q}`, scope)
}
