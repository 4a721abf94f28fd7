package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// Sam signs in, sees the pending call with its parameters masked and the
// target as it is now, and approves it with a comment; the store and the
// audit log have his vote, via the console.
func TestSignInAndApprove(t *testing.T) {
	e := newEnv(t)
	a := e.pending("changing a password needs a security engineer")
	c := e.client()
	cont := e.signIn(c, "/approvals/"+a.ID, oktasim.SeedLoginSam).want(t, http.StatusOK)
	if !strings.Contains(cont.body, `content="0; url=/approvals/`+a.ID+`"`) {
		t.Fatalf("the continue page does not go back to the approval:\n%s", cont.body)
	}

	list := c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusOK)
	for _, want := range []string{"helpdesk-bot", "users.update", "changing a password needs a security engineer", "0 of 1",
		`href="/approvals/` + a.ID + `"`, "sam.singh@example.com"} {
		if !strings.Contains(list.body, want) {
			t.Errorf("the list lacks %q:\n%s", want, list.body)
		}
	}
	page := c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).want(t, http.StatusOK)
	if strings.Contains(page.body, secret) || !strings.Contains(page.body, `&#34;value&#34;: &#34;hmac-sha256:`) {
		t.Fatalf("the parameters are not shown masked:\n%s", page.body)
	}
	for _, want := range []string{`id="target"`, "carol.chen@example.com", "ACTIVE", `id="approve-form"`, `id="deny-form"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the approval page lacks %q", want)
		}
	}
	r := c.do("POST", e.srv.URL+"/approvals/"+a.ID+"/approve", url.Values{"csrf": {csrf(t, page.body)}, "comment": {"ticket SEC-42"}}).
		want(t, http.StatusSeeOther)
	if loc := r.location(t, e.srv.URL); loc != e.srv.URL+"/approvals/"+a.ID {
		t.Errorf("after the vote: %s", loc)
	}
	page = c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).want(t, http.StatusOK)
	for _, want := range []string{`id="state">approved<`, "ticket SEC-42", "1 of 1", "sam.singh@example.com"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the decided approval lacks %q:\n%s", want, page.body)
		}
	}
	if strings.Contains(page.body, `id="approve-form"`) {
		t.Error("a decided approval still offers a vote")
	}
	got, _ := e.store.Get(a.ID)
	if got.State != approval.Approved || len(got.Votes) != 1 || got.Votes[0].Approver.Email != oktasim.SeedLoginSam ||
		got.Votes[0].Comment != "ticket SEC-42" {
		t.Fatalf("store: %+v", got)
	}
	recs := e.approvalRecords()
	if len(recs) != 1 || recs[0].Result != "ok" || recs[0].Detail["via"] != "console" || recs[0].Detail["comment"] != "ticket SEC-42" {
		t.Fatalf("audit records: %+v", recs)
	}
	if e.sessionCount() != 1 {
		t.Errorf("%d sessions", e.sessionCount())
	}
}

// A POST without the session's CSRF token, with another, from another
// origin, or without a session, is refused with 403 before anything is
// read or recorded.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	a := e.pending("reason")
	c := e.client()
	e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	page := c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).want(t, http.StatusOK)
	tok := csrf(t, page.body)
	other := e.client()
	e.signIn(other, "/approvals/", oktasim.SeedLoginTess).want(t, http.StatusOK)
	tessTok := csrf(t, other.do("GET", e.srv.URL+"/approvals/", nil).body)

	approve := e.srv.URL + "/approvals/" + a.ID + "/approve"
	for name, tc := range map[string]struct {
		form   url.Values
		header http.Header
		c      *client
	}{
		"no token":             {form: url.Values{"comment": {"x"}}},
		"empty token":          {form: url.Values{"csrf": {""}}},
		"wrong token":          {form: url.Values{"csrf": {tok[:len(tok)-1] + "X"}}},
		"another's token":      {form: url.Values{"csrf": {tessTok}}},
		"token in the query":   {form: url.Values{}},
		"another origin":       {form: url.Values{"csrf": {tok}}, header: http.Header{"Origin": {"https://evil.example.com"}}},
		"null origin":          {form: url.Values{"csrf": {tok}}, header: http.Header{"Origin": {"null"}}},
		"same-origin, another": {form: url.Values{"csrf": {tok}}, header: http.Header{"Origin": {"https://evil.example.com"}, "Sec-Fetch-Site": {"same-origin"}}},
		"cross-site fetch":     {form: url.Values{"csrf": {tok}}, header: http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		"same-site fetch":      {form: url.Values{"csrf": {tok}}, header: http.Header{"Sec-Fetch-Site": {"same-site"}}},
		"no session":           {form: url.Values{"csrf": {tok}}, c: e.client()},
		"deny without token":   {form: url.Values{"reason": {"no"}}},
		"logout without token": {form: url.Values{}},
	} {
		t.Run(name, func(t *testing.T) {
			cl := tc.c
			if cl == nil {
				cl = c
			}
			saved := cl.header
			cl.header = tc.header
			defer func() { cl.header = saved }()
			target := approve
			switch {
			case name == "token in the query":
				target += "?csrf=" + url.QueryEscape(tok)
			case strings.HasPrefix(name, "deny"):
				target = e.srv.URL + "/approvals/" + a.ID + "/deny"
			case strings.HasPrefix(name, "logout"):
				target = e.srv.URL + "/approvals/logout"
			}
			r := cl.do("POST", target, tc.form).want(t, http.StatusForbidden)
			e.checkHeaders(t, r)
		})
	}
	if got, _ := e.store.Get(a.ID); got.State != approval.Pending || len(got.Votes) != 0 {
		t.Fatalf("a refused POST changed the approval: %+v", got)
	}
	if recs := e.approvalRecords(); len(recs) != 0 {
		t.Fatalf("a refused POST reached the service: %+v", recs)
	}
	// Still signed in: the same session's own form works, as a browser
	// sends it under Referrer-Policy: no-referrer (Origin: null), or with
	// the console's origin.
	c.header = http.Header{"Origin": {"null"}, "Sec-Fetch-Site": {"same-origin"}}
	c.do("POST", e.srv.URL+"/approvals/"+a.ID+"/deny", url.Values{"csrf": {tok}}).want(t, http.StatusBadRequest) // reached the service: no reason
	c.header = http.Header{"Origin": {e.console.Origin()}, "Sec-Fetch-Site": {"same-origin"}}
	c.do("POST", approve, url.Values{"csrf": {tok}}).want(t, http.StatusSeeOther)
}

// checkHeaders are the security headers of every response. form-action
// names the provider's origin, where the sign-out form's answer goes.
func (e *env) checkHeaders(t *testing.T, r *response) {
	t.Helper()
	for k, v := range map[string]string{
		"Content-Security-Policy":    "default-src 'none'; style-src 'self'; form-action 'self' " + e.idp.URL + "; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":     "nosniff",
		"Referrer-Policy":            "no-referrer",
		"Cache-Control":              "no-store",
		"X-Frame-Options":            "DENY",
		"Cross-Origin-Opener-Policy": "same-origin",
	} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
}

// Every page, redirect and refusal carries the headers; the session and
// pre-login cookies have their attributes.
func TestHeadersAndCookies(t *testing.T) {
	e := newEnv(t)
	a := e.pending("reason")
	c := e.client()
	first := c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusSeeOther)
	e.checkHeaders(t, first)
	login := c.do("GET", first.location(t, e.srv.URL), nil).want(t, http.StatusSeeOther)
	e.checkHeaders(t, login)
	var pre *http.Cookie
	for _, ck := range login.cookie {
		if ck.Name == LoginCookie {
			pre = ck
		}
	}
	if pre == nil || !pre.HttpOnly || !pre.Secure || pre.SameSite != http.SameSiteLaxMode || pre.Path != CallbackPath ||
		pre.MaxAge != 600 || len(pre.Value) < 20 {
		t.Errorf("pre-login cookie %+v", pre)
	}
	cont := e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	e.checkHeaders(t, cont)
	var sess *http.Cookie
	cleared := false
	for _, ck := range cont.cookie {
		switch {
		case ck.Name == SessionCookie:
			sess = ck
		case ck.Name == LoginCookie && ck.MaxAge < 0:
			cleared = true
		}
	}
	if sess == nil || !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteStrictMode || sess.Path != "/" ||
		sess.Domain != "" || sess.MaxAge < 3500 || sess.MaxAge > 3600 || len(sess.Value) < 26 {
		t.Errorf("session cookie %+v", sess)
	}
	if !cleared {
		t.Error("the pre-login cookie is not cleared after the callback")
	}
	raw := cont.header.Values("Set-Cookie")
	if len(raw) == 0 || !strings.Contains(strings.Join(raw, "\n"), "; HttpOnly; Secure; SameSite=Strict") {
		t.Errorf("Set-Cookie %q", raw)
	}
	for _, path := range []string{"/approvals/", "/approvals/" + a.ID, "/approvals/ap_unknown", "/approvals/console.css", "/approvals/no/such/page",
		"/approvals/callback?state=x&code=y"} {
		r := c.do("GET", e.srv.URL+path, nil)
		e.checkHeaders(t, r)
		if r.status >= 500 {
			t.Errorf("%s: %d", path, r.status)
		}
	}
	css := c.do("GET", e.srv.URL+"/approvals/console.css", nil).want(t, http.StatusOK)
	if css.header.Get("Content-Type") != "text/css; charset=utf-8" || !strings.Contains(css.body, "body{") {
		t.Errorf("style sheet %v %q", css.header, css.body[:min(40, len(css.body))])
	}
	page := c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).want(t, http.StatusOK)
	for _, external := range []string{"<script", "http://", "https://", "style="} {
		if strings.Contains(page.body, external) {
			t.Errorf("the page has %q: it must load nothing from elsewhere", external)
		}
	}
	if strings.Contains(page.body, sess.Value) {
		t.Error("the session id is in the page")
	}
}

// A person outside the approver sets neither sees nor decides the
// approval.
func TestNotAnApprover(t *testing.T) {
	e := newEnv(t)
	a := e.pending("reason")
	c := e.client()
	e.signIn(c, "/approvals/", oktasim.SeedLoginAlice).want(t, http.StatusOK)
	list := c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusOK)
	if strings.Contains(list.body, a.ID) || strings.Contains(list.body, "helpdesk-bot") || !strings.Contains(list.body, `id="none"`) {
		t.Errorf("alice's list:\n%s", list.body)
	}
	page := c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).want(t, http.StatusForbidden)
	if strings.Contains(page.body, "helpdesk-bot") || strings.Contains(page.body, "users.update") || strings.Contains(page.body, "hmac-sha256") ||
		!strings.Contains(page.body, "you are not an approver of this approval") {
		t.Errorf("alice's approval page:\n%s", page.body)
	}
	tok := csrf(t, list.body)
	for _, vote := range []string{"approve", "deny"} {
		r := c.do("POST", e.srv.URL+"/approvals/"+a.ID+"/"+vote, url.Values{"csrf": {tok}, "reason": {"no"}}).want(t, http.StatusForbidden)
		if strings.Contains(r.body, "helpdesk-bot") {
			t.Errorf("%s: the refusal shows the call", vote)
		}
	}
	if got, _ := e.store.Get(a.ID); got.State != approval.Pending || len(got.Votes) != 0 {
		t.Fatalf("alice changed the approval: %+v", got)
	}
	recs := e.approvalRecords()
	if len(recs) != 2 || recs[0].Result != "not_an_approver" || recs[1].Result != "not_an_approver" {
		t.Errorf("records %+v", recs)
	}
}

// Signing out ends the session: its cookie no longer opens a page or
// carries a vote.
func TestSignOut(t *testing.T) {
	e := newEnv(t)
	a := e.pending("reason")
	c := e.client()
	e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	page := c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).want(t, http.StatusOK)
	tok := csrf(t, page.body)
	old := *c.cookies[SessionCookie+"/"]
	r := c.do("POST", e.srv.URL+"/approvals/logout", url.Values{"csrf": {tok}}).want(t, http.StatusSeeOther)
	e.checkHeaders(t, r)
	if c.cookies[SessionCookie+"/"] != nil {
		t.Fatalf("sign-out kept the session cookie: %v", c.cookies)
	}
	// To the provider's end-session endpoint, with the session's ID token
	// as hint, back to the console's list.
	end := r.location(t, e.srv.URL)
	if !strings.HasPrefix(end, e.issuer+"/v1/logout?") {
		t.Fatalf("sign-out sends the browser to %s", end)
	}
	q := mustQuery(t, end)
	hint := q.Get("id_token_hint")
	claims := idClaims(t, hint)
	if claims["aud"] != clientID || claims["sub"] != oktasim.SeedUserSam || q.Get("post_logout_redirect_uri") != e.srv.URL+"/approvals/" ||
		len(q.Get("state")) < 26 || len(q) != 3 {
		t.Errorf("the end-session request: %v (ID token %v)", q, claims)
	}
	if strings.Contains(page.body, hint) || strings.Contains(old.Value, hint) {
		t.Error("the ID token is in a page or the cookie")
	}
	back := c.do("GET", end, nil).want(t, http.StatusFound)
	r = c.do("GET", back.location(t, e.idp.URL), nil).want(t, http.StatusOK)
	if !strings.Contains(r.body, "You have signed out") || !strings.Contains(r.body, `id="signin"`) || strings.Contains(r.body, `id="signout"`) {
		t.Fatalf("back from the provider's sign-out: %s", r.body)
	}
	if e.sessionCount() != 0 {
		t.Errorf("%d sessions after sign-out", e.sessionCount())
	}
	c.cookies[SessionCookie+"/"] = &old // a copy kept, as an attacker might
	c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusSeeOther)
	c.do("POST", e.srv.URL+"/approvals/"+a.ID+"/approve", url.Values{"csrf": {tok}}).want(t, http.StatusForbidden)
	if got, _ := e.store.Get(a.ID); len(got.Votes) != 0 {
		t.Fatalf("a vote after sign-out: %+v", got)
	}
}

// Signing out ends the identity provider's session too: signing in again
// needs the person, not only the browser that was signed in. The
// provider's sign-out sends the browser back to the console, which says
// so.
func TestSignOutEndsTheProviderSession(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	// Without signing out, the provider remembers the browser: a second
	// sign-in goes straight through.
	again := e.startSignIn(e.clientWith(c), "/approvals/")
	c.do("GET", again, nil).want(t, http.StatusFound)

	tok := csrf(t, c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusOK).body)
	r := c.do("POST", e.srv.URL+"/approvals/logout", url.Values{"csrf": {tok}})
	for i := 0; r.status >= 300 && r.status < 400; i++ { // the provider's sign-out, and back
		if i == 3 {
			t.Fatalf("sign-out redirects on and on: %s", r.header.Get("Location"))
		}
		r = c.do("GET", r.location(t, e.srv.URL), nil)
	}
	r.want(t, http.StatusOK)
	if !strings.Contains(r.body, "You have signed out") || !strings.Contains(r.body, `id="signin"`) {
		t.Fatalf("after sign-out:\n%s", r.body)
	}
	if e.sessionCount() != 0 {
		t.Errorf("%d sessions after sign-out", e.sessionCount())
	}
	authorize := e.startSignIn(c, "/approvals/")
	page := c.do("GET", authorize, nil).want(t, http.StatusOK)
	if !strings.Contains(page.body, `id="okta-signin-username"`) {
		t.Fatalf("signing in again does not ask for the person:\n%s", page.body)
	}
}

// A session ends with the token's exp.
func TestSessionExpiresWithToken(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	list := c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusOK)
	tok := csrf(t, list.body)
	e.clk.advance(oktasim.PeopleTokenTTL - time.Second)
	c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusOK)
	e.clk.advance(time.Second)
	r := c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusSeeOther)
	if !strings.HasPrefix(r.header.Get("Location"), "/approvals/login?") {
		t.Errorf("an expired session is sent to %s", r.header.Get("Location"))
	}
	c.do("POST", e.srv.URL+"/approvals/logout", url.Values{"csrf": {tok}}).want(t, http.StatusForbidden)
	if e.sessionCount() != 0 {
		t.Errorf("%d sessions after expiry", e.sessionCount())
	}
}

// What an agent or a policy wrote is escaped, and characters that could
// rearrange the page are shown as escapes.
func TestEscaping(t *testing.T) {
	e := newEnv(t)
	a := e.pending(`<script>alert("reason")</script> <img src=x onerror=alert(1)> ‮evil`)
	c := e.client()
	e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	for _, path := range []string{"/approvals/", "/approvals/" + a.ID} {
		body := c.do("GET", e.srv.URL+path, nil).want(t, http.StatusOK).body
		if strings.Contains(body, "<script") || strings.Contains(body, "<img") || strings.Contains(body, "\u202e") {
			t.Errorf("%s: the reason is not escaped:\n%s", path, body)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;reason&#34;)&lt;/script&gt;") || !strings.Contains(body, `\u202Eevil`) {
			t.Errorf("%s: the reason is not shown escaped:\n%s", path, body)
		}
	}
	page := c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).body
	c.do("POST", e.srv.URL+"/approvals/"+a.ID+"/deny", url.Values{"csrf": {csrf(t, page)}, "reason": {"<b>no</b>"}}).want(t, http.StatusSeeOther)
	body := c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).body
	if strings.Contains(body, "<b>no</b>") || !strings.Contains(body, "&lt;b&gt;no&lt;/b&gt;") || !strings.Contains(body, `id="state">denied<`) {
		t.Errorf("a denial's reason is not escaped:\n%s", body)
	}
}

// A denial needs a reason: the page says so and nothing changes; a vote
// refused by the store's rules shows its sentence.
func TestVoteRefusals(t *testing.T) {
	e := newEnv(t)
	a := e.pending("reason")
	c := e.client()
	e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	tok := csrf(t, c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).body)
	r := c.do("POST", e.srv.URL+"/approvals/"+a.ID+"/deny", url.Values{"csrf": {tok}, "reason": {"   "}}).want(t, http.StatusBadRequest)
	if !strings.Contains(r.body, "a denial needs a reason") || !strings.Contains(r.body, `id="deny-form"`) {
		t.Errorf("deny without a reason:\n%s", r.body)
	}
	c.do("POST", e.srv.URL+"/approvals/"+a.ID+"/approve", url.Values{"csrf": {tok}}).want(t, http.StatusSeeOther)
	r = c.do("POST", e.srv.URL+"/approvals/"+a.ID+"/deny", url.Values{"csrf": {tok}, "reason": {"changed my mind"}}).want(t, http.StatusConflict)
	if !strings.Contains(r.body, "the approval is no longer pending") {
		t.Errorf("a vote on a decided approval:\n%s", r.body)
	}
	c.do("POST", e.srv.URL+"/approvals/ap_unknown/approve", url.Values{"csrf": {tok}}).want(t, http.StatusNotFound)
	if got, _ := e.store.Get(a.ID); got.State != approval.Approved || len(got.Votes) != 1 {
		t.Fatalf("store: %+v", got)
	}
}

// The callback takes a state once, only with the cookie of the browser
// that started the sign-in.
func TestCallbackState(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	r := c.do("GET", e.srv.URL+"/approvals/login", nil).want(t, http.StatusSeeOther)
	u, _ := url.Parse(r.header.Get("Location"))
	q := u.Query()
	for k, want := range map[string]string{"response_type": "code", "client_id": clientID, "redirect_uri": e.srv.URL + CallbackPath,
		"code_challenge_method": "S256", "scope": "openid email profile"} {
		if q.Get(k) != want {
			t.Errorf("authorize %s=%q, want %q", k, q.Get(k), want)
		}
	}
	if len(q.Get("state")) < 26 || len(q.Get("code_challenge")) != 43 || len(q.Get("nonce")) < 26 || q.Get("nonce") == q.Get("state") {
		t.Errorf("authorize query %v", q)
	}
	state := q.Get("state")
	// Another browser (no pre-login cookie) cannot end this sign-in, and
	// its attempt uses the state up.
	other := e.client()
	other.do("GET", e.srv.URL+CallbackPath+"?state="+state+"&code=x", nil).want(t, http.StatusBadRequest)
	c.do("GET", e.srv.URL+CallbackPath+"?state="+state+"&code=x", nil).want(t, http.StatusBadRequest)
	// An unknown state, and a provider's error.
	c.do("GET", e.srv.URL+"/approvals/login", nil)
	c.do("GET", e.srv.URL+CallbackPath+"?state=nope&code=x", nil).want(t, http.StatusBadRequest)
	r = c.do("GET", e.srv.URL+"/approvals/login", nil)
	u, _ = url.Parse(r.header.Get("Location"))
	r = c.do("GET", e.srv.URL+CallbackPath+"?state="+u.Query().Get("state")+"&error=access_denied%3Cb%3E", nil).want(t, http.StatusForbidden)
	if strings.Contains(r.body, "<b>") {
		t.Errorf("the provider's error is shown as sent:\n%s", r.body)
	}
	// A sign-in left too long expires.
	r = c.do("GET", e.srv.URL+"/approvals/login", nil)
	u, _ = url.Parse(r.header.Get("Location"))
	e.clk.advance(loginTTL)
	c.do("GET", e.srv.URL+CallbackPath+"?state="+u.Query().Get("state")+"&code=x", nil).want(t, http.StatusBadRequest)
	if e.sessionCount() != 0 {
		t.Error("a session without a sign-in")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/approvals/ap_1":               "/approvals/ap_1",
		"/approvals/?x=1":               "/approvals/?x=1",
		"":                              "/approvals/",
		"https://evil.example.com/":     "/approvals/",
		"//evil.example.com/approvals/": "/approvals/",
		"/approvals//evil":              "/approvals/",
		"/approvals/\\evil":             "/approvals/",
		"/metrics":                      "/approvals/",
		"/approvals/callback?x":         "/approvals/",
		"/approvals/login?next=x":       "/approvals/",
		"/approvals/%0d%0aX":            "/approvals/%0d%0aX",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
