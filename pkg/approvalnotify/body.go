package approvalnotify

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bollard-dev/bollard/pkg/approval"
)

// EventType is Payload.Type.
const EventType = "approval.pending"

// Bounds of the strings a body repeats (the store bounds them already;
// these keep one body small whatever it holds).
const (
	maxNameLen   = 256
	maxReasonLen = 1024
)

// Payload is the FormatJSON body. It never holds the call's parameters,
// a token, or the person the agent acts for.
type Payload struct {
	Type            string        `json:"type"` // EventType
	ApprovalID      string        `json:"approval_id"`
	Agent           string        `json:"agent"`
	Action          string        `json:"action"`
	Reason          string        `json:"reason"` // the policy's, for the approver
	ApprovalsNeeded int           `json:"approvals_needed"`
	Approvers       []ApproverSet `json:"approvers"`  // a person qualifies when in every set
	CreatedAt       string        `json:"created_at"` // RFC 3339, UTC
	ExpiresAt       string        `json:"expires_at"` // RFC 3339, UTC: silence denies then
	DecisionID      string        `json:"decision_id"`
	URL             string        `json:"url,omitempty"` // the approval in the console, when configured
}

// ApproverSet is one set of the policy's approvers: people in any of
// Groups, or named in Users.
type ApproverSet struct {
	Groups []string `json:"groups"`
	Users  []string `json:"users"`
}

// slackBody is the FormatSlack body.
type slackBody struct {
	Text string `json:"text"`
}

// link is the approval's page in the console, or "".
func (n *Notifier) link(id string) string {
	if n.console == "" {
		return ""
	}
	return n.console + "/approvals/" + url.PathEscape(id)
}

func (n *Notifier) body(a approval.Approval) ([]byte, error) {
	if n.format == FormatSlack {
		return json.Marshal(slackBody{Text: slackText(a, n.link(a.ID))})
	}
	return json.Marshal(payload(a, n.link(a.ID)))
}

// payload picks what the JSON body says, field by field: nothing is
// copied wholesale, so that a field added to the approval later is not
// sent without a decision.
func payload(a approval.Approval, link string) Payload {
	p := Payload{Type: EventType, ApprovalID: a.ID, Agent: clip(a.Agent, maxNameLen), Action: clip(a.Action, maxNameLen),
		Reason: clip(a.Requirement.Reason, maxReasonLen), ApprovalsNeeded: a.Requirement.Approvals,
		Approvers: []ApproverSet{}, CreatedAt: stamp(a.Created), ExpiresAt: stamp(a.Expires),
		DecisionID: clip(a.DecisionID, maxNameLen), URL: link}
	for _, s := range a.Requirement.Approvers {
		p.Approvers = append(p.Approvers, ApproverSet{Groups: names(s.Groups), Users: names(s.Users)})
	}
	return p
}

// slackText is one sentence: who asks to do what, why, by when, and
// where to decide. Slack's control characters are escaped, so that
// nothing in it becomes a link or a mention.
func slackText(a approval.Approval, link string) string {
	where := fmt.Sprintf(" (approval %s).", a.ID)
	if link != "" {
		where = ": " + link
	}
	return fmt.Sprintf("Approval needed: agent %s asks to run %s (%s); decide by %s%s",
		slackLine(a.Agent, maxNameLen), slackLine(a.Action, maxNameLen),
		strings.TrimRight(slackLine(a.Requirement.Reason, maxReasonLen), "."),
		a.Expires.UTC().Format("2006-01-02 15:04:05 UTC"), where)
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackLine is s clipped to n bytes, on one line, escaped for Slack.
func slackLine(s string, n int) string {
	return slackEscaper.Replace(strings.Join(strings.Fields(clip(s, n)), " "))
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func names(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, clip(s, maxNameLen))
	}
	return out
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
