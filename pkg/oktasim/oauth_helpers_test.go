package oktasim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Test service apps: one signing RS256, one ES256, one that must use DPoP.
const (
	rsaClient  = "0oaRSASERVICEAPP00g7"
	ecClient   = "0oaECSERVICEAPP000g7"
	dpopClient = "0oaDPOPSERVICEAPPg7x"
)

// rsaTestKey is generated once: RSA key generation is slow under -race.
var rsaTestKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signer is a client's private key and the kid its public half is
// registered under.
type signer struct {
	alg jose.SignatureAlgorithm
	key any
	kid string
}

func (k signer) public() jose.JSONWebKey {
	jwk := jose.JSONWebKey{Key: k.key, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
	return jwk.Public()
}

// oauthEnv is a simulator with the three test apps registered.
type oauthEnv struct {
	*env
	rsa, ec, dpop signer
}

func newOAuthEnv(t *testing.T, opts ...Option) *oauthEnv {
	t.Helper()
	o := &oauthEnv{
		rsa:  signer{jose.RS256, rsaTestKey(), "rsa-1"},
		ec:   signer{jose.ES256, newECKey(t), "ec-1"},
		dpop: signer{jose.ES256, newECKey(t), "dpop-app-1"},
	}
	// The EC app has a second key, so that its kid matters.
	spare := signer{jose.ES256, newECKey(t), "ec-2"}
	all := []string{scopeUsersRead, scopeUsersManage, scopeGroupsRead, scopeLogsRead}
	o.env = newEnv(t, append([]Option{
		WithServiceApp(ServiceApp{ClientID: rsaClient, Name: "Bollard RSA", Scopes: all,
			PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{o.rsa.public()}}}),
		WithServiceApp(ServiceApp{ClientID: ecClient, Scopes: all, TokenTTL: 10 * time.Minute,
			PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{spare.public(), o.ec.public()}}}),
		WithServiceApp(ServiceApp{ClientID: dpopClient, Scopes: all, RequireDPoP: true,
			PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{o.dpop.public()}}}),
	}, opts...)...)
	return o
}

func signJWT(t *testing.T, k signer, opts *jose.SignerOptions, claims any) string {
	t.Helper()
	if opts == nil {
		opts = &jose.SignerOptions{}
	}
	if k.kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), k.kid)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, opts.WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// assertion is a valid client assertion for clientID signed with k;
// mutate may spoil it.
func (o *oauthEnv) assertion(t *testing.T, k signer, clientID string, mutate func(*jwt.Claims)) string {
	t.Helper()
	now := o.clock.Now()
	c := jwt.Claims{
		Issuer: clientID, Subject: clientID, Audience: jwt.Audience{o.srv.URL + TokenPath},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Hour)),
		ID: rand.Text(),
	}
	if mutate != nil {
		mutate(&c)
	}
	return signJWT(t, k, nil, c)
}

// tokenForm is the form of a client_credentials request.
func tokenForm(assertion, scope string) url.Values {
	return url.Values{
		"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {ClientAssertionType}, "client_assertion": {assertion},
	}
}

// send sends a request with the given headers and no default ones.
func (e *env) send(method, path string, body string, header http.Header) *response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: raw}
}

// postToken sends a token request, with a DPoP proof when dpop is not "".
func (e *env) postToken(form url.Values, dpop string) *response {
	e.t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "User-Agent": {"token-test/1.0"}}
	if dpop != "" {
		h.Set("DPoP", dpop)
	}
	return e.send("POST", TokenPath, form.Encode(), h)
}

type tokenBody struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
}

func (r *response) token(t *testing.T) tokenBody {
	t.Helper()
	r.want(t, 200)
	var b tokenBody
	if err := json.Unmarshal(r.body, &b); err != nil || b.AccessToken == "" {
		t.Fatalf("token response %s: %v", r.body, err)
	}
	return b
}

// wantOAuthError checks an error of the OAuth server and returns its
// description.
func (r *response) wantOAuthError(t *testing.T, status int, code string) string {
	t.Helper()
	r.want(t, status)
	var b struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("error body is not JSON: %s", r.body)
	}
	if b.Error != code || b.Description == "" {
		t.Fatalf("error = %q (%q), want %q", b.Error, b.Description, code)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("token error lacks Cache-Control: no-store")
	}
	return b.Description
}

// bearer gets a Bearer token for scope from an app without DPoP.
func (o *oauthEnv) bearer(t *testing.T, k signer, clientID, scope string) string {
	t.Helper()
	return o.postToken(tokenForm(o.assertion(t, k, clientID, nil), scope), "").token(t).AccessToken
}

// proof is a DPoP proof signed by k for method and URL; with token it
// carries the ath of that access token. mutate may change the claims.
func proof(t *testing.T, k signer, method, htu, nonce, token string, mutate func(map[string]any)) string {
	t.Helper()
	claims := map[string]any{"jti": rand.Text(), "htm": method, "htu": htu, "iat": testNow.Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if token != "" {
		claims["ath"] = tokenHash(token)
	}
	if mutate != nil {
		mutate(claims)
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
