package sidecar

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/tooltest/browser"
)

// TestDevModeConsoleInBrowser is the end-to-end test with a real
// browser, against `sidecar dev` as a newcomer runs it: helpdesk-bot's
// suspension of Carol (an admin) waits; Sam opens the console in headless
// Chromium, signs in at the simulator's sign-in page, sees the call and
// Carol as Okta has her, approves and signs out (of the simulator too);
// the agent's same call then runs, once: Carol is suspended, and a replay
// is refused.
func TestDevModeConsoleInBrowser(t *testing.T) {
	ctx := browser.Start(t, 2*time.Minute) // skips first when there is no browser
	a := startDev(t)
	gw, agent := devHelpdesk(t, a)
	req := suspendCarol(t, gw, agent)

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for i, step := range steps {
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := chromedp.Do(sctx, step)
			cancel()
			if err != nil {
				page, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
				t.Fatalf("%s, step %d: %v\n%s", what, i+1, err, page)
			}
		}
	}
	do("open the console at the approval and sign in as Sam",
		chromedp.Navigate(a.ConsoleURL+req.ApprovalId),
		chromedp.WaitVisible(chromedp.CSS("#okta-signin-username")),
		chromedp.SendKeys(chromedp.CSS("#okta-signin-username"), oktasim.SeedLoginSam),
		chromedp.SendKeys(chromedp.CSS("#okta-signin-password"), oktasim.DefaultPeoplePassword),
		chromedp.Click(chromedp.CSS("#okta-signin-submit")),
		chromedp.WaitVisible(chromedp.CSS("#approve")))
	page, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"helpdesk-bot", "user_lifecycle.suspend", oktasim.SeedUserCarol, "ACTIVE"} {
		if !strings.Contains(page, want) {
			t.Errorf("the approval's page lacks %q (the call, and Carol as Okta has her)", want)
		}
	}
	do("approve",
		chromedp.SendKeys(chromedp.CSS("#comment"), "dev demo"),
		chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#votes")))
	if state, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#state"))); err != nil || state != "approved" {
		t.Fatalf("after approving, the page says %q (%v)", state, err)
	}

	// Sign-out ends the simulator's session too (dev registers the
	// console's sign-out URL): signing in again asks for the person.
	do("sign out, and sign in again",
		chromedp.Click(chromedp.CSS("#signout")),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS("#okta-signin-username")))

	if _, err := gw.Execute(agent, req); err != nil {
		t.Fatalf("the approved call: %v", err)
	}
	if _, err := gw.Execute(agent, req); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("the approved call again: %v, want FAILED_PRECONDITION (APPROVAL_INVALID)", err)
	}
	params, _ := structpb.NewStruct(map[string]any{"userId": oktasim.SeedUserCarol})
	got, err := gw.Execute(agent, &bollardv1.ExecuteRequest{Action: "users.get", Params: params})
	if err != nil {
		t.Fatal(err)
	}
	if s := got.GetResult().GetStructValue().GetFields()["status"].GetStringValue(); s != "SUSPENDED" {
		t.Errorf("Carol is %q after the approved suspension, want SUSPENDED", s)
	}
}
