package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/tooltest/browser"
)

// The console driven in a real browser: sent to the identity provider's
// sign-in page, Sam signs in, comes back to the pending approval (a
// notification's link), sees its parameters masked and approves it with a
// comment, then signs out, of the console and of the provider. On the way:
// Chromium keeps the Secure session cookie on loopback http, the page works
// under its CSP (no violation reported, its style sheet applied), a form
// posted from another page of the same site is refused, and after sign-out
// signing in asks for the person again.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browser.Start(t, 90*time.Second) // skips first when there is no browser
	e := newEnv(t)
	a := e.pending("changing a password needs a security engineer")

	var (
		mu         sync.Mutex
		violations []string
	)
	messages := chromedp.Console(ctx) // subscribed now: nothing is missed
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				violations = append(violations, m.String())
				mu.Unlock()
			}
		}
	}()

	// do runs the steps, and on failure shows where the browser is.
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for i, step := range steps {
			sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			err := chromedp.Do(sctx, step)
			cancel()
			if err == nil {
				continue
			}
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
			t.Fatalf("%s, step %d: %v\nat %s:\n%s", what, i+1, err, loc, page)
		}
	}
	get := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	pageHTML := func() string { t.Helper(); return get(chromedp.OuterHTML(chromedp.CSS("html"))) }

	do("open the approval's link and reach the sign-in page",
		chromedp.Navigate(e.srv.URL+"/approvals/"+a.ID),
		chromedp.WaitVisible(chromedp.CSS("#okta-signin-username")))
	if loc := get(chromedp.Location()); !strings.HasPrefix(loc, e.issuer+"/v1/authorize?") {
		t.Fatalf("sign-in page at %s, not the issuer's", loc)
	}
	do("sign in as Sam",
		chromedp.SendKeys(chromedp.CSS("#okta-signin-username"), oktasim.SeedLoginSam),
		chromedp.SendKeys(chromedp.CSS("#okta-signin-password"), oktasim.DefaultPeoplePassword),
		chromedp.Click(chromedp.CSS("#okta-signin-submit")),
		chromedp.WaitVisible(chromedp.CSS("#params")))
	if loc := get(chromedp.Location()); loc != e.srv.URL+"/approvals/"+a.ID {
		t.Errorf("after sign-in at %s, want the approval's page", loc)
	}
	html := pageHTML()
	if strings.Contains(html, secret) || !strings.Contains(html, `"value": "hmac-sha256:`) {
		t.Fatalf("the page shows the parameters unmasked, or not at all:\n%s", html)
	}
	for _, want := range []string{"helpdesk-bot", "users.update", "changing a password needs a security engineer", "sam.singh@example.com"} {
		if !strings.Contains(html, want) {
			t.Errorf("the approval's page lacks %q", want)
		}
	}

	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.srv.URL + "/approvals/", e.srv.URL + CallbackPath}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, ck := range res.Cookies {
		if ck.Name == SessionCookie {
			session = ck
		}
		if ck.Name == LoginCookie {
			t.Errorf("the pre-login cookie outlived the sign-in: %+v", ck)
		}
	}
	if session == nil || !session.Secure || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Path != "/" {
		t.Fatalf("Chromium's session cookie on loopback http: %+v (all: %+v)", session, res.Cookies)
	}
	// The provider remembers the browser (its session cookie is kept too),
	// so that sign-out must end its session for the next sign-in to ask.
	if !providerSignedIn(ctx, t, e) {
		t.Fatal("Chromium did not keep the provider's session cookie: this test could not show what sign-out ends")
	}
	headerBG, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header")).backgroundColor`))
	if err != nil || headerBG != "rgb(31, 42, 68)" {
		t.Errorf("the style sheet is not applied (header background %q, %v): is the CSP blocking it?", headerBG, err)
	}

	// Another page of the same site (another loopback port) posts a vote
	// with the session's cookie but without the console's form.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/approvals/%s/approve"><input name="csrf" value="guess"><input name="comment" value="forged"></form><script>document.forms[0].submit()</script>`, e.srv.URL, a.ID)
	}))
	t.Cleanup(evil.Close)
	do("a forged form from another port",
		chromedp.Navigate(evil.URL),
		chromedp.WaitVisible(chromedp.CSS("#message")))
	if html := pageHTML(); !strings.Contains(html, "did not come from the console") {
		t.Errorf("the forged form's answer:\n%s", html)
	}
	if got, _ := e.store.Get(a.ID); len(got.Votes) != 0 {
		t.Fatalf("the forged form voted: %+v", got.Votes)
	}

	do("approve with a comment",
		chromedp.Navigate(e.srv.URL+"/approvals/"),
		chromedp.WaitVisible(chromedp.CSS("#pending a.review")),
		chromedp.Click(chromedp.CSS("#pending a.review")),
		chromedp.WaitVisible(chromedp.CSS("#approve")),
		chromedp.SendKeys(chromedp.CSS("#comment"), "ticket SEC-42"),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#votes")))
	state := get(chromedp.Text(chromedp.CSS("#state")))
	if html := pageHTML(); state != "approved" || !strings.Contains(html, "ticket SEC-42") || strings.Contains(html, secret) {
		t.Errorf("after approving: state %q\n%s", state, html)
	}
	got, _ := e.store.Get(a.ID)
	if got.State != approval.Approved || len(got.Votes) != 1 || got.Votes[0].Approver.Subject != oktasim.SeedLoginSam ||
		got.Votes[0].Comment != "ticket SEC-42" || !got.Votes[0].Approve {
		t.Fatalf("the store has %+v", got)
	}

	// Sign-out goes through the provider's end-session endpoint (the
	// form's redirect there is allowed by form-action) and back; signing in
	// again then asks for Sam, not only for his browser.
	do("sign out",
		chromedp.Click(chromedp.CSS("#signout")),
		chromedp.WaitVisible(chromedp.CSS("#signin")))
	if e.sessionCount() != 0 {
		t.Error("the session outlived sign-out")
	}
	if loc := get(chromedp.Location()); !strings.HasPrefix(loc, e.srv.URL+"/approvals/?state=") {
		t.Errorf("after sign-out at %s, want the console's list back from the provider", loc)
	}
	if providerSignedIn(ctx, t, e) {
		t.Error("the provider's session cookie outlived sign-out")
	}
	do("sign in again",
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#okta-signin-username")))
	mu.Lock()
	defer mu.Unlock()
	if len(violations) > 0 {
		t.Errorf("CSP violations reported: %q", violations)
	}
}

// providerSignedIn reports whether Chromium holds the simulator's session
// cookie for its authorization endpoint.
func providerSignedIn(ctx context.Context, t *testing.T, e *env) bool {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{e.issuer + "/v1/authorize"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range res.Cookies {
		if ck.Name == oktasim.PeopleSessionCookie {
			return true
		}
	}
	return false
}
