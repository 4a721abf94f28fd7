package gateway

import (
	"context"
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

// errAuditUnavailable: no audit sink could take the call's record.
var errAuditUnavailable = errors.New("audit log unavailable")

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

// resultOf is the low-cardinality result label of a failed call.
func resultOf(err error) string {
	var (
		ae *authError
		de *denyError
		cr *confirmationRequired
		cf *confirmationRefused
		ve *catalog.ValidationError
		fe *forward.Error
	)
	switch {
	case errors.Is(err, errAuditUnavailable):
		return "audit_unavailable"
	case errors.As(err, &ae):
		return "unauthenticated"
	case errors.As(err, &de):
		return "denied"
	case errors.As(err, &cr):
		return "confirmation_required"
	case errors.As(err, &cf):
		return "confirmation_refused"
	case errors.As(err, new(*budgetExceeded)):
		return "agent_budget_exceeded"
	case errors.As(err, &ve), errors.Is(err, catalog.ErrUnknownAction), errors.Is(err, errRequestTooLarge), errors.Is(err, errNotAList):
		return "invalid"
	case errors.As(err, &fe):
		return string(fe.Kind)
	}
	return "error"
}

// isServerFault tells errors an operator must look at from the caller's own.
func isServerFault(err error) bool {
	var fe *forward.Error
	if errors.As(err, &fe) {
		switch fe.Kind {
		case forward.KindCredential, forward.KindCredentialUnavailable, forward.KindUnavailable, forward.KindTimeout,
			forward.KindOutcomeUnknown, forward.KindInternal, forward.KindUnsupported:
			return true
		}
		return false
	}
	r := resultOf(err)
	return r == "error" || r == "audit_unavailable"
}

// toStatus maps a pipeline error to the status the agent sees. Only text
// written for agents goes out: policy messages, Okta's own summaries, and
// fixed sentences here. Anything unexpected becomes a bare INTERNAL.
func toStatus(err error) error {
	var (
		ae *authError
		de *denyError
		cr *confirmationRequired
		cf *confirmationRefused
		ve *catalog.ValidationError
		fe *forward.Error
		be *budgetExceeded
	)
	switch {
	case errors.Is(err, errAuditUnavailable):
		// Fail closed: a call that cannot be recorded is not answered as done.
		return withDetails(codes.Unavailable, "the audit log cannot record calls; refused (audit_unavailable)",
			info(ReasonAuditUnavailable, map[string]string{"deny_codes": "audit_unavailable"}))
	case errors.As(err, &ae):
		return withDetails(codes.Unauthenticated, "missing or invalid agent credential",
			info(ReasonUnauthenticated, map[string]string{"detail": identity.ReasonOf(ae.err)}))
	case errors.Is(err, catalog.ErrUnknownAction):
		return withDetails(codes.InvalidArgument, "unknown action; ListActions lists the catalog",
			info(ReasonUnknownAction, nil),
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "action", Description: "not an action of the catalog"}}})
	case errors.Is(err, errRequestTooLarge):
		return withDetails(codes.InvalidArgument, "request field too long", info(ReasonRequestTooLarge, nil))
	case errors.Is(err, errNotAList):
		return withDetails(codes.InvalidArgument, "ExecuteAll takes a list action (ListActions: paginated); use Execute for this one",
			info(ReasonNotAList, nil),
			&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "action", Description: "not a paginated read action"}}})
	case errors.As(err, &ve):
		br := &errdetails.BadRequest{}
		for _, v := range ve.Violations {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description})
		}
		return withDetails(codes.InvalidArgument, ve.Error(), info(ReasonInvalidParams, map[string]string{"action": ve.Action}), br)
	case errors.As(err, &de):
		// Codes and their fixed sentences only: the policy's messages (the
		// facts behind the denial) are in the audit record.
		pub := publicCodes(de.decision.Deny)
		msgs := make([]string, len(pub))
		for i, c := range pub {
			msgs[i] = c + ": " + publicMessage(c)
		}
		return withDetails(codes.PermissionDenied, "denied by policy: "+strings.Join(msgs, "; "),
			info(ReasonPolicyDenied, map[string]string{
				"decision_id":     de.decision.ID,
				"deny_codes":      strings.Join(pub, ","),
				"policy_revision": de.decision.Revision,
			}))
	case errors.As(err, &cr):
		return withDetails(codes.FailedPrecondition,
			"policy requires confirmation: send the same request again with this confirmation token",
			info(ReasonConfirmationRequired, map[string]string{
				"confirmation_token": cr.token,
				"expires_at":         cr.expires.UTC().Format(time.RFC3339),
				"decision_id":        cr.decisionID,
			}))
	case errors.As(err, &cf):
		detail := "unknown_or_used"
		switch {
		case errors.Is(cf.err, confirm.ErrExpired):
			detail = "expired"
		case errors.Is(cf.err, confirm.ErrMismatch):
			detail = "mismatch"
		}
		return withDetails(codes.FailedPrecondition, cf.err.Error()+"; send the request without a token to get a new one",
			info(ReasonConfirmationInvalid, map[string]string{"detail": detail, "decision_id": cf.decisionID}))
	case errors.As(err, &be):
		return withDetails(codes.ResourceExhausted,
			fmt.Sprintf("this agent's request budget (%d calls a minute) is spent; this is Bollard's per-agent limit, not Okta's", be.perMinute),
			info(ReasonAgentBudgetExceeded, map[string]string{"agent": be.agent, "calls_per_minute": strconv.Itoa(be.perMinute)}),
			&errdetails.RetryInfo{RetryDelay: durationpb.New(be.retryAfter)})
	case errors.Is(err, confirm.ErrTooManyPending):
		return withDetails(codes.ResourceExhausted, "too many pending confirmations for this agent", info(ReasonTooManyConfirmations, nil))
	case errors.As(err, &fe):
		return oktaStatus(fe)
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	return withDetails(codes.Internal, "internal error", info(ReasonInternal, nil))
}

func oktaStatus(fe *forward.Error) error {
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
	switch fe.Kind {
	case forward.KindBadRequest:
		br := &errdetails.BadRequest{}
		for _, c := range fe.Causes {
			field, desc, ok := strings.Cut(c, ": ")
			if !ok {
				field, desc = "", c
			}
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: field, Description: desc})
		}
		return withDetails(codes.InvalidArgument, "okta rejected the request: "+summary, info(ReasonOktaBadRequest, meta), br)
	case forward.KindNotFound:
		return withDetails(codes.NotFound, "okta: "+summary, info(ReasonOktaNotFound, meta))
	case forward.KindRateLimited:
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
		return withDetails(codes.ResourceExhausted, msg,
			info(ReasonOktaRateLimited, meta), &errdetails.RetryInfo{RetryDelay: durationpb.New(fe.RetryAfter)})
	case forward.KindCredential:
		return withDetails(codes.FailedPrecondition,
			"okta rejected Bollard's own credential; an operator must fix Bollard's Okta token or its permissions",
			info(ReasonOktaCredentialRejected, meta))
	case forward.KindRejected:
		return withDetails(codes.FailedPrecondition, "okta refused the request: "+summary, info(ReasonOktaRejected, meta))
	case forward.KindUnsupported:
		return withDetails(codes.Unimplemented, "okta does not support this operation on this org: "+summary, info(ReasonOktaUnsupported, meta))
	case forward.KindCredentialUnavailable:
		return withDetails(codes.Unavailable, "bollard could not obtain an Okta access token; an operator must check its Okta credential",
			info(ReasonOktaCredentialUnavailable, nil))
	case forward.KindTimeout:
		return withDetails(codes.Unavailable, "okta did not answer in time", info(ReasonOktaUnavailable, meta))
	case forward.KindUnavailable:
		return withDetails(codes.Unavailable, "okta is unavailable", info(ReasonOktaUnavailable, meta))
	case forward.KindOutcomeUnknown:
		// Not OKTA_UNAVAILABLE: an agent retries that, and a create or an
		// add sent twice may be applied twice.
		return withDetails(codes.Unavailable,
			"the connection to okta failed after the write was sent: it may or may not have been applied at okta; read the object back before retrying",
			info(ReasonOktaOutcomeUnknown, meta))
	case forward.KindCanceled:
		return status.Error(codes.Canceled, "request canceled")
	}
	return withDetails(codes.Internal, "internal error", info(ReasonInternal, nil))
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
