package gateway

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/state"
)

// errKind is one row of the error table: how a failed call is named in the
// audit record, on its span and in its log line (result), which status the
// agent gets (code and ErrorInfo reason), and whether an operator must look
// at it (fault: the span is marked failed and the log line is an error).
// Every classification of an error reads this table, so the record, the
// status and the page cannot disagree.
type errKind struct {
	result string
	code   codes.Code
	reason string // "" when the status carries no ErrorInfo
	fault  bool
}

// The rows. A result label names one kind of failure; the four ways a
// request can be malformed share "invalid" (each with its own reason), and
// what Bollard did not foresee is "error". Okta's kinds keep the
// forward package's names, which are also the retry and metric labels.
var (
	kindUnauthenticated      = &errKind{result: "unauthenticated", code: codes.Unauthenticated, reason: ReasonUnauthenticated}
	kindUnknownAction        = &errKind{result: "invalid", code: codes.InvalidArgument, reason: ReasonUnknownAction}
	kindRequestTooLarge      = &errKind{result: "invalid", code: codes.InvalidArgument, reason: ReasonRequestTooLarge}
	kindNotAList             = &errKind{result: "invalid", code: codes.InvalidArgument, reason: ReasonNotAList}
	kindInvalidParams        = &errKind{result: "invalid", code: codes.InvalidArgument, reason: ReasonInvalidParams}
	kindDenied               = &errKind{result: "denied", code: codes.PermissionDenied, reason: ReasonPolicyDenied}
	kindConfirmationRequired = &errKind{result: "confirmation_required", code: codes.FailedPrecondition, reason: ReasonConfirmationRequired}
	kindConfirmationRefused  = &errKind{result: "confirmation_refused", code: codes.FailedPrecondition, reason: ReasonConfirmationInvalid}
	kindBudgetExceeded       = &errKind{result: "agent_budget_exceeded", code: codes.ResourceExhausted, reason: ReasonAgentBudgetExceeded}
	// An agent that hoards confirmation tokens: its doing, not an operator's.
	kindTooManyConfirmations = &errKind{result: "too_many_confirmations", code: codes.ResourceExhausted, reason: ReasonTooManyConfirmations}
	// A person's approval: awaited, refused by a person, or one that does
	// not let this call run.
	kindApprovalPending  = &errKind{result: "approval_pending", code: codes.FailedPrecondition, reason: ReasonApprovalPending}
	kindApprovalDenied   = &errKind{result: "approval_denied", code: codes.PermissionDenied, reason: ReasonApprovalDenied}
	kindApprovalRefused  = &errKind{result: "approval_refused", code: codes.FailedPrecondition, reason: ReasonApprovalInvalid}
	kindTooManyApprovals = &errKind{result: "too_many_approvals", code: codes.ResourceExhausted, reason: ReasonTooManyApprovals}
	// WaitApproval on an id that is not the agent's own, or no approval's:
	// the same answer, so that an id says nothing of another agent's calls.
	kindApprovalNotFound = &errKind{result: "not_found", code: codes.NotFound, reason: ReasonApprovalNotFound}
	// Another replica's calls of the agent changed the decision: the
	// agent's to send again, not an operator's.
	kindDecisionChanged = &errKind{result: "decision_changed", code: codes.Aborted, reason: ReasonDecisionChanged}
	// Fail closed: a call that cannot be recorded is not answered as done.
	kindAuditUnavailable = &errKind{result: "audit_unavailable", code: codes.Unavailable, reason: ReasonAuditUnavailable, fault: true}
	// Fail closed: a call whose limit, budget or token the fleet shares
	// waits for the store rather than count alone (state.when_unavailable).
	kindStateUnavailable = &errKind{result: "state_unavailable", code: codes.Unavailable, reason: ReasonStateUnavailable, fault: true}
	// The sidecar is stopping: the agent calls again, here once it is back
	// or on another replica. Expected, so no operator's page.
	kindShuttingDown = &errKind{result: "shutting_down", code: codes.Unavailable, reason: ReasonShuttingDown}

	kindOktaBadRequest            = &errKind{result: string(forward.KindBadRequest), code: codes.InvalidArgument, reason: ReasonOktaBadRequest}
	kindOktaNotFound              = &errKind{result: string(forward.KindNotFound), code: codes.NotFound, reason: ReasonOktaNotFound}
	kindOktaRateLimited           = &errKind{result: string(forward.KindRateLimited), code: codes.ResourceExhausted, reason: ReasonOktaRateLimited}
	kindOktaCredential            = &errKind{result: string(forward.KindCredential), code: codes.FailedPrecondition, reason: ReasonOktaCredentialRejected, fault: true}
	kindOktaRejected              = &errKind{result: string(forward.KindRejected), code: codes.FailedPrecondition, reason: ReasonOktaRejected}
	kindOktaUnsupported           = &errKind{result: string(forward.KindUnsupported), code: codes.Unimplemented, reason: ReasonOktaUnsupported, fault: true}
	kindOktaCredentialUnavailable = &errKind{result: string(forward.KindCredentialUnavailable), code: codes.Unavailable, reason: ReasonOktaCredentialUnavailable, fault: true}
	kindOktaTimeout               = &errKind{result: string(forward.KindTimeout), code: codes.Unavailable, reason: ReasonOktaUnavailable, fault: true}
	kindOktaUnavailable           = &errKind{result: string(forward.KindUnavailable), code: codes.Unavailable, reason: ReasonOktaUnavailable, fault: true}
	// Not OKTA_UNAVAILABLE: an agent retries that, and a create or an add
	// sent twice may be applied twice.
	kindOktaOutcomeUnknown = &errKind{result: string(forward.KindOutcomeUnknown), code: codes.Unavailable, reason: ReasonOktaOutcomeUnknown, fault: true}
	kindOktaInternal       = &errKind{result: string(forward.KindInternal), code: codes.Internal, reason: ReasonInternal, fault: true}

	// The caller went away, or its own deadline passed before an answer:
	// the caller's choice, named as such, never an operator's page. (Okta's
	// own slowness is okta_timeout.)
	kindCanceled         = &errKind{result: string(forward.KindCanceled), code: codes.Canceled}
	kindDeadlineExceeded = &errKind{result: "deadline_exceeded", code: codes.DeadlineExceeded}
	kindInternal         = &errKind{result: "error", code: codes.Internal, reason: ReasonInternal, fault: true}
)

// errorTable is every row, for the tests that walk it.
var errorTable = []*errKind{
	kindUnauthenticated, kindUnknownAction, kindRequestTooLarge, kindNotAList, kindInvalidParams,
	kindDenied, kindConfirmationRequired, kindConfirmationRefused, kindBudgetExceeded, kindTooManyConfirmations,
	kindDecisionChanged, kindApprovalPending, kindApprovalDenied, kindApprovalRefused, kindTooManyApprovals, kindApprovalNotFound,
	kindAuditUnavailable, kindStateUnavailable, kindShuttingDown,
	kindOktaBadRequest, kindOktaNotFound, kindOktaRateLimited, kindOktaCredential, kindOktaRejected,
	kindOktaUnsupported, kindOktaCredentialUnavailable, kindOktaTimeout, kindOktaUnavailable,
	kindOktaOutcomeUnknown, kindOktaInternal,
	kindCanceled, kindDeadlineExceeded, kindInternal,
}

// oktaKinds are the rows of the forward package's error kinds.
var oktaKinds = map[forward.Kind]*errKind{
	forward.KindBadRequest:            kindOktaBadRequest,
	forward.KindNotFound:              kindOktaNotFound,
	forward.KindRateLimited:           kindOktaRateLimited,
	forward.KindCredential:            kindOktaCredential,
	forward.KindRejected:              kindOktaRejected,
	forward.KindUnsupported:           kindOktaUnsupported,
	forward.KindCredentialUnavailable: kindOktaCredentialUnavailable,
	forward.KindTimeout:               kindOktaTimeout,
	forward.KindUnavailable:           kindOktaUnavailable,
	forward.KindOutcomeUnknown:        kindOktaOutcomeUnknown,
	forward.KindCanceled:              kindCanceled, // the same whether Okta's call or another step saw it
	forward.KindInternal:              kindOktaInternal,
}

// classify is the one place that recognises a pipeline error: it returns
// the error's row and the error that put it there, whose fields the
// status's details are built from. The first match wins: an audit failure
// outranks what it wraps. Anything unforeseen is an internal error.
func classify(err error) (*errKind, error) {
	var (
		ae *authError
		de *denyError
		cr *confirmationRequired
		cf *confirmationRefused
		ve *catalog.ValidationError
		be *budgetExceeded
		fe *forward.Error
		ap *approvalPending
		ad *approvalDenied
		ar *approvalRefused
	)
	switch {
	case errors.Is(err, errAuditUnavailable):
		return kindAuditUnavailable, err
	case errors.Is(err, state.ErrUnavailable):
		return kindStateUnavailable, err
	case errors.Is(err, errShuttingDown):
		return kindShuttingDown, err
	case errors.Is(err, errApprovalNotFound):
		return kindApprovalNotFound, err
	case errors.As(err, &ae):
		return kindUnauthenticated, ae
	case errors.Is(err, catalog.ErrUnknownAction):
		return kindUnknownAction, err
	case errors.Is(err, errRequestTooLarge):
		return kindRequestTooLarge, err
	case errors.Is(err, errNotAList):
		return kindNotAList, err
	case errors.As(err, &ve):
		return kindInvalidParams, ve
	case errors.As(err, &de):
		return kindDenied, de
	case errors.As(err, &cr):
		return kindConfirmationRequired, cr
	case errors.As(err, &cf):
		return kindConfirmationRefused, cf
	case errors.As(err, &be):
		return kindBudgetExceeded, be
	case errors.Is(err, confirm.ErrTooManyPending):
		return kindTooManyConfirmations, err
	case errors.Is(err, errDecisionChanged):
		return kindDecisionChanged, err
	case errors.As(err, &ap):
		return kindApprovalPending, ap
	case errors.As(err, &ad):
		return kindApprovalDenied, ad
	case errors.As(err, &ar):
		return kindApprovalRefused, ar
	case errors.Is(err, approval.ErrTooManyPending):
		return kindTooManyApprovals, err
	case errors.As(err, &fe):
		if k, ok := oktaKinds[fe.Kind]; ok {
			return k, fe
		}
		return kindInternal, fe
	case errors.Is(err, context.Canceled):
		return kindCanceled, err
	case errors.Is(err, context.DeadlineExceeded):
		return kindDeadlineExceeded, err
	}
	return kindInternal, err
}

// resultOf is the low-cardinality result label of a failed call.
func resultOf(err error) string {
	k, _ := classify(err)
	return k.result
}

// isServerFault tells errors an operator must look at from the caller's own.
func isServerFault(err error) bool {
	k, _ := classify(err)
	return k.fault
}
