package gateway

import (
	"slices"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// publicMessages are the sentences an agent gets for each deny code: what
// stands in the way, never the facts behind it. The policy's own messages
// (which user holds which role, which group is protected and why, whether a
// login exists) go to the audit record only, so that an agent learns
// nothing from a denial that its grants would not show it.
var publicMessages = map[string]string{
	decision.CodePolicyError:    "the policy could not decide this request",
	decision.CodeDenied:         "the policy denied this request",
	decision.CodeNoEventPolicy:  "the policy shows no events",
	CodeHiddenField:             "the request queries an attribute that is hidden from this agent",
	codeNotGranted:              "this agent is not granted this access",
	"action_denied":             "this action is on this agent's deny list",
	"outside_business_hours":    "destructive actions are allowed only during business hours",
	"protected_user":            "the request changes a protected user",
	"protected_group":           "the request changes a protected group",
	"protected_app":             "the request changes a protected app",
	"protected_policy":          "the request changes a protected policy",
	"target_unresolved":         "what the request changes could not be checked",
	"impact_limit":              "this agent reached its limit of destructive actions",
	"log_window":                "the System Log query reaches further back than this agent may read",
	"invalid_policy_data":       "the policy's settings for this request cannot be applied",
	"unsupported_input_version": "the policy does not understand this sidecar's requests",
	"event_filtered":            "the event does not pass this agent's event filters",
}

// publicMessage is the sentence for a deny code; a code of the security
// team's own rules gets a generic one.
func publicMessage(code string) string {
	if m, ok := publicMessages[code]; ok {
		return m
	}
	return "denied by a rule of the security team's policy"
}

// publicCodes are the deny codes as the agent sees them: each once, in the
// order of first appearance. How many reasons share a code (a user listed,
// in a protected group and holding a protected role) is a fact about the
// target, for the audit record only.
func publicCodes(rs []decision.Reason) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if !slices.Contains(out, r.Code) {
			out = append(out, r.Code)
		}
	}
	return out
}
