package oktasim

import (
	"net/http"
	"strings"
	"testing"
)

// A client registered after New, as dev mode registers Bollard's console
// once its listener has a port, signs people in like one given to New;
// before it is registered, it is unknown.
func TestRegisterPeopleClient(t *testing.T) {
	base := newEnv(t, WithPeopleAuthServer(peopleAudience))
	if err := base.sim.SetOrgURL(base.srv.URL); err != nil {
		t.Fatal(err)
	}
	hc := *base.srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e := &idpEnv{env: base, hc: &hc, issuer: base.srv.URL + PeopleAuthServerPath}
	p := newPKCE(t)

	page := e.authorize(authorizeParams(p)).want(t, http.StatusBadRequest)
	if !strings.Contains(string(page.body), "invalid_client") {
		t.Fatalf("an unregistered client's request: %s", page.body)
	}
	if err := e.sim.RegisterPeopleClient(PeopleClient{ClientID: consoleClient, RedirectURIs: []string{consoleRedirect}}); err != nil {
		t.Fatal(err)
	}
	code := e.code(p, SeedLoginSam)
	e.redeem(redeemForm(code, p.verifier)).want(t, http.StatusOK)
	// CORS follows the new client's origin.
	r := e.httpDo("GET", PeopleAuthServerPath+"/v1/keys", nil, http.Header{"Origin": {"https://console.example.com"}})
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://console.example.com" {
		t.Errorf("CORS origin %q", got)
	}

	for name, pc := range map[string]PeopleClient{
		"twice":          {ClientID: consoleClient, RedirectURIs: []string{otherRedirect}},
		"no id":          {RedirectURIs: []string{otherRedirect}},
		"no redirect":    {ClientID: otherClient},
		"bad redirect":   {ClientID: otherClient, RedirectURIs: []string{"ftp://x.example.com/cb"}},
		"fragment":       {ClientID: otherClient, RedirectURIs: []string{"https://x.example.com/cb#f"}},
		"user info":      {ClientID: otherClient, RedirectURIs: []string{"https://u@x.example.com/cb"}},
		"quote":          {ClientID: otherClient, RedirectURIs: []string{"https://x.example.com/c'b"}},
		"relative":       {ClientID: otherClient, RedirectURIs: []string{"/cb"}},
		"not a url":      {ClientID: otherClient, RedirectURIs: []string{"https://x.example.com/%zz"}},
		"one bad of two": {ClientID: otherClient, RedirectURIs: []string{otherRedirect, "javascript:alert(1)"}},
		"bad logout":     {ClientID: otherClient, RedirectURIs: []string{otherRedirect}, PostLogoutRedirectURIs: []string{"javascript:alert(1)"}},
		"logout user":    {ClientID: otherClient, RedirectURIs: []string{otherRedirect}, PostLogoutRedirectURIs: []string{"https://u@x.example.com/"}},
		"logout fragment": {ClientID: otherClient, RedirectURIs: []string{otherRedirect},
			PostLogoutRedirectURIs: []string{"https://x.example.com/#f"}},
	} {
		if err := e.sim.RegisterPeopleClient(pc); err == nil {
			t.Errorf("%s: registered %+v", name, pc)
		}
	}
	// A refused client left nothing behind.
	params := authorizeParams(p)
	params.Set("client_id", otherClient)
	params.Set("redirect_uri", otherRedirect)
	e.authorize(params).want(t, http.StatusBadRequest)

	if err := New().RegisterPeopleClient(PeopleClient{ClientID: consoleClient, RedirectURIs: []string{consoleRedirect}}); err == nil {
		t.Error("registered a client without the people's authorization server")
	}
}
