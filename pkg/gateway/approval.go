package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/state"
)

// maxApprovalIDLen bounds the approval id a request may carry.
const maxApprovalIDLen = 128

// readApproval reads the require_approval obligation into out: none, or a
// requirement; one the sidecar cannot read fails the call.
func readApproval(out *outcome) error {
	v, has := out.decision.Obligations.Extra[approval.Obligation]
	if !has || v == nil {
		return nil
	}
	r, err := approval.ParseRequirement(v)
	if err != nil {
		return fmt.Errorf("policy obligation: %w", err)
	}
	out.approval = &r
	return nil
}

// approvalStep is step 4 for a call that policy says a person must
// approve. Without an approval id it creates a pending approval bound to
// the call and answers APPROVAL_PENDING. With one, the approval must be
// this agent's, approved, unexpired and for this exact call; it is used
// when the call is cleared to go (redeemApproval). A person's approval
// stands for the agent's own confirmation. A store of approvals the
// fleet shares that cannot be reached fails the call with
// STATE_UNAVAILABLE (state.ErrUnavailable), never as an unknown approval.
func (s *Server) approvalStep(ctx context.Context, out *outcome, id string) error {
	b, err := approvalBinding(out)
	if err != nil {
		return err
	}
	if id == "" {
		a, err := s.approvals.Create(approval.Request{Binding: b, Params: s.shownParams(out), DecisionID: out.decision.ID,
			Requirement: *out.approval, Concerns: concerns(out), TraceParent: traceParent(ctx)})
		if err != nil {
			return fmt.Errorf("approval: %w", err)
		}
		out.approvalRef = a.ID
		return &approvalPending{a: a}
	}
	out.approvalRef = id
	a, err := s.approvals.Get(id)
	if errors.Is(err, state.ErrUnavailable) {
		return fmt.Errorf("approval: %w", err)
	}
	if err != nil || a.Agent != out.identity.ID {
		return &approvalRefused{err: approval.ErrNotFound, decisionID: out.decision.ID}
	}
	switch a.State {
	case approval.Pending:
		return &approvalPending{a: a}
	case approval.Denied:
		return &approvalDenied{a: a, decisionID: out.decision.ID}
	case approval.Approved:
	default:
		return &approvalRefused{err: approval.ErrNotPending, state: a.State, decisionID: out.decision.ID}
	}
	if !a.Binding.Matches(b) {
		return &approvalRefused{err: approval.ErrMismatch, decisionID: out.decision.ID}
	}
	out.approvalID = id
	return nil
}

// redeemApproval uses the call's approval, once, as it is cleared to go.
func (s *Server) redeemApproval(out *outcome) error {
	if out.approvalID == "" {
		return nil
	}
	b, err := approvalBinding(out)
	if err != nil {
		return err
	}
	a, err := s.approvals.Redeem(out.approvalID, b)
	if errors.Is(err, state.ErrUnavailable) {
		// Not used, as far as this replica knows: the call does not go.
		return fmt.Errorf("approval: %w", err)
	}
	if err != nil {
		return &approvalRefused{err: err, state: a.State, decisionID: out.decision.ID}
	}
	out.approvalUsed = true
	return nil
}

func approvalBinding(out *outcome) (approval.Binding, error) {
	hash, err := confirm.HashParams(out.call.Params)
	if err != nil {
		return approval.Binding{}, fmt.Errorf("approval binding: %w", err)
	}
	return approval.Binding{Agent: out.identity.ID, Action: out.call.Action.Name, ParamsHash: hash}, nil
}

// paramMasker is an audit log that can show parameters as its records
// keep them (*audit.Logger).
type paramMasker interface {
	MaskedParams(params map[string]any, resource map[string]string, paths []string) []byte
}

// shownParams are the call's parameters as the audit record keeps them,
// for the approver; none without an audit log to mask them by.
func (s *Server) shownParams(out *outcome) map[string]any {
	m, ok := s.audit.(paramMasker)
	if !ok {
		return nil
	}
	var paths []string
	if list, ok := out.decision.Obligations.Extra[obligationMask].([]any); ok {
		for _, p := range list {
			if p, ok := p.(string); ok {
				paths = append(paths, p)
			}
		}
	}
	var shown map[string]any
	if err := json.Unmarshal(m.MaskedParams(out.call.Params, out.call.Resource, paths), &shown); err != nil {
		return nil
	}
	return shown
}

// approvalPending: the call waits for a person (APPROVAL_PENDING).
type approvalPending struct{ a approval.Approval }

func (e *approvalPending) Error() string {
	return fmt.Sprintf("approval %s pending until %s", e.a.ID, e.a.Expires.UTC().Format(time.RFC3339))
}

// approvalDenied: a person denied the call (APPROVAL_DENIED).
type approvalDenied struct {
	a          approval.Approval
	decisionID string
}

func (e *approvalDenied) Error() string { return "approval " + e.a.ID + " denied" }

// reason is the denying person's comment, for the agent.
func (e *approvalDenied) reason() string {
	for _, v := range e.a.Votes {
		if !v.Approve {
			return v.Comment
		}
	}
	return ""
}

// approvalRefused: the approval id does not let this call run
// (APPROVAL_INVALID): unknown or another agent's, expired, used, or for
// another call.
type approvalRefused struct {
	err        error
	state      approval.State
	decisionID string
}

func (e *approvalRefused) Error() string { return "approval refused: " + e.err.Error() }
func (e *approvalRefused) Unwrap() error { return e.err }

// detail names why, for the agent.
func (e *approvalRefused) detail() string {
	switch {
	case errors.Is(e.err, approval.ErrMismatch):
		return "mismatch"
	case e.state == approval.Expired:
		return "expired"
	case e.state == approval.Denied:
		return "denied"
	case e.state == approval.Pending:
		return "pending"
	}
	return "unknown_or_used"
}

// concerns are the Okta users the call changes, as the agent named them
// (an id or a login) and as Okta resolved them (their ids and the names
// the lookups read): none of them may vote on it.
func concerns(out *outcome) []string {
	var names []string
	add := func(v any) {
		if s, ok := v.(string); ok && s != "" && !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	for k, v := range out.call.Resource {
		if k == "userId" {
			add(v)
		}
	}
	if target, ok := out.context["target"].(map[string]any); ok {
		users, _ := target["users"].([]any)
		for _, u := range users {
			if m, ok := u.(map[string]any); ok {
				add(m["id"])
				add(m["ref"])
				add(m["login"])
			}
		}
	}
	return names
}

// traceParent is the W3C traceparent of the span in ctx, "" without one.
func traceParent(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
}
