package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/errdocs"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/state"
)

// errorSample is one error of each kind the pipeline returns, with what the
// audit record, the operator and the agent see of it. The values are
// written out, not read from the error table, so that a change to the table
// shows here as a change of behaviour.
type errorSample struct {
	name   string
	err    error
	result string
	fault  bool
	code   codes.Code
	reason string // "" for a status without ErrorInfo
	msg    string
}

func errorSamples() []errorSample {
	okta := func(k forward.Kind) error {
		return fmt.Errorf("forward: %w", &forward.Error{Kind: k, Status: 500, Summary: "summary", Code: "E0000009", RequestID: "req-1"})
	}
	return []errorSample{
		{"audit unavailable", fmt.Errorf("%w: %w", errAuditUnavailable, errors.New("disk full")),
			"audit_unavailable", true, codes.Unavailable, ReasonAuditUnavailable, "the audit log cannot record calls; refused (audit_unavailable)"},
		{"state unavailable", fmt.Errorf("impact: %w: %w", state.ErrUnavailable, errors.New("dial tcp: connection refused")),
			"state_unavailable", true, codes.Unavailable, ReasonStateUnavailable, "the state the sidecars share cannot be reached; refused (state_unavailable)"},
		{"shutting down", fmt.Errorf("wait approval: %w", errShuttingDown),
			"shutting_down", false, codes.Unavailable, ReasonShuttingDown, "the sidecar is shutting down; call again, on another replica or once it is back"},
		{"approval not found", fmt.Errorf("wait approval: %w", errApprovalNotFound),
			"not_found", false, codes.NotFound, ReasonApprovalNotFound, "no such approval"},
		{"unauthenticated", &authError{err: errors.New("no credential")},
			"unauthenticated", false, codes.Unauthenticated, ReasonUnauthenticated, "missing or invalid agent credential"},
		{"unknown action", fmt.Errorf("%w: %q", catalog.ErrUnknownAction, "users.nope"),
			"invalid", false, codes.InvalidArgument, ReasonUnknownAction, "unknown action; ListActions lists the catalog"},
		{"request too large", errRequestTooLarge,
			"invalid", false, codes.InvalidArgument, ReasonRequestTooLarge, "request field too long"},
		{"not a list", errNotAList,
			"invalid", false, codes.InvalidArgument, ReasonNotAList, "ExecuteAll takes a list action (ListActions: paginated); use Execute for this one"},
		{"invalid parameters", &catalog.ValidationError{Action: "users.get", Violations: []catalog.FieldViolation{{Field: "id", Description: "required"}}},
			"invalid", false, codes.InvalidArgument, ReasonInvalidParams, "invalid parameters for users.get: id: required"},
		{"denied", &denyError{decision: decision.Decision{ID: "d1", Deny: []decision.Reason{{Code: "protected_user", Message: "ceo"}}}},
			"denied", false, codes.PermissionDenied, ReasonPolicyDenied, "denied by policy: protected_user: the request changes a protected user"},
		{"confirmation required", &confirmationRequired{token: "tok", expires: time.Unix(0, 0), decisionID: "d1"},
			"confirmation_required", false, codes.FailedPrecondition, ReasonConfirmationRequired, "policy requires confirmation: send the same request again with this confirmation token"},
		{"confirmation refused", &confirmationRefused{err: confirm.ErrExpired, decisionID: "d1"},
			"confirmation_refused", false, codes.FailedPrecondition, ReasonConfirmationInvalid, "confirmation token expired; send the request without a token to get a new one"},
		{"agent budget", &budgetExceeded{agent: "bot", perMinute: 10, retryAfter: time.Second},
			"agent_budget_exceeded", false, codes.ResourceExhausted, ReasonAgentBudgetExceeded, "this agent's request budget (10 calls a minute) is spent; this is Bollard's per-agent limit, not Okta's"},
		{"too many confirmations", confirm.ErrTooManyPending,
			"too_many_confirmations", false, codes.ResourceExhausted, ReasonTooManyConfirmations, "too many pending confirmations for this agent"},
		{"approval pending", &approvalPending{a: approval.Approval{ID: "ap_1", Expires: time.Unix(0, 0), Request: approval.Request{Requirement: approval.Requirement{Approvals: 2}}}},
			"approval_pending", false, codes.FailedPrecondition, ReasonApprovalPending, "policy requires a person's approval: wait for it (WaitApproval), then send the same request again with this approval id"},
		{"approval denied", &approvalDenied{a: approval.Approval{ID: "ap_1", Votes: []approval.Vote{{Approve: false, Comment: "not now"}}}, decisionID: "d1"},
			"approval_denied", false, codes.PermissionDenied, ReasonApprovalDenied, "a person denied this call: not now"},
		{"approval refused", &approvalRefused{err: approval.ErrMismatch, decisionID: "d1"},
			"approval_refused", false, codes.FailedPrecondition, ReasonApprovalInvalid, "this approval does not let this call run (mismatch); send the request without an approval id to ask for a new one"},
		// The store of approvals the fleet shares, unreachable: never an
		// unknown or refused approval, whichever step met it.
		{"approval store unavailable", fmt.Errorf("approval: %w", fmt.Errorf("approval get: %w: %w", state.ErrUnavailable, errors.New("EOF"))),
			"state_unavailable", true, codes.Unavailable, ReasonStateUnavailable, "the state the sidecars share cannot be reached; refused (state_unavailable)"},
		{"approval refused, store unavailable", &approvalRefused{err: fmt.Errorf("approval redeem: %w: %w", state.ErrUnavailable, errors.New("EOF"))},
			"state_unavailable", true, codes.Unavailable, ReasonStateUnavailable, "the state the sidecars share cannot be reached; refused (state_unavailable)"},
		{"too many approvals", fmt.Errorf("approval: %w", approval.ErrTooManyPending),
			"too_many_approvals", false, codes.ResourceExhausted, ReasonTooManyApprovals, "too many approvals pending for this agent"},
		{"decision changed", errDecisionChanged,
			"decision_changed", false, codes.Aborted, ReasonDecisionChanged, "the agent's destructive calls on other replicas changed this call's decision before it went; it did not reach Okta: send it again (with a new confirmation if it needs one)"},
		{"okta bad request", okta(forward.KindBadRequest),
			"okta_bad_request", false, codes.InvalidArgument, ReasonOktaBadRequest, "okta rejected the request: summary"},
		{"okta not found", okta(forward.KindNotFound),
			"okta_not_found", false, codes.NotFound, ReasonOktaNotFound, "okta: summary"},
		{"okta rate limited", okta(forward.KindRateLimited),
			"okta_rate_limited", false, codes.ResourceExhausted, ReasonOktaRateLimited, "okta rate limit reached; retry after the delay"},
		{"okta credential", okta(forward.KindCredential),
			"okta_credential", true, codes.FailedPrecondition, ReasonOktaCredentialRejected, "okta rejected Bollard's own credential; an operator must fix Bollard's Okta token or its permissions"},
		{"okta rejected", okta(forward.KindRejected),
			"okta_rejected", false, codes.FailedPrecondition, ReasonOktaRejected, "okta refused the request: summary"},
		{"okta unsupported", okta(forward.KindUnsupported),
			"okta_unsupported", true, codes.Unimplemented, ReasonOktaUnsupported, "okta does not support this operation on this org: summary"},
		{"okta credential unavailable", okta(forward.KindCredentialUnavailable),
			"okta_credential_unavailable", true, codes.Unavailable, ReasonOktaCredentialUnavailable, "bollard could not obtain an Okta access token; an operator must check its Okta credential"},
		{"okta timeout", okta(forward.KindTimeout),
			"okta_timeout", true, codes.Unavailable, ReasonOktaUnavailable, "okta did not answer in time"},
		{"okta unavailable", okta(forward.KindUnavailable),
			"okta_unavailable", true, codes.Unavailable, ReasonOktaUnavailable, "okta is unavailable"},
		{"okta outcome unknown", okta(forward.KindOutcomeUnknown),
			"okta_outcome_unknown", true, codes.Unavailable, ReasonOktaOutcomeUnknown, "the connection to okta failed after the write was sent: it may or may not have been applied at okta; read the object back before retrying"},
		{"okta canceled", okta(forward.KindCanceled),
			"canceled", false, codes.Canceled, "", "request canceled"},
		{"okta internal", okta(forward.KindInternal),
			"internal", true, codes.Internal, ReasonInternal, "internal error"},
		{"canceled", fmt.Errorf("lookup: %w", context.Canceled),
			"canceled", false, codes.Canceled, "", "request canceled"},
		{"deadline", fmt.Errorf("lookup: %w", context.DeadlineExceeded),
			"deadline_exceeded", false, codes.DeadlineExceeded, "", "deadline exceeded"},
		{"unforeseen", errors.New("boom"),
			"error", true, codes.Internal, ReasonInternal, "internal error"},
	}
}

// reasonOf is the status's ErrorInfo reason, "" when it has none.
func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.Reason
		}
	}
	return ""
}

// TestErrorStatuses pins, for one error of each kind, the audit result, the
// operator's fault flag and the agent's status.
func TestErrorStatuses(t *testing.T) {
	for _, s := range errorSamples() {
		t.Run(s.name, func(t *testing.T) {
			if got := resultOf(s.err); got != s.result {
				t.Errorf("resultOf = %q, want %q", got, s.result)
			}
			if got := isServerFault(s.err); got != s.fault {
				t.Errorf("isServerFault = %v, want %v", got, s.fault)
			}
			st := toStatus(s.err)
			if status.Code(st) != s.code || reasonOf(st) != s.reason || status.Convert(st).Message() != s.msg {
				t.Errorf("status = %v %q %q, want %v %q %q", status.Code(st), reasonOf(st), status.Convert(st).Message(), s.code, s.reason, s.msg)
			}
		})
	}
}

// TestErrorTable walks the error table: every row is reached by an error
// and read by all three of resultOf, isServerFault and toStatus; every
// reason is in the README's error table with its code; a result label
// tells an operator's fault from a caller's on its own; and the faults are
// exactly the failures an operator must act on.
func TestErrorTable(t *testing.T) {
	reached := map[*errKind]bool{}
	for _, s := range errorSamples() {
		k, _ := classify(s.err)
		if !slices.Contains(errorTable, k) {
			t.Errorf("%s: classified to a row that is not in errorTable: %+v", s.name, *k)
			continue
		}
		reached[k] = true
		st := toStatus(s.err)
		if resultOf(s.err) != k.result || isServerFault(s.err) != k.fault || status.Code(st) != k.code || reasonOf(st) != k.reason {
			t.Errorf("%s: result %q fault %v status %v/%q disagree with its row %+v",
				s.name, resultOf(s.err), isServerFault(s.err), status.Code(st), reasonOf(st), *k)
		}
	}
	for _, k := range errorTable {
		if !reached[k] {
			t.Errorf("row %+v: no sample error reaches it; add one to errorSamples", *k)
		}
	}
	for fk, k := range oktaKinds {
		if k.result != string(fk) {
			t.Errorf("okta kind %s has the result label %q", fk, k.result)
		}
	}

	documented, err := errdocs.Reasons("../../README.md", "| Situation | Code | `ErrorInfo.reason` |", 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	faultOf := map[string]bool{}
	for _, k := range errorTable {
		key := fmt.Sprintf("%s/%v/%s", k.result, k.code, k.reason)
		if seen[key] {
			t.Errorf("row %s is in the table twice", key)
		}
		seen[key] = true
		if f, ok := faultOf[k.result]; ok && f != k.fault {
			t.Errorf("result %q is a fault in one row and not in another: a label must tell operators' failures from callers'", k.result)
		}
		faultOf[k.result] = k.fault
		if k.reason == "" {
			continue
		}
		if codes, ok := documented[k.reason]; !ok {
			t.Errorf("reason %s is not in README.md's error table", k.reason)
		} else if !slices.Contains(codes, errdocs.Code(k.code)) {
			t.Errorf("README.md gives reason %s the codes %v, the gateway %s", k.reason, codes, errdocs.Code(k.code))
		}
	}

	// What pages an operator: Bollard's own credential, Okta down or
	// changed, the audit log, and whatever Bollard did not foresee. A
	// caller's mistake, a policy's answer and Okta's verdict on the
	// request never do.
	wantFaults := []string{
		"audit_unavailable", "error", "internal", "okta_credential", "okta_credential_unavailable",
		"okta_outcome_unknown", "okta_timeout", "okta_unavailable", "okta_unsupported", "state_unavailable",
	}
	var faults []string
	for r, f := range faultOf {
		if f {
			faults = append(faults, r)
		}
	}
	slices.Sort(faults)
	if !slices.Equal(faults, wantFaults) {
		t.Errorf("server faults = %v, want %v", faults, wantFaults)
	}
}
