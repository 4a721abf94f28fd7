package audit

import (
	"strconv"
	"time"
)

// Record is one agent call as the gateway saw it. Fields the call never
// reached (no identity, no decision, no Okta call) stay zero and are
// written as empty values, so every record has the same fields.
type Record struct {
	// Time is when the call arrived; zero means now.
	Time time.Time
	// Kind says what the record is about (KindCall when empty): a call
	// decided without reaching Okta, the intent written before a call goes
	// to Okta and its outcome, a person's answer to a confirmation, a
	// person's vote on an approval, a ListActions, a WatchEvents stream, or
	// the log's own checkpoint.
	Kind       string
	DecisionID string
	TraceID    string

	AgentID    string
	AuthMethod string
	// Front is the way the call came in: "grpc" or "mcp"; empty for
	// records that are not an agent's call (hook deliveries, checkpoints).
	Front string

	Action      string
	Area        string
	Access      string
	Destructive bool
	// Resource holds the path parameters: the ids acted on.
	Resource map[string]string
	// Params holds the validated parameters (query parameters and "body").
	// Credentials in it are masked in the record; the map is not modified.
	Params map[string]any

	// Result is a low-cardinality word: "ok", "denied",
	// "confirmation_required", "invalid", "unauthenticated",
	// "okta_not_found", ...
	Result    string
	DenyCodes []string
	// DenyReasons are the policy's reasons with their messages: the facts
	// behind a denial (whose roles, which protected group, the operator's
	// notes), which the agent is never told.
	DenyReasons      []Reason
	Obligations      map[string]any
	ConfirmationUsed bool
	PolicyRevision   string
	// Context is the decision input's context: the facts the sidecar gave
	// the policy (recent counts, the target's groups and roles), so that a
	// decision can be replayed.
	Context map[string]any
	// DryRun is true when the agent is in dry-run: the policy's decision was
	// recorded (DenyCodes) but not enforced.
	DryRun bool
	// Shadow is the candidate policy's decision, when one is configured.
	Shadow *Shadow

	// Detail holds what a kind of record adds (a stream's counts, a
	// checkpoint's chain head); nil for a call. Credential-bearing keys in
	// it are masked like Params.
	Detail map[string]any

	OktaStatus    int
	OktaRequestID string
	Latency       time.Duration

	// Mask lists extra dotted paths into Params to mask, from a policy
	// obligation ("body.profile.mobilePhone"). It is not written.
	Mask []string
}

// Record kinds.
const (
	// KindCall is a call answered without reaching Okta: denied, invalid,
	// unauthenticated, awaiting confirmation, or a Check.
	KindCall = "call"
	// KindIntent is written before a call is sent to Okta, and must be
	// kept by a sink first: nothing reaches Okta without it.
	KindIntent = "intent"
	// KindOutcome follows an intent, with the same decision_id: what Okta
	// answered.
	KindOutcome = "outcome"
	// KindListActions is a ListActions call: which actions were listed.
	KindListActions = "list_actions"
	// KindStreamOpen and KindStreamClose bracket a WatchEvents stream;
	// KindEvents summarises a batch of the events it offered.
	KindStreamOpen  = "stream_open"
	KindStreamClose = "stream_close"
	KindEvents      = "events"
	// KindConfirmation is a person's answer to a confirmation a front asked
	// for, with the decision_id of the call that required it: detail's
	// response is accept, decline, cancel, no_answer or unsupported (not
	// "answer": that key names a credential, and is masked). It is written
	// before the confirmed call runs, or before the refusal leaves.
	KindConfirmation = "confirmation"
	// KindApproval is a person's vote on an approval (ApprovalService's
	// Approve or Deny, pkg/approvers), accepted or refused, with the
	// decision_id, agent and action of the call that asked for it and, in
	// detail, the approver's subject and email (never their token). An
	// accepted vote's record is written before the vote counts: when no
	// sink takes it, the vote is refused with AUDIT_UNAVAILABLE and the
	// approval stays as it was. See docs/audit.md, "Approvals".
	KindApproval = "approval"
	// KindHookDelivery is an Okta event hook delivery received.
	KindHookDelivery = "hook_delivery"
	// KindCheckpoint is written by the log itself: the chain head, sealed.
	KindCheckpoint = "checkpoint"
)

// Reason is one reason a policy gave for a denial.
type Reason struct {
	Code    string
	Message string
}

// Shadow is what a candidate (shadow) policy decided for the same input.
type Shadow struct {
	Revision  string
	Allow     bool
	DenyCodes []string
	// Differs is true when the candidate's decision differs from the
	// enforced one: allow, deny codes or obligations.
	Differs bool
}

// appendBody encodes every field of r but the chain's, in the documented
// order, leaving the object open: each sink appends its own seq, prev_hash
// and hash. The order is fixed so that a record's hash is well defined.
func appendBody(b []byte, r *Record, t time.Time, m *masker) []byte {
	b = append(b, `{"timestamp":"`...)
	b = appendTimestamp(b, t)
	b = append(b, `","kind":`...)
	if r.Kind == "" {
		b = appendString(b, KindCall)
	} else {
		b = appendString(b, r.Kind)
	}
	b = append(b, `,"decision_id":`...)
	b = appendString(b, r.DecisionID)
	b = append(b, `,"trace_id":`...)
	b = appendString(b, r.TraceID)
	b = append(b, `,"agent":{"id":`...)
	b = appendString(b, r.AgentID)
	b = append(b, `,"auth_method":`...)
	b = appendString(b, r.AuthMethod)
	b = append(b, `},"front":`...)
	b = appendString(b, r.Front)
	b = append(b, `,"action":`...)
	b = appendString(b, r.Action)
	b = append(b, `,"area":`...)
	b = appendString(b, r.Area)
	b = append(b, `,"access":`...)
	b = appendString(b, r.Access)
	b = append(b, `,"destructive":`...)
	b = strconv.AppendBool(b, r.Destructive)
	b = append(b, `,"resource":`...)
	// A secret path parameter (a session id) is masked wherever its value
	// recurs: in params, in the context's facts, in a reason's message.
	b, secrets := appendResource(b, r.Resource, m)
	b = append(b, `,"params":`...)
	if r.Params == nil {
		b = append(b, "{}"...)
	} else {
		c := maskCtx{m: m, secrets: secrets}
		if len(r.Mask) > 0 {
			c.paths = splitPaths(r.Mask)
		}
		b = appendValue(b, r.Params, c)
	}
	b = append(b, `,"result":`...)
	b = appendString(b, r.Result)
	b = append(b, `,"deny_codes":`...)
	b = appendStrings(b, r.DenyCodes)
	b = append(b, `,"deny_reasons":[`...)
	for i, dr := range r.DenyReasons {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"code":`...)
		b = appendString(b, dr.Code)
		b = append(b, `,"message":`...)
		if len(secrets) > 0 && containsSecret(dr.Message, secrets) {
			b = m.appendMaskedString(b, dr.Message)
		} else {
			b = appendString(b, dr.Message)
		}
		b = append(b, '}')
	}
	b = append(b, `],"obligations":`...)
	if r.Obligations == nil {
		b = append(b, "{}"...)
	} else {
		b = appendValue(b, r.Obligations, maskCtx{})
	}
	b = append(b, `,"confirmation_used":`...)
	b = strconv.AppendBool(b, r.ConfirmationUsed)
	b = append(b, `,"policy_revision":`...)
	b = appendString(b, r.PolicyRevision)
	b = append(b, `,"context":`...)
	if r.Context == nil {
		b = append(b, "{}"...)
	} else {
		// Facts come from Okta's answers: the same rules as params.
		b = appendValue(b, r.Context, maskCtx{m: m, secrets: secrets})
	}
	b = append(b, `,"dry_run":`...)
	b = strconv.AppendBool(b, r.DryRun)
	b = append(b, `,"shadow":`...)
	if sh := r.Shadow; sh == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"revision":`...)
		b = appendString(b, sh.Revision)
		b = append(b, `,"allow":`...)
		b = strconv.AppendBool(b, sh.Allow)
		b = append(b, `,"deny_codes":`...)
		b = appendStrings(b, sh.DenyCodes)
		b = append(b, `,"differs":`...)
		b = strconv.AppendBool(b, sh.Differs)
		b = append(b, '}')
	}
	b = append(b, `,"detail":`...)
	if r.Detail == nil {
		b = append(b, "{}"...)
	} else {
		b = appendValue(b, r.Detail, maskCtx{m: m})
	}
	b = append(b, `,"okta":{"status":`...)
	b = strconv.AppendInt(b, int64(r.OktaStatus), 10)
	b = append(b, `,"request_id":`...)
	b = appendString(b, r.OktaRequestID)
	b = append(b, `},"latency_us":`...)
	return strconv.AppendInt(b, r.Latency.Microseconds(), 10)
}
