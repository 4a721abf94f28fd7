package oktasim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// signedInBrowser signs login in to the console client and returns the
// browser's session cookie and the ID token the console got.
func (e *idpEnv) signedInBrowser(login string) (*http.Cookie, string) {
	e.t.Helper()
	p := newPKCE(e.t)
	r := e.signIn(authorizeParams(p), login, DefaultPeoplePassword)
	q := redirected(e.t, r, consoleRedirect)
	var tokens peopleTokens
	if err := json.Unmarshal(e.redeem(redeemForm(q.Get("code"), p.verifier)).want(e.t, 200).body, &tokens); err != nil {
		e.t.Fatal(err)
	}
	return sessionCookie(e.t, r), tokens.IDToken
}

func (e *idpEnv) logout(q url.Values, ck *http.Cookie) *response {
	e.t.Helper()
	var h http.Header
	if ck != nil {
		h = withCookie(ck)
	}
	return e.httpDo("GET", PeopleAuthServerPath+"/v1/logout?"+q.Encode(), nil, h)
}

// stillSignedIn reports whether the browser's cookie still signs it in.
func (e *idpEnv) stillSignedIn(ck *http.Cookie) bool {
	e.t.Helper()
	r := e.httpDo("GET", PeopleAuthServerPath+"/v1/authorize?"+authorizeParams(newPKCE(e.t)).Encode(), nil, withCookie(ck))
	return r.status == http.StatusFound
}

// RP-initiated logout: with the ID token the client got, the browser's
// session ends (its cookie cleared, user.session.end recorded) and the
// browser goes to the client's registered post-logout URI with the state;
// its next sign-in needs the person again. Without a post-logout URI it is
// shown a page.
func TestPeopleLogout(t *testing.T) {
	e := newIDPEnv(t)
	ck, idToken := e.signedInBrowser(SeedLoginSam)
	if !e.stillSignedIn(ck) {
		t.Fatal("the browser is not remembered")
	}
	r := e.logout(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {consoleLogout}, "state": {"out-1"}}, ck)
	if q := redirected(t, r, consoleLogout); q.Get("state") != "out-1" || len(q) != 1 {
		t.Errorf("after logout: %s", r.header.Get("Location"))
	}
	cleared := false
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		cleared = cleared || (c.Name == PeopleSessionCookie && c.MaxAge < 0 && c.Path == PeopleAuthServerPath)
	}
	if !cleared {
		t.Errorf("the session cookie is not cleared: %v", r.header)
	}
	if e.stillSignedIn(ck) {
		t.Error("the browser is still signed in after logout")
	}
	var ended []Event
	for _, ev := range e.sim.Events() {
		if ev.EventType == "user.session.end" {
			ended = append(ended, ev)
		}
	}
	if len(ended) != 1 || ended[0].ActorID != SeedUserSam {
		t.Errorf("user.session.end events: %+v", ended)
	}

	// Without a post-logout URI: a page; the session ends all the same.
	ck, idToken = e.signedInBrowser(SeedLoginSam)
	page := e.logout(url.Values{"id_token_hint": {idToken}}, ck).want(t, http.StatusOK)
	if !strings.Contains(string(page.body), `id="signed-out"`) || page.header.Get("Location") != "" ||
		!strings.Contains(page.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("logout without a redirect: %v\n%s", page.header, page.body)
	}
	if e.stillSignedIn(ck) {
		t.Error("the browser is still signed in after logout")
	}

	// A browser with no session (or another's token): the redirect still
	// happens, and another person's session is left alone.
	e.logout(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {consoleLogout}}, nil).want(t, http.StatusFound)
	sam, _ := e.signedInBrowser(SeedLoginSam)
	_, tessToken := e.signedInBrowser(SeedLoginTess)
	redirected(t, e.logout(url.Values{"id_token_hint": {tessToken}, "post_logout_redirect_uri": {consoleLogout}}, sam), consoleLogout)
	if !e.stillSignedIn(sam) {
		t.Error("Tess's ID token ended Sam's session")
	}
}

// The logout endpoint is not an open redirect, and ends nothing on a bad
// request: a post-logout URI that is not one registered for the ID token's
// client, and an ID token that is missing, forged, expired, an access
// token, or too long, get a 400 page with no Location, and the browser
// stays signed in.
func TestPeopleLogoutRefusals(t *testing.T) {
	e := newIDPEnv(t)
	ck, idToken := e.signedInBrowser(SeedLoginSam)

	// Tokens that must not be taken: another simulator's (another key),
	// and an access token of this one.
	other := newIDPEnv(t)
	_, forged := other.signedInBrowser(SeedLoginSam)
	p := newPKCE(t)
	q := redirected(t, e.httpDo("GET", PeopleAuthServerPath+"/v1/authorize?"+authorizeParams(p).Encode(), nil, withCookie(ck)), consoleRedirect)
	var tokens peopleTokens
	if err := json.Unmarshal(e.redeem(redeemForm(q.Get("code"), p.verifier)).want(t, 200).body, &tokens); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(idToken, ".")

	for name, q := range map[string]url.Values{
		"unregistered":            {"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example.com/"}},
		"the sign-in redirect":    {"id_token_hint": {idToken}, "post_logout_redirect_uri": {consoleRedirect}},
		"another client's":        {"id_token_hint": {idToken}, "post_logout_redirect_uri": {otherLogout}},
		"a longer path":           {"id_token_hint": {idToken}, "post_logout_redirect_uri": {consoleLogout + "x"}},
		"a query added":           {"id_token_hint": {idToken}, "post_logout_redirect_uri": {consoleLogout + "?next=https://evil.example.com/"}},
		"a host suffix":           {"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://console.example.com.evil.example.com/approvals/"}},
		"another scheme":          {"id_token_hint": {idToken}, "post_logout_redirect_uri": {"http://console.example.com/approvals/"}},
		"no hint":                 {"post_logout_redirect_uri": {consoleLogout}},
		"not a JWT":               {"id_token_hint": {"x.y.z"}, "post_logout_redirect_uri": {consoleLogout}},
		"another server's key":    {"id_token_hint": {forged}, "post_logout_redirect_uri": {consoleLogout}},
		"an access token":         {"id_token_hint": {tokens.AccessToken}, "post_logout_redirect_uri": {consoleLogout}},
		"claims changed":          {"id_token_hint": {parts[0] + "." + parts[1] + "A." + parts[2]}, "post_logout_redirect_uri": {consoleLogout}},
		"too long":                {"id_token_hint": {strings.Repeat("a", maxIDTokenHint+1)}, "post_logout_redirect_uri": {consoleLogout}},
		"repeated redirect":       {"id_token_hint": {idToken}, "post_logout_redirect_uri": {consoleLogout, "https://evil.example.com/"}},
		"repeated hint":           {"id_token_hint": {idToken, idToken}, "post_logout_redirect_uri": {consoleLogout}},
		"a state beyond the cap":  {"id_token_hint": {idToken}, "post_logout_redirect_uri": {consoleLogout}, "state": {strings.Repeat("s", maxParamLen+1)}},
		"javascript":              {"id_token_hint": {idToken}, "post_logout_redirect_uri": {"javascript:alert(1)"}},
		"a relative redirect":     {"id_token_hint": {idToken}, "post_logout_redirect_uri": {"/approvals/"}},
		"a scheme-relative one":   {"id_token_hint": {idToken}, "post_logout_redirect_uri": {"//evil.example.com/"}},
		"the registered, escaped": {"id_token_hint": {idToken}, "post_logout_redirect_uri": {strings.Replace(consoleLogout, "/approvals/", "/%61pprovals/", 1)}},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.logout(q, ck).want(t, http.StatusBadRequest)
			if loc := r.header.Get("Location"); loc != "" {
				t.Errorf("redirected to %s", loc)
			}
			if strings.Contains(string(r.body), "evil.example.com") || !strings.Contains(string(r.body), `id="error-code"`) {
				t.Errorf("the error page:\n%s", r.body)
			}
			if !e.stillSignedIn(ck) {
				t.Fatal("a refused logout ended the session")
			}
		})
	}

	// An expired ID token, then, is refused too (Okta's documented
	// behaviour), and the session lives on until its own end.
	e.clock.Advance(PeopleTokenTTL)
	e.logout(url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {consoleLogout}}, ck).want(t, http.StatusBadRequest)
	if !e.stillSignedIn(ck) {
		t.Error("a refused logout ended the session")
	}
	if reqs := e.sim.Requests(); !slices.ContainsFunc(reqs, func(r Request) bool { return r.Path == PeopleAuthServerPath+"/v1/logout" }) {
		t.Error("logout requests are not recorded")
	}
}
