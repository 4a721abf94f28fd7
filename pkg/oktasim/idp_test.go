package oktasim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPeopleDiscovery(t *testing.T) {
	e := newIDPEnv(t)
	iss := e.issuer
	for _, doc := range []string{"openid-configuration", "oauth-authorization-server"} {
		r := e.httpDo("GET", PeopleAuthServerPath+"/.well-known/"+doc, nil, nil).want(t, 200)
		if ct := r.header.Get("Content-Type"); ct != contentType {
			t.Errorf("%s: Content-Type %q", doc, ct)
		}
		m := r.object(t)
		want := map[string]any{
			"issuer":                                iss,
			"authorization_endpoint":                iss + "/v1/authorize",
			"token_endpoint":                        iss + "/v1/token",
			"jwks_uri":                              iss + "/v1/keys",
			"response_types_supported":              []any{"code"},
			"response_modes_supported":              []any{"query"},
			"grant_types_supported":                 []any{"authorization_code"},
			"subject_types_supported":               []any{"public"},
			"id_token_signing_alg_values_supported": []any{"RS256"},
			"scopes_supported":                      []any{"openid", "profile", "email"},
			"token_endpoint_auth_methods_supported": []any{"none"},
			"code_challenge_methods_supported":      []any{"S256"},
			"end_session_endpoint":                  iss + "/v1/logout",
		}
		for k, v := range want {
			if !reflect.DeepEqual(m[k], v) {
				t.Errorf("%s: %s = %v, want %v", doc, k, m[k], v)
			}
		}
		if claims, _ := m["claims_supported"].([]any); !slices.Contains(claims, any("nonce")) || !slices.Contains(claims, any("at_hash")) {
			t.Errorf("%s: claims_supported = %v", doc, m["claims_supported"])
		}
		if len(m) != len(want)+1 {
			t.Errorf("%s lists endpoints or features the simulator does not serve: %v", doc, m)
		}
	}
	// The issuer follows the origin the client used, as OIDC discovery
	// requires of the document's location.
	if !strings.HasPrefix(iss, "http://127.0.0.1:") || !strings.HasSuffix(iss, "/oauth2/default") {
		t.Errorf("issuer = %s", iss)
	}

	e.httpDo("GET", "/oauth2/aus1234/.well-known/openid-configuration", nil, nil).wantError(t, 404, CodeNotFound)
	e.httpDo("GET", PeopleAuthServerPath+"/v1/userinfo", nil, nil).wantError(t, 404, CodePathNotFound)
	e.httpDo("POST", PeopleAuthServerPath+"/v1/keys", url.Values{}, nil).wantError(t, 405, CodeMethodNotSupported)
	e.httpDo("GET", PeopleAuthServerPath+"/v1/token", nil, nil).wantError(t, 405, CodeMethodNotSupported)
	// Without WithPeopleAuthServer there is no such server, and the org
	// authorization server is as it was.
	plain := newEnv(t)
	plain.do("GET", PeopleAuthServerPath+"/.well-known/openid-configuration", nil).wantError(t, 404, CodeNotFound)
	plain.do("GET", PeopleAuthServerPath+"/v1/keys", nil).wantError(t, 404, CodeNotFound)
	if _, err := plain.sim.PersonToken(SeedUserSam, 0); err == nil {
		t.Error("PersonToken without the server succeeded")
	}
}

func TestPeopleKeys(t *testing.T) {
	e := newIDPEnv(t)
	r := e.httpDo("GET", PeopleAuthServerPath+"/v1/keys", nil, nil).want(t, 200)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(r.body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("keys = %s", r.body)
	}
	k := set.Keys[0]
	if k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || str(k, "kid") == "" || str(k, "n") == "" || k["e"] != "AQAB" {
		t.Errorf("key = %v", k)
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if _, ok := k[private]; ok {
			t.Errorf("the key set publishes the private %q", private)
		}
	}
	tok, err := e.sim.PersonToken(SeedUserSam, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := e.claims(tok)
	if h.KeyID != k["kid"] || h.Algorithm != "RS256" {
		t.Errorf("token header = kid %q alg %q", h.KeyID, h.Algorithm)
	}
	// Another simulator's key does not verify this one's tokens.
	other := newIDPEnv(t)
	otherTok, err := other.sim.PersonToken(SeedUserSam, 0)
	if err != nil {
		t.Fatal(err)
	}
	if oh, _ := other.claims(otherTok); oh.KeyID == h.KeyID {
		t.Error("two simulators share a signing key")
	}
}

func TestPeopleCodeFlow(t *testing.T) {
	e := newIDPEnv(t)
	p := newPKCE(t)
	page := e.authorize(authorizeParams(p)).want(t, 200)
	if ct := page.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("sign-in page Content-Type %q", ct)
	}
	csp := page.header.Get("Content-Security-Policy")
	style := regexp.MustCompile(`<style>(.*)</style>`).FindSubmatch(page.body)
	if style == nil {
		t.Fatalf("no style element: %s", page.body)
	}
	sum := sha256.Sum256(style[1])
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
		"form-action 'self' https://console.example.com;", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, external := range []string{"<script", "src=", "href="} {
		if strings.Contains(string(page.body), external) {
			t.Errorf("sign-in page has %s: %s", external, page.body)
		}
	}
	if !strings.Contains(string(page.body), "Bollard Console") || !strings.Contains(string(page.body), `id="okta-signin-username"`) {
		t.Errorf("sign-in page = %s", page.body)
	}

	code := e.code(p, SeedLoginSam)
	r := e.redeem(redeemForm(code, p.verifier)).want(t, 200)
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
		t.Errorf("token response may be cached: %v", r.header)
	}
	var tokens peopleTokens
	if err := json.Unmarshal(r.body, &tokens); err != nil {
		t.Fatal(err)
	}
	if tokens.TokenType != "Bearer" || tokens.ExpiresIn != 3600 || tokens.Scope != "openid profile email" {
		t.Errorf("token response = %s", r.body)
	}

	_, at := e.claims(tokens.AccessToken)
	now := float64(testNow.Unix())
	jti, _ := at["jti"].(string)
	delete(at, "jti")
	wantAT := map[string]any{
		"ver": 1.0, "iss": e.issuer, "aud": peopleAudience, "iat": now, "exp": now + 3600,
		"cid": consoleClient, "uid": SeedUserSam, "scp": []any{"openid", "profile", "email"}, "auth_time": now,
		"sub": SeedLoginSam, "email": SeedLoginSam, "groups": []any{"Everyone", "security-approvers"},
	}
	if !reflect.DeepEqual(at, wantAT) || !strings.HasPrefix(jti, "AT.") {
		t.Errorf("access token claims = %v (jti %q)\nwant %v", at, jti, wantAT)
	}

	_, id := e.claims(tokens.IDToken)
	atSum := sha256.Sum256([]byte(tokens.AccessToken))
	jti, _ = id["jti"].(string)
	delete(id, "jti")
	wantID := map[string]any{
		"sub": SeedUserSam, "name": "Sam Singh", "email": SeedLoginSam, "ver": 1.0, "iss": e.issuer, "aud": consoleClient,
		"iat": now, "exp": now + 3600, "amr": []any{"pwd"}, "idp": oktaIdPID, "nonce": "n-456",
		"preferred_username": SeedLoginSam, "auth_time": now, "at_hash": base64.RawURLEncoding.EncodeToString(atSum[:16]),
		"email_verified": true, "groups": []any{"Everyone", "security-approvers"},
	}
	if !reflect.DeepEqual(id, wantID) || !strings.HasPrefix(jti, "ID.") {
		t.Errorf("ID token claims = %v (jti %q)\nwant %v", id, jti, wantID)
	}

	// The sign-in opened an Okta session and both grants are logged.
	var types []string
	for _, ev := range e.sim.Events() {
		if ev.ActorID == SeedUserSam {
			types = append(types, ev.EventType)
		}
	}
	if !slices.Equal(types, []string{"user.session.start", "app.oauth2.as.token.grant.access_token", "app.oauth2.as.token.grant.id_token"}) {
		t.Errorf("Sam's events = %v", types)
	}
	reqs := e.sim.Requests()
	i := slices.IndexFunc(reqs, func(r Request) bool { return r.Path == PeopleAuthServerPath+"/v1/token" })
	if i < 0 || reqs[i].ClientID != consoleClient || reqs[i].Status != 200 || !slices.Equal(reqs[i].Scopes, []string{"openid", "profile", "email"}) {
		t.Errorf("requests = %+v", reqs)
	}

	// A narrower scope gives a narrower ID token, without a nonce when
	// none was sent; the loopback redirect URI works as well.
	p = newPKCE(t)
	params := authorizeParams(p)
	params.Set("scope", "openid")
	params.Set("redirect_uri", consoleLoopback)
	params.Del("nonce")
	q := redirected(t, e.signIn(params, strings.ToUpper(SeedLoginTess), DefaultPeoplePassword), consoleLoopback)
	form := redeemForm(q.Get("code"), p.verifier)
	form.Set("redirect_uri", consoleLoopback)
	if err := json.Unmarshal(e.redeem(form).want(t, 200).body, &tokens); err != nil {
		t.Fatal(err)
	}
	_, id = e.claims(tokens.IDToken)
	for _, absent := range []string{"nonce", "email", "name", "preferred_username", "email_verified"} {
		if _, ok := id[absent]; ok {
			t.Errorf("ID token for scope openid has %s: %v", absent, id)
		}
	}
	if _, at = e.claims(tokens.AccessToken); at["sub"] != SeedLoginTess || at["email"] != SeedLoginTess || tokens.Scope != "openid" {
		t.Errorf("access token for scope openid = %v, scope %q", at, tokens.Scope)
	}
}

func TestPersonToken(t *testing.T) {
	e := newIDPEnv(t)
	tok, err := e.sim.PersonToken(SeedUserAlice, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_, c := e.claims(tok)
	now := float64(testNow.Unix())
	jti, _ := c["jti"].(string)
	delete(c, "jti")
	want := map[string]any{
		"ver": 1.0, "iss": e.issuer, "aud": peopleAudience, "iat": now, "exp": now + 600,
		"cid": consoleClient, "uid": SeedUserAlice, "scp": []any{"openid", "profile", "email"}, "auth_time": now,
		"sub": SeedLoginAlice, "email": SeedLoginAlice, "groups": []any{"Engineering", "Everyone"},
	}
	if !reflect.DeepEqual(c, want) || !strings.HasPrefix(jti, "AT.") {
		t.Errorf("claims = %v, want %v", c, want)
	}
	// By login too; an hour by default; at most a day.
	tok, err = e.sim.PersonToken(SeedLoginSam, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, c = e.claims(tok); c["exp"] != now+3600 || c["uid"] != SeedUserSam {
		t.Errorf("claims = %v", c)
	}
	if _, err := e.sim.PersonToken(SeedUserSam, 25*time.Hour); err == nil {
		t.Error("a 25-hour token was issued")
	}
	// Only an ACTIVE user, as at the token endpoint.
	for _, u := range []string{SeedUserFrank, SeedUserHeidi, SeedUserDave, SeedUserGrace, "nobody@example.com"} {
		if _, err := e.sim.PersonToken(u, 0); err == nil {
			t.Errorf("PersonToken(%s) succeeded", u)
		}
	}
	// The issuer needs the org URL; with no client, cid is PersonTokenClientID.
	bare := New(WithClock(func() time.Time { return testNow }), WithPeopleAuthServer(""))
	if _, err := bare.PersonToken(SeedUserSam, 0); err == nil || !strings.Contains(err.Error(), "SetOrgURL") {
		t.Errorf("PersonToken without an org URL: %v", err)
	}
	for _, bad := range []string{"", "127.0.0.1:80", "ftp://x", "http://h/path", "http://h?q=1"} {
		if bare.SetOrgURL(bad) == nil {
			t.Errorf("SetOrgURL(%q) accepted", bad)
		}
	}
	if err := bare.SetOrgURL(e.srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	tok, err = bare.PersonToken(SeedUserSam, 0)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		CID string `json:"cid"`
		Aud string `json:"aud"`
		Iss string `json:"iss"`
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err := json.Unmarshal(payload, &claims); err != nil || claims.CID != PersonTokenClientID || claims.Aud != DefaultPeopleAudience || claims.Iss != e.issuer {
		t.Errorf("claims = %s", payload)
	}
}

// Membership is read when a token is issued, so a change shows in the
// next token, whichever way it is made.
func TestPeopleGroupsFollowMembership(t *testing.T) {
	e := newIDPEnv(t)
	groups := func(user string) []any {
		t.Helper()
		tok, err := e.sim.PersonToken(user, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, c := e.claims(tok)
		g, _ := c["groups"].([]any)
		return g
	}
	e.do("PUT", "/api/v1/groups/"+SeedGroupSecurityApprovers+"/users/"+SeedUserAlice, nil).want(t, 204)
	if g := groups(SeedUserAlice); !slices.Equal(g, []any{"Engineering", "Everyone", "security-approvers"}) {
		t.Errorf("after joining: %v", g)
	}
	e.do("DELETE", "/api/v1/groups/"+SeedGroupSecurityApprovers+"/users/"+SeedUserSam, nil).want(t, 204)
	if g := groups(SeedUserSam); !slices.Equal(g, []any{"Everyone"}) {
		t.Errorf("after leaving: %v", g)
	}
	// Through the sign-in as well: the code is redeemed after a change.
	p := newPKCE(t)
	code := e.code(p, SeedLoginBob)
	if _, err := e.sim.AddGroup("On Call", SeedUserBob); err != nil {
		t.Fatal(err)
	}
	var tokens peopleTokens
	if err := json.Unmarshal(e.redeem(redeemForm(code, p.verifier)).want(t, 200).body, &tokens); err != nil {
		t.Fatal(err)
	}
	_, c := e.claims(tokens.AccessToken)
	if !slices.Contains(c["groups"].([]any), any("On Call")) {
		t.Errorf("groups = %v", c["groups"])
	}
}

// A person's token is for Bollard, not for Okta's Management API.
func TestPeopleTokenNotForTheAPI(t *testing.T) {
	e := newIDPEnv(t)
	tok, err := e.sim.PersonToken(SeedUserAdmin, 0)
	if err != nil {
		t.Fatal(err)
	}
	e.doToken("GET", "/api/v1/users", nil, "Bearer "+tok).wantError(t, http.StatusUnauthorized, CodeInvalidToken)
}

func TestPeopleCORS(t *testing.T) {
	e := newIDPEnv(t)
	trusted := http.Header{"Origin": {"https://console.example.com"}}
	for _, path := range []string{"/.well-known/openid-configuration", "/v1/keys"} {
		if got := e.httpDo("GET", PeopleAuthServerPath+path, nil, trusted).header.Get("Access-Control-Allow-Origin"); got != "https://console.example.com" {
			t.Errorf("%s: Access-Control-Allow-Origin %q", path, got)
		}
		if got := e.httpDo("GET", PeopleAuthServerPath+path, nil, http.Header{"Origin": {"https://evil.example"}}).header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s: untrusted origin allowed: %q", path, got)
		}
	}
	pre := e.httpDo("OPTIONS", PeopleAuthServerPath+"/v1/token", nil, http.Header{"Origin": {"http://127.0.0.1:8080"},
		"Access-Control-Request-Method": {"POST"}}).want(t, http.StatusNoContent)
	if pre.header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8080" || pre.header.Get("Access-Control-Allow-Methods") != "POST" {
		t.Errorf("preflight = %v", pre.header)
	}
	r := e.httpDo("POST", PeopleAuthServerPath+"/v1/token", url.Values{"grant_type": {"authorization_code"}}, trusted)
	if r.header.Get("Access-Control-Allow-Origin") != "https://console.example.com" {
		t.Errorf("token error without CORS: %v", r.header)
	}
}
