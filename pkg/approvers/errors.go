package approvers

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/state"
)

// Domain is the ErrorInfo domain of every Bollard error (as
// gateway.Domain).
const Domain = "bollard.dev"

// ErrorInfo reasons of ApprovalService: stable, documented in the proto,
// safe to branch on.
const (
	ReasonUnauthenticated    = "UNAUTHENTICATED"
	ReasonAgentCannotApprove = "AGENT_CANNOT_APPROVE"
	ReasonInvalidArgument    = "INVALID_ARGUMENT"
	ReasonNotFound           = "APPROVAL_NOT_FOUND"
	ReasonNotAnApprover      = "NOT_AN_APPROVER"
	ReasonSelfApproval       = "SELF_APPROVAL"
	ReasonNotPending         = "APPROVAL_NOT_PENDING"
	ReasonAlreadyVoted       = "ALREADY_VOTED"
	ReasonAuditUnavailable   = "AUDIT_UNAVAILABLE"
	ReasonShuttingDown       = "SHUTTING_DOWN"
	ReasonTooManyWatches     = "TOO_MANY_WATCHES"
	ReasonStateUnavailable   = "STATE_UNAVAILABLE"
	ReasonInternal           = "INTERNAL"
)

// errKind is one row of the error table: the result word of the audit
// record, the span and the log line; the status code, ErrorInfo reason and
// fixed sentence the caller gets; and whether an operator must look at it
// (fault: the span is marked failed and the log line is an error). Every
// error of the service is one of these rows, so that the record, the span
// and the status cannot disagree.
type errKind struct {
	result string
	code   codes.Code
	reason string // "" when the status carries no ErrorInfo
	msg    string
	fault  bool
}

var (
	kindUnauthenticated = &errKind{result: "unauthenticated", code: codes.Unauthenticated, reason: ReasonUnauthenticated,
		msg: "a person's valid token from the approvers' identity provider is required"}
	kindAgent = &errKind{result: "agent_cannot_approve", code: codes.PermissionDenied, reason: ReasonAgentCannotApprove,
		msg: "an agent's credential, or a person's token handed to an agent, is never accepted here"}
	kindInvalid  = &errKind{result: "invalid", code: codes.InvalidArgument, reason: ReasonInvalidArgument, msg: "invalid request"}
	kindNotFound = &errKind{result: "not_found", code: codes.NotFound, reason: ReasonNotFound, msg: "no such approval"}
	// Before anything else about an approval: a person outside its
	// approver sets learns only that it exists.
	kindNotApprover = &errKind{result: "not_an_approver", code: codes.PermissionDenied, reason: ReasonNotAnApprover,
		msg: "you are not an approver of this approval"}
	kindSelf = &errKind{result: "self_approval", code: codes.PermissionDenied, reason: ReasonSelfApproval,
		msg: "this call concerns you (it changes your account, or its agent acts for you): you may neither approve nor deny it"}
	kindNotPending = &errKind{result: "approval_not_pending", code: codes.FailedPrecondition, reason: ReasonNotPending,
		msg: "the approval is no longer pending"}
	kindAlreadyVoted = &errKind{result: "already_voted", code: codes.PermissionDenied, reason: ReasonAlreadyVoted,
		msg: "you have already voted on this approval: one person never counts twice"}
	// Fail closed: a vote that cannot be recorded does not count.
	kindAudit = &errKind{result: "audit_unavailable", code: codes.Unavailable, reason: ReasonAuditUnavailable,
		msg: "the audit log cannot record votes; nothing was changed (audit_unavailable)", fault: true}
	// Fail closed: with approvals in the store the fleet shares, nothing is
	// read or decided while it cannot be reached (as gateway's
	// STATE_UNAVAILABLE).
	kindStateUnavailable = &errKind{result: "state_unavailable", code: codes.Unavailable, reason: ReasonStateUnavailable,
		msg: "the store of approvals cannot be reached; nothing was changed; try again", fault: true}
	kindShutdown = &errKind{result: "shutting_down", code: codes.Unavailable, reason: ReasonShuttingDown,
		msg: "the sidecar is shutting down; watch again"}
	// A watch re-reads the approvals at every change: their number is
	// bounded, per person and in all.
	kindTooManyWatches = &errKind{result: "too_many_watches", code: codes.ResourceExhausted, reason: ReasonTooManyWatches,
		msg: "too many watches open at once; end one (or wait) and watch again"}
	kindCanceled = &errKind{result: "canceled", code: codes.Canceled, msg: "request canceled"}
	kindDeadline = &errKind{result: "deadline_exceeded", code: codes.DeadlineExceeded, msg: "deadline exceeded"}
	kindInternal = &errKind{result: "error", code: codes.Internal, reason: ReasonInternal, msg: "internal error", fault: true}
)

// errorTable is every row, for the tests that walk it.
var errorTable = []*errKind{
	kindUnauthenticated, kindAgent, kindInvalid, kindNotFound, kindNotApprover, kindSelf, kindNotPending,
	kindAlreadyVoted, kindAudit, kindStateUnavailable, kindShutdown, kindTooManyWatches, kindCanceled, kindDeadline, kindInternal,
}

// failure is an error with its row, and what its status adds to the row:
// ErrorInfo metadata and the fields of a bad request. err, the cause, is
// logged and never sent.
type failure struct {
	kind   *errKind
	meta   map[string]string
	fields []*errdetails.BadRequest_FieldViolation
	err    error
}

func (f *failure) Error() string {
	if f.err == nil {
		return f.kind.result
	}
	return f.kind.result + ": " + f.err.Error()
}

func (f *failure) Unwrap() error { return f.err }

// invalid is a bad request: each violation is a field and a fixed
// description.
func invalid(field, description string) *failure {
	return &failure{kind: kindInvalid, err: fmt.Errorf("%s: %s", field, description),
		fields: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: description}}}
}

// auditFailure: the vote's record could not be written.
func auditFailure(err error) *failure { return &failure{kind: kindAudit, err: err} }

// classify is the one place that recognises an error of the service: its
// row, with the details its status carries. The first match wins: an audit
// failure outranks what it wraps. Anything unforeseen is internal.
func classify(err error) *failure {
	var (
		f  *failure
		ae *AuthError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &f):
		return f
	case errors.As(err, &ae):
		k := kindUnauthenticated
		if errors.Is(ae, ErrAgent) {
			k = kindAgent
		}
		return &failure{kind: k, meta: map[string]string{"detail": ae.Detail}, err: err}
	case errors.Is(err, context.Canceled):
		return &failure{kind: kindCanceled, err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &failure{kind: kindDeadline, err: err}
	}
	return &failure{kind: kindInternal, err: err}
}

// storeFailure maps a refusal of the approval store; a is the approval as
// the store returned it with the error (its state, for NOT_PENDING).
func storeFailure(err error, a approval.Approval) *failure {
	var k *errKind
	switch {
	case errors.Is(err, state.ErrUnavailable):
		k = kindStateUnavailable
	case errors.Is(err, approval.ErrNotFound):
		k = kindNotFound
	case errors.Is(err, approval.ErrAgentApprover):
		k = kindAgent
	case errors.Is(err, approval.ErrNotApprover):
		k = kindNotApprover
	case errors.Is(err, approval.ErrSelfApproval):
		k = kindSelf
	case errors.Is(err, approval.ErrNotPending):
		return &failure{kind: kindNotPending, meta: map[string]string{"state": protoState(a.State).String()}, err: err}
	case errors.Is(err, approval.ErrAlreadyVoted):
		k = kindAlreadyVoted
	case errors.Is(err, approval.ErrNoReason):
		f := invalid("reason", "a denial needs a reason")
		f.err = err
		return f
	default:
		return &failure{kind: kindInternal, err: fmt.Errorf("approval store: %w", err)}
	}
	return &failure{kind: k, err: err}
}

// message is the sentence the caller gets: the row's, with the fields of a
// bad request (fixed sentences of this package).
func (f *failure) message() string {
	msg := f.kind.msg
	for _, v := range f.fields {
		msg += "; " + v.Field + ": " + v.Description
	}
	return msg
}

// toStatus is the status the caller gets for f: its row's code, reason and
// sentence, with its metadata and field violations. Nothing else of the
// cause goes out.
func toStatus(f *failure) error {
	if f.kind.reason == "" {
		return status.Error(f.kind.code, f.kind.msg)
	}
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: f.kind.reason, Domain: Domain, Metadata: f.meta}}
	if len(f.fields) > 0 {
		details = append(details, &errdetails.BadRequest{FieldViolations: f.fields})
	}
	st := status.New(f.kind.code, f.message())
	if withD, err := st.WithDetails(details...); err == nil {
		st = withD
	}
	return st.Err()
}
