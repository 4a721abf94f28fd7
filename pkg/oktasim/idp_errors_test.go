package oktasim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// An authorization request that cannot name a good client and redirect URI
// gets a 400 page; any other fault is sent back to the client, with the
// state, as Okta does.
func TestPeopleAuthorizeErrors(t *testing.T) {
	e := newIDPEnv(t)
	p := newPKCE(t)
	with := func(k, v string) url.Values {
		q := authorizeParams(p)
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return q
	}
	pages := map[string]struct {
		params url.Values
		code   string
	}{
		"unknown client":          {with("client_id", "0oaUNKNOWN"), "invalid_client"},
		"no client":               {with("client_id", ""), "invalid_request"},
		"unregistered redirect":   {with("redirect_uri", "https://evil.example/callback"), "invalid_request"},
		"redirect not exact":      {with("redirect_uri", consoleRedirect+"/"), "invalid_request"},
		"redirect of another app": {with("redirect_uri", otherRedirect), "invalid_request"},
		"no redirect":             {with("redirect_uri", ""), "invalid_request"},
		"repeated client":         {func() url.Values { q := authorizeParams(p); q.Add("client_id", otherClient); return q }(), "invalid_request"},
	}
	for name, tt := range pages {
		t.Run(name, func(t *testing.T) {
			r := e.authorize(tt.params).want(t, http.StatusBadRequest)
			if r.header.Get("Location") != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
				!strings.Contains(string(r.body), `<span id="error-code">`+tt.code+`</span>`) ||
				!strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("answer = %d %v %s", r.status, r.header, r.body)
			}
		})
	}
	redirects := map[string]struct {
		params url.Values
		code   string
	}{
		"no openid":               {with("scope", "profile email"), "invalid_scope"},
		"no scope":                {with("scope", ""), "invalid_scope"},
		"unknown scope":           {with("scope", "openid okta.users.manage"), "invalid_scope"},
		"token response":          {with("response_type", "token"), "unsupported_response_type"},
		"no response type":        {with("response_type", ""), "invalid_request"},
		"fragment mode":           {with("response_mode", "fragment"), "unsupported_response_mode"},
		"no PKCE":                 {with("code_challenge", ""), "invalid_request"},
		"plain PKCE":              {with("code_challenge_method", "plain"), "invalid_request"},
		"no PKCE method":          {with("code_challenge_method", ""), "invalid_request"},
		"short challenge":         {with("code_challenge", "abc"), "invalid_request"},
		"challenge not base64url": {with("code_challenge", strings.Repeat("+", 43)), "invalid_request"},
		"prompt none":             {with("prompt", "none"), "login_required"},
		"unknown prompt":          {with("prompt", "select_everything"), "invalid_request"},
		"long nonce":              {with("nonce", strings.Repeat("n", maxParamLen+1)), "invalid_request"},
		"repeated scope":          {func() url.Values { q := authorizeParams(p); q.Add("scope", "openid"); return q }(), "invalid_request"},
	}
	for name, tt := range redirects {
		t.Run(name, func(t *testing.T) {
			q := redirected(t, e.authorize(tt.params), consoleRedirect)
			if q.Get("error") != tt.code || q.Get("error_description") == "" || q.Get("state") != "st-123" || q.Has("code") {
				t.Errorf("redirect query = %v, want error %s", q, tt.code)
			}
		})
	}
	// Without a good state there is none to echo.
	q := redirected(t, e.authorize(with("state", "")), consoleRedirect)
	if q.Get("error") != "invalid_request" || q.Has("state") {
		t.Errorf("no state: %v", q)
	}
	bad := authorizeParams(p)
	bad.Add("state", "again")
	if q := redirected(t, e.authorize(bad), consoleRedirect); q.Get("error") != "invalid_request" || q.Has("state") {
		t.Errorf("repeated state: %v", q)
	}
	// The form must be form-encoded; what it carries is checked again.
	e.httpDo("POST", PeopleAuthServerPath+"/v1/authorize", nil, http.Header{"Content-Type": {"application/json"}}).want(t, http.StatusBadRequest)
	form := with("scope", "email")
	form.Set("username", SeedLoginSam)
	form.Set("password", DefaultPeoplePassword)
	if q := redirected(t, e.httpDo("POST", PeopleAuthServerPath+"/v1/authorize", form, nil), consoleRedirect); q.Get("error") != "invalid_scope" {
		t.Errorf("form without openid: %v", q)
	}
}

// Only an ACTIVE user with the right password signs in; everyone else gets
// the sign-in page again with Okta's one message, and no code.
func TestPeopleSignInRefused(t *testing.T) {
	e := newIDPEnv(t)
	// Deactivated and suspended through the API, as an admin would.
	e.do("POST", "/api/v1/users/"+SeedUserTess+"/lifecycle/deactivate", nil).want(t, 200)
	e.do("POST", "/api/v1/users/"+SeedUserBob+"/lifecycle/suspend", nil).want(t, 200)
	p := newPKCE(t)
	cases := map[string][2]string{
		"wrong password":    {SeedLoginSam, "wrong"},
		"empty password":    {SeedLoginSam, ""},
		"password case":     {SeedLoginSam, strings.ToLower(DefaultPeoplePassword)},
		"unknown user":      {"nobody@example.com", DefaultPeoplePassword},
		"empty username":    {"", DefaultPeoplePassword},
		"user id":           {SeedUserSam, DefaultPeoplePassword},
		"deactivated (API)": {SeedLoginTess, DefaultPeoplePassword},
		"suspended (API)":   {SeedLoginBob, DefaultPeoplePassword},
		"SUSPENDED":         {SeedLoginFrank, DefaultPeoplePassword},
		"DEPROVISIONED":     {SeedLoginHeidi, DefaultPeoplePassword},
		"LOCKED_OUT":        {SeedLoginGrace, DefaultPeoplePassword},
		"STAGED":            {SeedLoginDave, DefaultPeoplePassword},
		"PROVISIONED":       {SeedLoginErin, DefaultPeoplePassword},
		"PASSWORD_EXPIRED":  {SeedLoginIvan, DefaultPeoplePassword},
		"RECOVERY":          {SeedLoginJudy, DefaultPeoplePassword},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := e.signIn(authorizeParams(p), c[0], c[1]).want(t, http.StatusOK)
			if r.header.Get("Location") != "" || !strings.Contains(string(r.body), `id="okta-signin-error">Unable to sign in<`) {
				t.Errorf("answer = %v %s", r.header, r.body)
			}
		})
	}
	failures := 0
	for _, ev := range e.sim.Events() {
		if ev.EventType == "user.session.start" && ev.ActorID == SeedUserTess {
			failures++
		}
	}
	if failures != 1 {
		t.Errorf("Tess's failed sign-in logged %d times", failures)
	}

	// Another password, when set; an empty one is ignored.
	other := newIDPEnv(t, WithPeoplePassword("s3cret-Dev-pw"), WithPeoplePassword(""))
	other.signIn(authorizeParams(p), SeedLoginSam, DefaultPeoplePassword).want(t, http.StatusOK)
	redirected(t, other.signIn(authorizeParams(p), SeedLoginSam, "s3cret-Dev-pw"), consoleRedirect)
}

func TestPeopleTokenErrors(t *testing.T) {
	e := newIDPEnv(t)
	p := newPKCE(t)
	fresh := func() string { return e.code(p, SeedLoginSam) }

	// The verifier, the redirect URI and the client must be the code's.
	e.redeem(redeemForm(fresh(), newPKCE(t).verifier)).oauthError(t, 400, "invalid_grant")
	e.redeem(redeemForm(fresh(), p.challenge)).oauthError(t, 400, "invalid_grant")
	e.redeem(redeemForm(fresh(), "short")).oauthError(t, 400, "invalid_grant")
	form := redeemForm(fresh(), p.verifier)
	form.Set("redirect_uri", consoleLoopback)
	e.redeem(form).oauthError(t, 400, "invalid_grant")
	form = redeemForm(fresh(), p.verifier)
	form.Set("client_id", otherClient)
	form.Set("redirect_uri", otherRedirect)
	e.redeem(form).oauthError(t, 400, "invalid_grant")

	// A code is good once, and a failed attempt uses it up too.
	code := fresh()
	e.redeem(redeemForm(code, p.verifier)).want(t, 200)
	e.redeem(redeemForm(code, p.verifier)).oauthError(t, 400, "invalid_grant")
	code = fresh()
	e.redeem(redeemForm(code, "x"+p.verifier)).oauthError(t, 400, "invalid_grant")
	e.redeem(redeemForm(code, p.verifier)).oauthError(t, 400, "invalid_grant")
	e.redeem(redeemForm("not-a-code", p.verifier)).oauthError(t, 400, "invalid_grant")

	// A code lasts 60 seconds on the simulator's clock.
	code = fresh()
	e.clock.Advance(59 * time.Second)
	e.redeem(redeemForm(code, p.verifier)).want(t, 200)
	code = fresh()
	e.clock.Advance(PeopleCodeTTL)
	e.redeem(redeemForm(code, p.verifier)).oauthError(t, 400, "invalid_grant")

	// A user deactivated between sign-in and redemption gets no token.
	code = fresh()
	e.do("POST", "/api/v1/users/"+SeedUserSam+"/lifecycle/deactivate", nil).want(t, 200)
	e.redeem(redeemForm(code, p.verifier)).oauthError(t, 400, "invalid_grant")
	if err := e.sim.SetUserStatus(SeedUserSam, StatusActive); err != nil {
		t.Fatal(err)
	}

	// Public clients only: an unknown client, a missing one, or one that
	// sends credentials fails its authentication.
	for name, change := range map[string]func(url.Values){
		"unknown client": func(f url.Values) { f.Set("client_id", "0oaUNKNOWN") },
		"no client":      func(f url.Values) { f.Del("client_id") },
		"client secret":  func(f url.Values) { f.Set("client_secret", "s") },
		"assertion":      func(f url.Values) { f.Set("client_assertion", "a.b.c") },
	} {
		form := redeemForm(fresh(), p.verifier)
		change(form)
		if desc := e.redeem(form).oauthError(t, http.StatusUnauthorized, "invalid_client"); desc == "" {
			t.Errorf("%s: no description", name)
		}
	}
	basic := e.httpDo("POST", PeopleAuthServerPath+"/v1/token", redeemForm(fresh(), p.verifier), http.Header{"Authorization": {"Basic eDp5"}})
	basic.oauthError(t, http.StatusUnauthorized, "invalid_client")

	// The grant and the parameters.
	for _, tt := range []struct {
		change func(url.Values)
		code   string
	}{
		{func(f url.Values) { f.Set("grant_type", "client_credentials") }, "unauthorized_client"},
		{func(f url.Values) { f.Set("grant_type", "refresh_token") }, "unauthorized_client"},
		{func(f url.Values) { f.Set("grant_type", "magic") }, "unsupported_grant_type"},
		{func(f url.Values) { f.Del("grant_type") }, "invalid_request"},
		{func(f url.Values) { f.Del("code") }, "invalid_request"},
		{func(f url.Values) { f.Del("redirect_uri") }, "invalid_request"},
		{func(f url.Values) { f.Del("code_verifier") }, "invalid_request"},
		{func(f url.Values) { f.Add("code", "again") }, "invalid_request"},
	} {
		form := redeemForm("c", p.verifier)
		tt.change(form)
		e.redeem(form).oauthError(t, 400, tt.code)
	}
	e.httpDo("POST", PeopleAuthServerPath+"/v1/token", nil, http.Header{"Content-Type": {"application/json"}}).oauthError(t, 400, "invalid_request")
}
