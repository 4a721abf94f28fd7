package approvalnotify_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/approvalnotify"
)

// The exact bodies of both formats, with and without a console link; none
// carries the parameters, the person the agent acts for, the users the call
// changes or the trace.
func TestBodies(t *testing.T) {
	const (
		jsonBody = `{"type":"approval.pending","approval_id":"ID","agent":"helpdesk-bot","action":"user_lifecycle.deactivate",` +
			`"reason":"deactivating a user who holds an admin role needs a security engineer","approvals_needed":2,` +
			`"approvers":[{"groups":["security-approvers"],"users":["ann@example.com"]},{"groups":["oncall"],"users":[]}],` +
			`"created_at":"2026-12-05T09:00:00Z","expires_at":"2026-12-05T09:15:00Z","decision_id":"dec-1"`
		slackBody = `{"text":"Approval needed: agent helpdesk-bot asks to run user_lifecycle.deactivate ` +
			`(deactivating a user who holds an admin role needs a security engineer); decide by 2026-12-05 09:15:00 UTC`
	)
	for _, tc := range []struct {
		name    string
		opts    []approvalnotify.Option
		want    string
		console bool
	}{
		{"json", nil, jsonBody + `}`, false},
		{"json with console", []approvalnotify.Option{approvalnotify.WithConsoleURL("https://console.example.com/")}, jsonBody + `,"url":"https://console.example.com/approvals/ID"}`, true},
		{"slack", []approvalnotify.Option{approvalnotify.WithFormat(approvalnotify.FormatSlack)}, slackBody + ` (approval ID)."}`, false},
		{"slack with console", []approvalnotify.Option{approvalnotify.WithFormat(approvalnotify.FormatSlack), approvalnotify.WithConsoleURL("https://console.example.com")},
			slackBody + `: https://console.example.com/approvals/ID"}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHook(t, nil)
			s, _ := newStore()
			start(t, s, h.URL, tc.opts...)
			a := create(t, s, request("helpdesk-bot", 2))
			eventually(t, "the notification", func() bool { return len(h.received()) == 1 })
			got := string(h.received()[0])
			if want := strings.ReplaceAll(tc.want, "ID", a.ID); got != want {
				t.Errorf("body:\n got %s\nwant %s", got, want)
			}
			if ct := h.heads[0].Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if strings.Contains(got, sentinel) || strings.Contains(got, "userId") || strings.Contains(got, "00uANN") {
				t.Errorf("the body carries what it must not: %s", got)
			}
		})
	}
}

// Nothing in the Slack text becomes a link, a mention or a second line,
// whatever the agent, the action and the reason hold.
func TestSlackTextIsEscaped(t *testing.T) {
	h := newHook(t, nil)
	s, _ := newStore()
	start(t, s, h.URL, approvalnotify.WithFormat(approvalnotify.FormatSlack))
	r := request("bot<!here>", 1)
	r.Requirement.Reason = "see <https://evil.example|this> & <!channel>\nnow."
	a := create(t, s, r)
	eventually(t, "the notification", func() bool { return len(h.received()) == 1 })
	var body struct{ Text string }
	if err := json.Unmarshal(h.received()[0], &body); err != nil {
		t.Fatal(err)
	}
	want := "Approval needed: agent bot&lt;!here&gt; asks to run user_lifecycle.deactivate " +
		"(see &lt;https://evil.example|this&gt; &amp; &lt;!channel&gt; now); decide by 2026-12-05 09:15:00 UTC (approval " + a.ID + ")."
	if body.Text != want {
		t.Errorf("text:\n got %s\nwant %s", body.Text, want)
	}
}
