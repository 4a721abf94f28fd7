package approval

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"slices"
	"time"
)

// Person is an approver as their identity provider vouches for them (a
// verified JWT): never an agent.
type Person struct {
	Subject string // the token's sub (at an Okta custom authorization server, the login)
	Email   string
	// UserID is the person's Okta user id (the uid claim of an Okta
	// token), when the token has one.
	UserID string
	Groups []string
}

// Binding is what an approval covers, once: the agent, the action and the
// hash of the exact validated parameters (confirm.HashParams).
type Binding struct {
	Agent      string
	Action     string
	ParamsHash [32]byte
}

// Matches reports whether b is the same call as a: agent, action and
// parameter hash (compared in constant time).
func (a Binding) Matches(b Binding) bool {
	return a.Agent == b.Agent && a.Action == b.Action && subtle.ConstantTimeCompare(a.ParamsHash[:], b.ParamsHash[:]) == 1
}

// Request is a call that waits for approval.
type Request struct {
	Binding
	// Params are the call's parameters as the audit record keeps them
	// (masked), for the approver's eyes.
	Params map[string]any
	// OnBehalfOf is the person the agent acts for, when its credential
	// names one (subject or email): that person cannot approve it.
	OnBehalfOf string
	// Concerns are the Okta users the call changes (their ids, which are
	// the subjects of their tokens from the Okta org): none of them may
	// approve or deny a change to their own account.
	Concerns []string
	// DecisionID is the decision of the call that asked.
	DecisionID string
	// TraceParent is the W3C traceparent of the call that asked, so that
	// the spans of the votes link to the agent's trace.
	TraceParent string
	Requirement Requirement
}

// State is where an approval stands.
type State int

const (
	Pending  State = iota + 1
	Approved       // enough people approved: the agent may run the call once
	Denied         // a qualified person said no: final
	Expired        // nobody decided in time, or the approved call was not run in time
	Used           // the approved call ran
)

func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Approved:
		return "approved"
	case Denied:
		return "denied"
	case Expired:
		return "expired"
	case Used:
		return "used"
	}
	return "unknown"
}

// Final reports whether the state can no longer change.
func (s State) Final() bool { return s == Denied || s == Expired || s == Used }

// Vote is one person's answer.
type Vote struct {
	Approver Person
	Approve  bool
	Comment  string // the reason of a denial; optional for an approval
	At       time.Time
}

// Approval is a request and what people made of it.
type Approval struct {
	ID string
	Request
	State   State
	Created time.Time
	Expires time.Time
	Votes   []Vote
}

// clone is a copy the caller may keep: the store's own is never handed out.
func (a *Approval) clone() Approval {
	c := *a
	c.Request = a.Request.clone()
	c.Votes = slices.Clone(a.Votes)
	for i := range c.Votes {
		c.Votes[i].Approver.Groups = slices.Clone(c.Votes[i].Approver.Groups)
	}
	return c
}

// clone is a deep copy: the store keeps none of its caller's maps or
// slices, so that nobody changes what it decides with (the users a call
// concerns, the approver sets) by changing their own copy.
func (r Request) clone() Request {
	r.Params, _ = cloneJSON(r.Params).(map[string]any)
	r.Concerns = slices.Clone(r.Concerns)
	r.Requirement.Approvers = slices.Clone(r.Requirement.Approvers)
	for i, set := range r.Requirement.Approvers {
		r.Requirement.Approvers[i] = Set{Groups: slices.Clone(set.Groups), Users: slices.Clone(set.Users)}
	}
	return r
}

// cloneJSON copies a value decoded from JSON (or built like one): maps and
// slices are copied all the way down; anything else is a value.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = cloneJSON(e)
		}
		return c
	case []any:
		if v == nil {
			return v
		}
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = cloneJSON(e)
		}
		return c
	}
	return v
}

// Errors of the store. Each refusal of a vote is its own, so that the
// approver is told why and the audit record names it.
var (
	ErrNotFound       = errors.New("approval: no such approval")
	ErrNotPending     = errors.New("approval: no longer pending")
	ErrSelfApproval   = errors.New("approval: nobody may approve a request they made")
	ErrAgentApprover  = errors.New("approval: an agent identity cannot approve")
	ErrNotApprover    = errors.New("approval: this person is not among the approvers the policy names")
	ErrAlreadyVoted   = errors.New("approval: this person already answered")
	ErrNoReason       = errors.New("approval: a denial needs a reason")
	ErrMismatch       = errors.New("approval: the approval covers another agent, action or parameters")
	ErrNotApproved    = errors.New("approval: not approved")
	ErrTooManyPending = errors.New("approval: too many pending approvals")
)

// newID is 128 random bits, printable.
func newID() string { return "ap_" + rand.Text() }
