package gateway

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/identity"
)

// Domain is the ErrorInfo domain of every Bollard error.
const Domain = "bollard.dev"

// ErrorInfo reasons: stable, documented, safe to branch on.
const (
	ReasonUnauthenticated           = "UNAUTHENTICATED"
	ReasonUnknownAction             = "UNKNOWN_ACTION"
	ReasonInvalidParams             = "INVALID_PARAMETERS"
	ReasonRequestTooLarge           = "REQUEST_TOO_LARGE"
	ReasonNotAList                  = "NOT_A_LIST_ACTION"
	ReasonPolicyDenied              = "POLICY_DENIED"
	ReasonConfirmationRequired      = "CONFIRMATION_REQUIRED"
	ReasonConfirmationInvalid       = "CONFIRMATION_INVALID"
	ReasonTooManyConfirmations      = "TOO_MANY_PENDING_CONFIRMATIONS"
	ReasonAgentBudgetExceeded       = "AGENT_BUDGET_EXCEEDED"
	ReasonAuditUnavailable          = "AUDIT_UNAVAILABLE"
	ReasonStateUnavailable          = "STATE_UNAVAILABLE"
	ReasonDecisionChanged           = "DECISION_CHANGED"
	ReasonApprovalPending           = "APPROVAL_PENDING"
	ReasonApprovalDenied            = "APPROVAL_DENIED"
	ReasonApprovalInvalid           = "APPROVAL_INVALID"
	ReasonApprovalNotFound          = "APPROVAL_NOT_FOUND"
	ReasonTooManyApprovals          = "TOO_MANY_PENDING_APPROVALS"
	ReasonOktaBadRequest            = "OKTA_BAD_REQUEST"
	ReasonOktaNotFound              = "OKTA_NOT_FOUND"
	ReasonOktaRateLimited           = "OKTA_RATE_LIMITED"
	ReasonOktaCredentialRejected    = "OKTA_CREDENTIAL_REJECTED"
	ReasonOktaRejected              = "OKTA_REJECTED"
	ReasonOktaUnsupported           = "OKTA_METHOD_NOT_SUPPORTED"
	ReasonOktaUnavailable           = "OKTA_UNAVAILABLE"
	ReasonOktaOutcomeUnknown        = "OKTA_OUTCOME_UNKNOWN"
	ReasonOktaCredentialUnavailable = "OKTA_CREDENTIAL_UNAVAILABLE"
	ReasonInternal                  = "INTERNAL"
)

var errRequestTooLarge = errors.New("action name or confirmation token too long")

// errDecisionChanged: a destructive call's decision changed while it was
// being counted (other replicas counted calls of the same agent), to other
// obligations than the agent was held to; it never reached Okta.
var errDecisionChanged = errors.New("the decision changed with the agent's impact counts while the call was being cleared")

// errAuditUnavailable: no audit sink could take the call's record.
var errAuditUnavailable = errors.New("audit log unavailable")

// errShuttingDown: the sidecar is stopping (Shutdown), and a stream that
// would not end by itself is ended, or not opened.
var errShuttingDown = errors.New("the sidecar is shutting down")

// errApprovalNotFound: WaitApproval named an id that is not one of the
// agent's approvals, another agent's or none.
var errApprovalNotFound = errors.New("no such approval for this agent")

type authError struct{ err error }

func (e *authError) Error() string { return "authenticate: " + e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

type denyError struct{ decision decision.Decision }

func (e *denyError) Error() string {
	return fmt.Sprintf("denied by policy (decision %s): %s", e.decision.ID, strings.Join(denyCodes(e.decision), ","))
}

type confirmationRequired struct {
	token      string
	expires    time.Time
	decisionID string
}

func (e *confirmationRequired) Error() string { return "confirmation required" }

type confirmationRefused struct {
	err        error
	decisionID string
}

func (e *confirmationRefused) Error() string { return "confirmation refused: " + e.err.Error() }
func (e *confirmationRefused) Unwrap() error { return e.err }

type budgetExceeded struct {
	agent      string
	perMinute  int
	retryAfter time.Duration
}

func (e *budgetExceeded) Error() string {
	return fmt.Sprintf("agent %s spent its budget of %d calls a minute", e.agent, e.perMinute)
}

// toStatus maps a pipeline error to the status the agent sees: the code
// and reason of its row in the error table, with the details of its kind.
// Only text written for agents goes out: policy messages, Okta's own
// summaries, and fixed sentences here. Anything unexpected becomes a bare
// INTERNAL.
func toStatus(err error) error {
	k, cause := classify(err)
	switch k {
	case kindAuditUnavailable:
		return withDetails(k.code, "the audit log cannot record calls; refused (audit_unavailable)",
			info(k.reason, map[string]string{"deny_codes": "audit_unavailable"}))
	case kindStateUnavailable:
		return withDetails(k.code, "the state the sidecars share cannot be reached; refused (state_unavailable)",
			info(k.reason, map[string]string{"deny_codes": "state_unavailable"}))
	case kindUnauthenticated:
		ae := cause.(*authError)
		return withDetails(k.code, "missing or invalid agent credential",
			info(k.reason, map[string]string{"detail": identity.ReasonOf(ae.err)}))
	case kindUnknownAction:
		return withDetails(k.code, "unknown action; ListActions lists the catalog",
			info(k.reason, nil),
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "action", Description: "not an action of the catalog"}}})
	case kindRequestTooLarge:
		return withDetails(k.code, "request field too long", info(k.reason, nil))
	case kindNotAList:
		return withDetails(k.code, "ExecuteAll takes a list action (ListActions: paginated); use Execute for this one",
			info(k.reason, nil),
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "action", Description: "not a paginated read action"}}})
	case kindInvalidParams:
		ve := cause.(*catalog.ValidationError)
		br := &errdetails.BadRequest{}
		for _, v := range ve.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		return withDetails(k.code, ve.Error(), info(k.reason, map[string]string{"action": ve.Action}), br)
	case kindDenied:
		// Codes and their fixed sentences only: the policy's messages (the
		// facts behind the denial) are in the audit record.
		de := cause.(*denyError)
		pub := publicCodes(de.decision.Deny)
		msgs := make([]string, len(pub))
		for i, c := range pub {
			msgs[i] = c + ": " + publicMessage(c)
		}
		return withDetails(k.code, "denied by policy: "+strings.Join(msgs, "; "),
			info(k.reason, map[string]string{
				"decision_id":     de.decision.ID,
				"deny_codes":      strings.Join(pub, ","),
				"policy_revision": de.decision.Revision,
			}))
	case kindConfirmationRequired:
		cr := cause.(*confirmationRequired)
		return withDetails(k.code,
			"policy requires confirmation: send the same request again with this confirmation token",
			info(k.reason, map[string]string{
				"confirmation_token": cr.token,
				"expires_at":         cr.expires.UTC().Format(time.RFC3339),
				"decision_id":        cr.decisionID,
			}))
	case kindConfirmationRefused:
		cf := cause.(*confirmationRefused)
		detail := "unknown_or_used"
		switch {
		case errors.Is(cf.err, confirm.ErrExpired):
			detail = "expired"
		case errors.Is(cf.err, confirm.ErrMismatch):
			detail = "mismatch"
		}
		return withDetails(k.code, cf.err.Error()+"; send the request without a token to get a new one",
			info(k.reason, map[string]string{"detail": detail, "decision_id": cf.decisionID}))
	case kindBudgetExceeded:
		be := cause.(*budgetExceeded)
		return withDetails(k.code,
			fmt.Sprintf("this agent's request budget (%d calls a minute) is spent; this is Bollard's per-agent limit, not Okta's", be.perMinute),
			info(k.reason, map[string]string{"agent": be.agent, "calls_per_minute": strconv.Itoa(be.perMinute)}),
			&errdetails.RetryInfo{RetryDelay: durationpb.New(be.retryAfter)})
	case kindTooManyConfirmations:
		return withDetails(k.code, "too many pending confirmations for this agent", info(k.reason, nil))
	case kindApprovalPending:
		ap := cause.(*approvalPending)
		return withDetails(k.code,
			"policy requires a person's approval: wait for it (WaitApproval), then send the same request again with this approval id",
			info(k.reason, map[string]string{
				"approval_id":        ap.a.ID,
				"expires_at":         ap.a.Expires.UTC().Format(time.RFC3339),
				"approvals_required": strconv.Itoa(ap.a.Requirement.Approvals),
				"approvals_given":    strconv.Itoa(ap.a.Given()),
				"decision_id":        ap.a.DecisionID,
			}))
	case kindApprovalDenied:
		ad := cause.(*approvalDenied)
		return withDetails(k.code, "a person denied this call: "+ad.reason(),
			info(k.reason, map[string]string{"approval_id": ad.a.ID, "reason": ad.reason(), "decision_id": ad.decisionID}))
	case kindApprovalRefused:
		ar := cause.(*approvalRefused)
		return withDetails(k.code, "this approval does not let this call run ("+ar.detail()+"); send the request without an approval id to ask for a new one",
			info(k.reason, map[string]string{"detail": ar.detail(), "decision_id": ar.decisionID}))
	case kindTooManyApprovals:
		return withDetails(k.code, "too many approvals pending for this agent", info(k.reason, nil))
	case kindDecisionChanged:
		return withDetails(k.code,
			"the agent's destructive calls on other replicas changed this call's decision before it went; it did not reach Okta: send it again (with a new confirmation if it needs one)",
			info(k.reason, nil))
	case kindShuttingDown:
		return withDetails(k.code, "the sidecar is shutting down; call again, on another replica or once it is back", info(k.reason, nil))
	case kindApprovalNotFound:
		return withDetails(k.code, "no such approval", info(k.reason, nil))
	case kindCanceled:
		return status.Error(k.code, "request canceled")
	case kindDeadlineExceeded:
		return status.Error(k.code, "deadline exceeded")
	}
	if fe, ok := cause.(*forward.Error); ok {
		return oktaStatus(k, fe)
	}
	return withDetails(kindInternal.code, "internal error", info(kindInternal.reason, nil))
}

// oktaStatus is the status of a failed Okta call, whose row is k: Okta's
// status, error code and request id go along as metadata.
func oktaStatus(k *errKind, fe *forward.Error) error {
	meta := map[string]string{"okta_status": strconv.Itoa(fe.Status)}
	if fe.Code != "" {
		meta["okta_error_code"] = fe.Code
	}
	if fe.RequestID != "" {
		meta["okta_request_id"] = fe.RequestID
	}
	summary := fe.Summary
	if summary == "" {
		summary = "no error summary"
	}
	switch k {
	case kindOktaBadRequest:
		br := &errdetails.BadRequest{}
		for _, c := range fe.Causes {
			field, desc, ok := strings.Cut(c, ": ")
			if !ok {
				field, desc = "", c
			}
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: field, Description: desc})
		}
		return withDetails(k.code, "okta rejected the request: "+summary, info(k.reason, meta), br)
	case kindOktaNotFound:
		return withDetails(k.code, "okta: "+summary, info(k.reason, meta))
	case kindOktaRateLimited:
		meta["rate_limit_reset"] = strconv.FormatInt(fe.RateLimit.Reset, 10)
		msg := "okta rate limit reached; retry after the delay"
		if fe.Concurrent {
			// No bucket is spent: Okta had too many requests in flight, from
			// Bollard and its other clients, and Bollard's retries ran out.
			meta["okta_concurrent_limit"] = "true"
			msg = "okta's limit on concurrent requests was reached; retry after the delay"
		}
		if fe.Held {
			// Okta never saw the call: Bollard keeps the bucket's last share
			// for people, or too many calls already wait for Okta.
			meta["held_by_bollard"] = "true"
			msg = "okta's rate limit is nearly spent (the rest is kept for people) or too many calls are waiting; retry after the delay"
		}
		return withDetails(k.code, msg, info(k.reason, meta), &errdetails.RetryInfo{RetryDelay: durationpb.New(fe.RetryAfter)})
	case kindOktaCredential:
		return withDetails(k.code,
			"okta rejected Bollard's own credential; an operator must fix Bollard's Okta token or its permissions",
			info(k.reason, meta))
	case kindOktaRejected:
		return withDetails(k.code, "okta refused the request: "+summary, info(k.reason, meta))
	case kindOktaUnsupported:
		return withDetails(k.code, "okta does not support this operation on this org: "+summary, info(k.reason, meta))
	case kindOktaCredentialUnavailable:
		return withDetails(k.code, "bollard could not obtain an Okta access token; an operator must check its Okta credential",
			info(k.reason, nil))
	case kindOktaTimeout:
		return withDetails(k.code, "okta did not answer in time", info(k.reason, meta))
	case kindOktaUnavailable:
		return withDetails(k.code, "okta is unavailable", info(k.reason, meta))
	case kindOktaOutcomeUnknown:
		return withDetails(k.code,
			"the connection to okta failed after the write was sent: it may or may not have been applied at okta; read the object back before retrying",
			info(k.reason, meta))
	}
	return withDetails(kindInternal.code, "internal error", info(kindInternal.reason, nil))
}

func info(reason string, meta map[string]string) *errdetails.ErrorInfo {
	return &errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: meta}
}

func withDetails(c codes.Code, msg string, details ...protoadapt.MessageV1) error {
	st := status.New(c, msg)
	for _, d := range details {
		if withD, err := st.WithDetails(d); err == nil {
			st = withD
		}
	}
	return st.Err()
}
