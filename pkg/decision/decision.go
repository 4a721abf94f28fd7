package decision

import (
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// InputVersion is the version of the input document this package builds.
// A change to the input's shape is a new version: see docs/policy-contract.md.
const InputVersion = 1

// Query is the rule every policy must define.
const Query = "data.bollard.authz.decision"

// StandingQuery is an optional rule: what an agent may do with an action
// whatever the call's details (docs/policy-contract.md, "Standing"). The
// engine evaluates it with an input that holds only version, agent.id and
// action, keeps the answer per policy revision, agent and action, and
// passes it to the decision as input.standing, so that the parts of a
// decision that depend only on who asks for what are not evaluated on
// every call.
const StandingQuery = "data.bollard.authz.standing"

// Stage is which part of a decision the sidecar asks for. A call that
// changes objects whose facts only Okta knows (a user's groups and roles) is
// decided in two stages, so that nothing is read at Okta for a call the
// cheap part already denies; any other call in one.
type Stage string

// The stages, as input.stage names them.
const (
	// StageFull decides everything, with whatever facts the input holds.
	StageFull Stage = "full"
	// StageGrant decides what needs no looked-up facts: grants, action
	// lists, hours, limits, read shaping, the team's own rules. Its allow
	// only clears the way to the lookups and StageEffect.
	StageGrant Stage = "grant"
	// StageEffect decides what needs the facts (input.context.target), for
	// a call the same policy revision allowed at StageGrant (Input.After);
	// without that, the engine decides StageFull instead.
	StageEffect Stage = "effect"
)

// Reason codes set by the engine itself. The shipped policies add their own
// (not_granted, outside_business_hours, unsupported_input_version).
const (
	// CodePolicyError: the policy could not give a usable answer (undefined,
	// malformed, failed or too slow). The call is denied.
	CodePolicyError = "policy_error"
	// CodeDenied: the policy denied the call without giving a reason.
	CodeDenied = "denied"
)

// Messages for the engine's codes. They never carry the underlying error,
// which is logged instead.
const (
	msgPolicyError = "the policy could not decide this request; it is denied"
	msgDenied      = "the policy denied this request"
)

// Reason explains one ground for denying a call. Code is stable and fit for
// metric labels and error details; Message is for people.
type Reason struct {
	Code    string
	Message string
}

// Obligations are conditions the sidecar must meet before it forwards an
// allowed call.
type Obligations struct {
	// RequireConfirmation: the call needs a confirmation token first.
	RequireConfirmation bool
	// Extra holds every other key the policy put in obligations, as JSON
	// values (map[string]any, []any, string, json.Number, bool, nil): only
	// KnownObligations. Nil when there are none.
	Extra map[string]any
}

// KnownObligations are the obligations besides require_confirmation that
// the sidecar honours. An obligation is a condition on an allowed call, so
// a decision with any other key (a newer policy's obligation this sidecar
// cannot meet, or a misspelt one) is malformed and denies: a condition the
// security team set is never skipped.
var KnownObligations = map[string]bool{
	"page_budget":   true, // ExecuteAll's pages
	"max_page_size": true, // the limit sent to Okta
	"remove_fields": true, // fields removed from answers and events
	"constraints":   true, // conditions on parameters, and their defaults
	"mask":          true, // parameters the audit record keeps as an HMAC
	// a person's approval first (pkg/approval's Requirement)
	"require_approval": true,
}

// Decision is the answer for one call.
type Decision struct {
	// ID identifies this decision in logs, audit records and replies (a
	// UUIDv7 string).
	ID    string
	Allow bool
	// Deny lists why the call is denied; empty when Allow is true.
	Deny        []Reason
	Obligations Obligations
	// Revision is the policy revision that decided.
	Revision string
	// Duration is the time Decide took.
	Duration time.Duration

	// stage is the stage this decision was made at, and set the policy
	// that made it: a StageEffect input is decided as such only after an
	// allowing StageGrant decision of the same policy (Input.After).
	stage Stage
	set   *policySet
}

// Stage is the stage the decision was made at.
func (d Decision) Stage() Stage { return d.stage }

// Agent is the authenticated caller.
type Agent struct {
	ID string
	// AuthMethod is how the agent authenticated: "key" or "jwt".
	AuthMethod string
	// Claims are the verified claims of a JWT; empty for keys.
	Claims map[string]any
}

// Input is what a policy decides on. Time zero means now.
type Input struct {
	Agent  Agent
	Action *catalog.Action
	// Resource maps path parameters to their values: the ids the call acts on.
	Resource map[string]string
	// Params holds the validated parameters, query and body, as catalog.Call.Params.
	Params map[string]any
	Time   time.Time
	// Context holds the facts the sidecar gathered (input.context): counts,
	// and the target facts of pkg/target.
	Context map[string]any
	// Stage is the stage to decide (StageFull when empty).
	Stage Stage
	// After is the StageGrant decision a StageEffect input continues.
	After *Decision
	// DecisionID is the id the decision carries, minted by the caller so
	// that what happens before the decision (lookups, logs) carries it too;
	// when empty the engine mints one.
	DecisionID string
}

// Status reports the state of the policy for health endpoints.
type Status struct {
	// Revision of the active policy.
	Revision string
	// Source is the policy directory, "embedded", "fs", "bundle file
	// <path>" or "bundle <url>" (the URL without credentials or query).
	Source string
	// LoadedAt is when the active revision was activated.
	LoadedAt time.Time
	// LastReload is when the source was last read, successfully or not.
	LastReload time.Time
	// LastFetch is when the source was last read successfully (for a
	// bundle server, answered 200 or 304), whether or not what it held
	// was accepted.
	LastFetch time.Time
	// LastError is why the last reload failed (the source could not be
	// read, or what it held was rejected), nil if it succeeded. A non-nil
	// LastError means the active policy may be older than the source.
	LastError error
}
