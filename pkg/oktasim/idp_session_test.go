package oktasim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// sessionCookie is the PeopleSessionCookie a sign-in set, checked.
func sessionCookie(t *testing.T, r *response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == PeopleSessionCookie {
			if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != PeopleAuthServerPath || len(c.Value) < 26 {
				t.Errorf("session cookie %+v", c)
			}
			return c
		}
	}
	t.Fatalf("no %s cookie: %v", PeopleSessionCookie, r.header)
	return nil
}

func withCookie(c *http.Cookie) http.Header {
	return http.Header{"Cookie": {(&http.Cookie{Name: c.Name, Value: c.Value}).String()}}
}

// A browser that signed in is remembered: the next authorization request
// from it, for any client, comes back with a code for the same person,
// without the sign-in page (unless prompt=login), until the session ends.
func TestPeopleSignInIsRemembered(t *testing.T) {
	e := newIDPEnv(t)
	p := newPKCE(t)
	signedIn := e.signIn(authorizeParams(p), SeedLoginSam, DefaultPeoplePassword)
	redirected(t, signedIn, consoleRedirect)
	ck := sessionCookie(t, signedIn)

	e.clock.Advance(time.Minute)
	p = newPKCE(t)
	r := e.httpDo("GET", PeopleAuthServerPath+"/v1/authorize?"+authorizeParams(p).Encode(), nil, withCookie(ck))
	q := redirected(t, r, consoleRedirect)
	if q.Get("code") == "" || q.Get("state") != "st-123" {
		t.Fatalf("a signed-in browser's authorization: %v", q)
	}
	var tokens peopleTokens
	if err := json.Unmarshal(e.redeem(redeemForm(q.Get("code"), p.verifier)).want(t, 200).body, &tokens); err != nil {
		t.Fatal(err)
	}
	if _, id := e.claims(tokens.IDToken); id["sub"] != SeedUserSam || id["auth_time"] != float64(testNow.Unix()) {
		t.Errorf("the remembered sign-in's ID token: %v", id)
	}

	other := url.Values{"client_id": {otherClient}, "redirect_uri": {otherRedirect}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {p.challenge}, "code_challenge_method": {"S256"}}
	redirected(t, e.httpDo("GET", PeopleAuthServerPath+"/v1/authorize?"+other.Encode(), nil, withCookie(ck)), otherRedirect)
	none := authorizeParams(p)
	none.Set("prompt", "none")
	if q := redirected(t, e.httpDo("GET", PeopleAuthServerPath+"/v1/authorize?"+none.Encode(), nil, withCookie(ck)), consoleRedirect); q.Get("code") == "" {
		t.Errorf("prompt=none with a session: %v", q)
	}
	login := authorizeParams(p)
	login.Set("prompt", "login")
	e.httpDo("GET", PeopleAuthServerPath+"/v1/authorize?"+login.Encode(), nil, withCookie(ck)).want(t, http.StatusOK)

	// Not a browser that signed in: the sign-in page.
	e.httpDo("GET", PeopleAuthServerPath+"/v1/authorize?"+authorizeParams(p).Encode(), nil,
		http.Header{"Cookie": {PeopleSessionCookie + "=" + strings.Repeat("A", 26)}}).want(t, http.StatusOK)
	e.httpDo("GET", PeopleAuthServerPath+"/v1/authorize?"+authorizeParams(p).Encode(), nil, nil).want(t, http.StatusOK)
}

// A remembered sign-in ends with its session: revoked through the
// Sessions API, the user suspended, or the session's idle lifetime over.
func TestPeopleRememberedSignInEnds(t *testing.T) {
	for name, end := range map[string]func(e *idpEnv){
		"revoked": func(e *idpEnv) {
			var sessions []string
			e.sim.mu.Lock()
			for id, ss := range e.sim.sessions {
				if ss.userID == SeedUserSam {
					sessions = append(sessions, id)
				}
			}
			e.sim.mu.Unlock()
			if len(sessions) != 1 {
				t.Fatalf("sessions %v", sessions)
			}
			e.do("DELETE", "/api/v1/sessions/"+sessions[0], nil).want(t, http.StatusNoContent)
		},
		"user suspended": func(e *idpEnv) {
			e.do("POST", "/api/v1/users/"+SeedUserSam+"/lifecycle/suspend", nil).want(t, http.StatusOK)
		},
		"idle": func(e *idpEnv) { e.clock.Advance(sessionIdle) },
	} {
		t.Run(name, func(t *testing.T) {
			e := newIDPEnv(t)
			p := newPKCE(t)
			signedIn := e.signIn(authorizeParams(p), SeedLoginSam, DefaultPeoplePassword)
			ck := sessionCookie(t, signedIn)
			end(e)
			e.httpDo("GET", PeopleAuthServerPath+"/v1/authorize?"+authorizeParams(p).Encode(), nil, withCookie(ck)).want(t, http.StatusOK)
		})
	}
}
