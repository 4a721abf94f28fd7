package console

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// A provider without an end-session endpoint: the session keeps no ID
// token, and sign-out ends the console's session only, as before.
func TestSignOutWithoutEndSession(t *testing.T) {
	e := newEnv(t)
	p, err := e.console.discover(t.Context())
	if err != nil || p.endSession != e.issuer+"/v1/logout" {
		t.Fatalf("discovered %+v, %v", p, err)
	}
	e.console.provMu.Lock()
	e.console.prov.endSession = ""
	e.console.provMu.Unlock()

	c := e.client()
	e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	for _, sess := range e.console.store.(*memStore).sessions {
		if sess.idToken != "" {
			t.Error("a session keeps an ID token that no sign-out can use")
		}
	}
	tok := csrf(t, c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusOK).body)
	r := c.do("POST", e.srv.URL+"/approvals/logout", url.Values{"csrf": {tok}}).want(t, http.StatusOK)
	if !strings.Contains(r.body, "You have signed out.") || strings.Contains(r.body, "could not be ended") || e.sessionCount() != 0 {
		t.Errorf("sign-out without an end-session endpoint:\n%s", r.body)
	}
}

// The list's address with a state and no session is the page the
// provider's sign-out comes back to; with a session, it is the list.
func TestSignedOutLanding(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := c.do("GET", e.srv.URL+"/approvals/?state=anything", nil).want(t, http.StatusOK)
	if !strings.Contains(r.body, "You have signed out.") || !strings.Contains(r.body, `id="signin"`) {
		t.Errorf("the landing page:\n%s", r.body)
	}
	e.checkHeaders(t, r)
	e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	r = c.do("GET", e.srv.URL+"/approvals/?state=anything", nil).want(t, http.StatusOK)
	if !strings.Contains(r.body, `id="signout"`) || !strings.Contains(r.body, "Pending approvals") {
		t.Errorf("signed in, the list's address with a state:\n%s", r.body)
	}
}

// The end-session endpoint is used only on the issuer's origin (the one
// form-action allows), as an https URL (or http to a loopback IP) without
// query or fragment; otherwise sign-out ends the console's session only.
func TestEndSessionEndpointRules(t *testing.T) {
	var endSession string
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		iss := "http://" + r.Host + "/oauth2/default"
		doc := map[string]any{"issuer": iss, "authorization_endpoint": iss + "/v1/authorize", "token_endpoint": iss + "/v1/token",
			"end_session_endpoint": strings.ReplaceAll(endSession, "ISSUER", iss)}
		_ = json.NewEncoder(w).Encode(doc)
	}))
	defer idp.Close()
	for in, want := range map[string]string{
		"ISSUER/v1/logout":                  "ISSUER/v1/logout",
		"":                                  "",
		"https://elsewhere.example.com/out": "",
		"http://127.0.0.2/v1/logout":        "",
		"ISSUER/v1/logout?client_id=x":      "",
		"ISSUER/v1/logout#f":                "",
		"javascript:alert(1)":               "",
		"/v1/logout":                        "",
	} {
		t.Run(in, func(t *testing.T) {
			endSession = in
			c := testConsole(t, idp.URL+"/oauth2/default")
			p, err := c.discover(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if w := strings.ReplaceAll(want, "ISSUER", idp.URL+"/oauth2/default"); p.endSession != w {
				t.Errorf("end session %q, want %q", p.endSession, w)
			}
		})
	}
}

// testConsole is a console for issuer, for the tests that need no sign-in.
func testConsole(t *testing.T, issuer string) *Console {
	t.Helper()
	c, err := New(Config{Issuer: issuer, ClientID: clientID, RedirectURL: "http://127.0.0.1:1" + CallbackPath,
		Auth: noAuth{}, Approvals: noApprovals{}, Now: func() time.Time { return time.Unix(1767225600, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noAuth and noApprovals stand in for the approvers' service where a test
// signs no one in.
type noAuth struct{}

func (noAuth) Authenticate(context.Context, string) (approvers.Approver, error) {
	return approvers.Approver{}, errors.New("no sign-in in this test")
}

type noApprovals struct{ Approvals }

// unsignedJWT is a JWT of claims with a made-up signature: checkIDToken
// reads claims only.
func unsignedJWT(claims map[string]any) string {
	raw, _ := json.Marshal(claims)
	return "eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(raw) + ".c2ln"
}

// The ID token a sign-in ends with must be for this console, from this
// issuer, with the sign-in's nonce, unexpired, and of a bounded size;
// otherwise the sign-in is refused. None at all is no session hint.
func TestCheckIDToken(t *testing.T) {
	const issuer = "https://example.okta.com/oauth2/default"
	c := testConsole(t, issuer)
	c.prov = &provider{authorize: issuer + "/v1/authorize", token: issuer + "/v1/token", endSession: issuer + "/v1/logout"}
	now := c.cfg.Now()
	good := func() map[string]any {
		return map[string]any{"iss": issuer, "aud": clientID, "nonce": "n-1", "exp": now.Add(time.Hour).Unix(), "sub": "00u1"}
	}
	with := func(k string, v any) string {
		m := good()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return unsignedJWT(m)
	}
	hint, err := c.checkIDToken(t.Context(), unsignedJWT(good()), "n-1")
	if err != nil || hint.token == "" || !hint.expires.Equal(time.Unix(now.Add(time.Hour).Unix(), 0)) {
		t.Fatalf("a good ID token: %+v, %v", hint, err)
	}
	if hint, err := c.checkIDToken(t.Context(), with("aud", []string{"other", clientID}), "n-1"); err == nil {
		t.Errorf("two audiences without azp: %+v", hint)
	}
	m := good()
	m["aud"], m["azp"] = []string{"other", clientID}, clientID
	if _, err := c.checkIDToken(t.Context(), unsignedJWT(m), "n-1"); err != nil {
		t.Errorf("two audiences, azp the console: %v", err)
	}
	if hint, err := c.checkIDToken(t.Context(), "", "n-1"); err != nil || hint.token != "" {
		t.Errorf("no ID token: %+v, %v", hint, err)
	}
	for name, raw := range map[string]string{
		"another issuer":   with("iss", "https://evil.example.com/oauth2/default"),
		"another audience": with("aud", "0oaOTHER"),
		"no audience":      with("aud", nil),
		"audience number":  with("aud", 7),
		"another nonce":    with("nonce", "n-2"),
		"no nonce":         with("nonce", nil),
		"expired":          with("exp", now.Unix()),
		"no exp":           with("exp", nil),
		"exp a string":     with("exp", fmt.Sprint(now.Add(time.Hour).Unix())),
		"too large":        with("pad", strings.Repeat("x", maxIDTokenBytes)),
		"two parts":        "a.b",
		"not base64":       "a.!!!.c",
		"not JSON":         "a." + base64.RawURLEncoding.EncodeToString([]byte("{")) + ".c",
	} {
		if hint, err := c.checkIDToken(t.Context(), raw, "n-1"); err == nil {
			t.Errorf("%s: kept %+v", name, hint)
		}
	}
	if _, err := c.checkIDToken(t.Context(), unsignedJWT(good()), ""); err == nil {
		t.Error("a sign-in without a nonce took an ID token")
	}
}
