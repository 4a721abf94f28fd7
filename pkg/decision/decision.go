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
	// values (map[string]any, []any, string, json.Number, bool, nil). Nil
	// when there are none.
	Extra map[string]any
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
}

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
	// Context is reserved for later use (counters, dry run).
	Context map[string]any
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
