package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/identity"
)

// A person's responses to a confirmation a front asked for, as the
// confirmation record names them (docs/audit.md).
const (
	ConfirmationAccept      = "accept"
	ConfirmationDecline     = "decline"
	ConfirmationCancel      = "cancel"
	ConfirmationNoAnswer    = "no_answer"   // no answer in time, or the agent went away
	ConfirmationUnsupported = "unsupported" // the front could not ask anyone
)

// errNotHeld: the FrontError is not a call held for confirmation by Call.
var errNotHeld = errors.New("gateway: not a call held for confirmation")

// heldCall is the call a confirmation token was issued for: whom it binds
// and what a person is asked about. It stays in the process; an agent
// never sees it.
type heldCall struct {
	identity identity.Identity
	front    string
	call     *catalog.Call
	binding  confirm.Binding
	// bindErr is why the binding could not be made again; the token then
	// cannot be withdrawn and expires with its TTL.
	bindErr error
}

// holdFor keeps what a front needs of a call that awaits confirmation.
func holdFor(out *outcome) *heldCall {
	if out.call == nil {
		return nil
	}
	h := &heldCall{identity: out.identity, front: out.front, call: out.call}
	// The binding the pipeline issued the token for (confirmStep): the
	// agent, the action and the parameters it sent, before any default.
	hash, err := confirm.HashParams(out.call.Params)
	h.binding, h.bindErr = confirm.Binding{Agent: out.identity.ID, Action: out.call.Action.Name, ParamsHash: hash}, err
	return h
}

// WithdrawConfirmation revokes the confirmation token of a call Call held
// for confirmation, when the person did not accept it (or accepted and the
// call has run), so that it cannot be redeemed later and does not count
// against the agent's pending confirmations until it expires. It is
// idempotent; a FrontError without a token is nothing to withdraw.
func (s *Server) WithdrawConfirmation(fe *FrontError) error {
	if fe == nil || fe.confirmationToken == "" {
		return nil
	}
	if fe.held == nil {
		return errNotHeld
	}
	if fe.held.bindErr != nil {
		return fmt.Errorf("withdraw confirmation: %w", fe.held.bindErr)
	}
	if err := s.confirm.Revoke(fe.confirmationToken, fe.held.binding); err != nil {
		return fmt.Errorf("withdraw confirmation: %w", err)
	}
	return nil
}

// RecordConfirmation writes the person's response to the confirmation of
// a call Call held (one of the Confirmation constants) as a confirmation
// record, with the held call's decision id, agent, action and parameters.
// A front writes it before it runs the confirmed call, or before it
// returns the refusal. When no sink takes it the error is the
// AUDIT_UNAVAILABLE *FrontError the pipeline answers with: an accepted
// call must then not run (no record, no call).
func (s *Server) RecordConfirmation(ctx context.Context, fe *FrontError, response string, detail map[string]any) error {
	if fe == nil || fe.held == nil {
		return errNotHeld
	}
	if s.audit == nil {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	h := fe.held
	d := make(map[string]any, len(detail)+1)
	for k, v := range detail {
		d[k] = v
	}
	d["response"] = response
	r := &audit.Record{
		Kind: audit.KindConfirmation, DecisionID: fe.DecisionID, AgentID: h.identity.ID, AuthMethod: h.identity.Method, Front: h.front,
		Action: h.call.Action.Name, Area: h.call.Action.Area, Access: string(h.call.Action.Access), Destructive: h.call.Action.Destructive,
		Resource: h.call.Resource, Params: h.call.Params, Result: response, Detail: d,
	}
	if sc := trace.SpanFromContext(ctx).SpanContext(); sc.HasTraceID() {
		r.TraceID = sc.TraceID().String()
	}
	if err := s.audit.Write(ctx, r); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "audit confirmation not written",
			slog.String("decision_id", fe.DecisionID), slog.String("response", response), slog.String("error", err.Error()))
		return frontError(fmt.Errorf("%w: %w", errAuditUnavailable, err), fe.DecisionID)
	}
	return nil
}
