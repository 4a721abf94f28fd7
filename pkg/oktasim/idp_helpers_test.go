package oktasim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The people's test setup: Bollard's approval console as a client with two
// redirect URIs, and a second app, to check that a code is bound to its
// client.
const (
	consoleClient   = "0oaBOLLARDCONSOLE0g7"
	otherClient     = "0oaOTHERSPA0000000g7"
	consoleRedirect = "https://console.example.com/callback"
	consoleLoopback = "http://127.0.0.1:8080/callback"
	otherRedirect   = "https://other.example.com/cb"
	consoleLogout   = "https://console.example.com/approvals/"
	otherLogout     = "https://other.example.com/"
	peopleAudience  = "api://bollard-approvals"
)

// idpEnv is a simulator serving the people's authorization server, with
// a client that does not follow redirects.
type idpEnv struct {
	*env
	hc     *http.Client
	issuer string
}

func newIDPEnv(t *testing.T, opts ...Option) *idpEnv {
	t.Helper()
	e := newEnv(t, append([]Option{WithPeopleAuthServer(peopleAudience,
		PeopleClient{ClientID: consoleClient, Name: "Bollard Console", RedirectURIs: []string{consoleRedirect, consoleLoopback},
			PostLogoutRedirectURIs: []string{consoleLogout}},
		PeopleClient{ClientID: otherClient, RedirectURIs: []string{otherRedirect}, PostLogoutRedirectURIs: []string{otherLogout}},
	)}, opts...)...)
	if err := e.sim.SetOrgURL(e.srv.URL); err != nil {
		t.Fatal(err)
	}
	hc := *e.srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &idpEnv{env: e, hc: &hc, issuer: e.srv.URL + PeopleAuthServerPath}
}

// pkce is a code verifier and its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE(t *testing.T) pkce {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	return pkce{verifier: v, challenge: s256(v)}
}

// authorizeParams is a good authorization request for the console.
func authorizeParams(p pkce) url.Values {
	return url.Values{
		"client_id": {consoleClient}, "redirect_uri": {consoleRedirect}, "response_type": {"code"},
		"scope": {"openid profile email"}, "state": {"st-123"}, "nonce": {"n-456"},
		"code_challenge": {p.challenge}, "code_challenge_method": {"S256"},
	}
}

// httpDo sends a request without following redirects.
func (e *idpEnv) httpDo(method, path string, body url.Values, header http.Header) *response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(body.Encode())
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := e.hc.Do(req)
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

func (e *idpEnv) authorize(params url.Values) *response {
	e.t.Helper()
	return e.httpDo("GET", PeopleAuthServerPath+"/v1/authorize?"+params.Encode(), nil, nil)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields reads the hidden fields of the sign-in page.
func formFields(t *testing.T, page *response) url.Values {
	t.Helper()
	page.want(t, http.StatusOK)
	form := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page.body), -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if len(form) == 0 {
		t.Fatalf("no hidden fields on the sign-in page: %s", page.body)
	}
	return form
}

// signIn posts the sign-in page's form with a username and password, as a
// browser would.
func (e *idpEnv) signIn(params url.Values, username, password string) *response {
	e.t.Helper()
	form := formFields(e.t, e.authorize(params))
	form.Set("username", username)
	form.Set("password", password)
	return e.httpDo("POST", PeopleAuthServerPath+"/v1/authorize", form, nil)
}

// redirected checks a 302 to redirectURI and returns its query.
func redirected(t *testing.T, r *response, redirectURI string) url.Values {
	t.Helper()
	r.want(t, http.StatusFound)
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	loc.RawQuery = ""
	if loc.String() != redirectURI {
		t.Fatalf("redirected to %s, want %s", r.header.Get("Location"), redirectURI)
	}
	return q
}

// code signs a user in and returns the code the client gets.
func (e *idpEnv) code(p pkce, username string) string {
	e.t.Helper()
	q := redirected(e.t, e.signIn(authorizeParams(p), username, DefaultPeoplePassword), consoleRedirect)
	if q.Get("code") == "" || q.Get("state") != "st-123" {
		e.t.Fatalf("redirect query = %v", q)
	}
	return q.Get("code")
}

// redeem is a token request for a code, by the console.
func redeemForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {consoleClient}, "code": {code},
		"redirect_uri": {consoleRedirect}, "code_verifier": {verifier}}
}

func (e *idpEnv) redeem(form url.Values) *response {
	e.t.Helper()
	return e.httpDo("POST", PeopleAuthServerPath+"/v1/token", form, nil)
}

type peopleTokens struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
	IDToken     string `json:"id_token"`
}

// oauthError checks an OAuth error answer.
func (r *response) oauthError(t *testing.T, status int, code string) string {
	t.Helper()
	r.want(t, status)
	var b struct {
		Error string `json:"error"`
		Desc  string `json:"error_description"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error != code || b.Desc == "" {
		t.Fatalf("body = %s, want error %q", r.body, code)
	}
	return b.Desc
}

// claims verifies a token with the server's published keys and returns its
// header and claims.
func (e *idpEnv) claims(token string) (jose.Header, map[string]any) {
	e.t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(e.httpDo("GET", PeopleAuthServerPath+"/v1/keys", nil, nil).want(e.t, 200).body, &set); err != nil {
		e.t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		e.t.Fatalf("parse: %v", err)
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		e.t.Fatalf("no key for kid %q", tok.Headers[0].KeyID)
	}
	var m map[string]any
	if err := tok.Claims(keys[0].Key, &m); err != nil {
		e.t.Fatalf("verify: %v", err)
	}
	return tok.Headers[0], m
}
