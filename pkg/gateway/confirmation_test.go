package gateway

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// refusingAuditor is memAuditor that refuses the records fail returns an
// error for.
type refusingAuditor struct {
	memAuditor
	fail atomic.Pointer[func(*audit.Record) error]
}

func (a *refusingAuditor) Write(ctx context.Context, r *audit.Record) error {
	if f := a.fail.Load(); f != nil {
		if err := (*f)(r); err != nil {
			return err
		}
	}
	return a.memAuditor.Write(ctx, r)
}

func (a *refusingAuditor) Spool(ctx context.Context, r *audit.Record) error { return a.Write(ctx, r) }

func (a *refusingAuditor) kind(kind string) []*audit.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*audit.Record
	for _, r := range a.recs {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// heldDeactivation asks, as another front, for a deactivation that the
// shipped policy wants a person to confirm, and returns the refusal that
// holds the token.
func heldDeactivation(t *testing.T, h *harness) *FrontError {
	t.Helper()
	_, err := h.server.Call(t.Context(), FrontMCP, "Bearer "+devKey("helpdesk-bot"), deactivateBob)
	var fe *FrontError
	if !errors.As(err, &fe) || fe.Reason != ReasonConfirmationRequired {
		t.Fatalf("want CONFIRMATION_REQUIRED, got %v", err)
	}
	if _, _, ok := fe.Confirmation(); !ok {
		t.Fatal("no token held")
	}
	return fe
}

var deactivateBob = FrontRequest{Action: "user_lifecycle.deactivate", Params: map[string]any{"userId": oktasim.SeedUserBob}}

// TestWithdrawConfirmation: a withdrawn token cannot be redeemed, frees the
// agent's pending place at once, and withdrawing is idempotent.
func TestWithdrawConfirmation(t *testing.T) {
	store := confirm.New(confirm.WithLimits(100, 2))
	h := newHarness(t, func(o *harnessOption) { o.gwOpts = append(o.gwOpts, WithConfirmStore(store)) })
	// More refusals than the agent has pending places.
	var last *FrontError
	for range 3 {
		last = heldDeactivation(t, h)
		if err := h.server.WithdrawConfirmation(last); err != nil {
			t.Fatalf("WithdrawConfirmation = %v", err)
		}
		if n := store.Pending(); n != 0 {
			t.Fatalf("%d tokens pending after withdrawal", n)
		}
	}
	if err := h.server.WithdrawConfirmation(last); err != nil {
		t.Errorf("second WithdrawConfirmation = %v", err)
	}
	token, _, _ := last.Confirmation()
	req := deactivateBob
	req.Confirmation = token
	_, err := h.server.Call(t.Context(), FrontMCP, "Bearer "+devKey("helpdesk-bot"), req)
	var fe *FrontError
	if !errors.As(err, &fe) || fe.Reason != ReasonConfirmationInvalid {
		t.Fatalf("a withdrawn token was not refused: %v", err)
	}
	if n := len(h.actionRequests()); n != 0 {
		t.Errorf("Okta saw %d requests", n)
	}
	// Nothing held, nothing to withdraw.
	if err := h.server.WithdrawConfirmation(&FrontError{Code: codes.PermissionDenied}); err != nil {
		t.Errorf("WithdrawConfirmation of a plain refusal = %v", err)
	}
}

// TestRecordConfirmation: the person's response is one confirmation record
// with the held call's decision id, agent, front and action; when no sink
// takes it, the error is AUDIT_UNAVAILABLE, as the pipeline's own.
func TestRecordConfirmation(t *testing.T) {
	aud := &refusingAuditor{}
	h := newHarness(t, func(o *harnessOption) { o.gwOpts = append(o.gwOpts, WithAuditor(aud)) })
	fe := heldDeactivation(t, h)
	if err := h.server.RecordConfirmation(t.Context(), fe, ConfirmationDecline, map[string]any{"waited_ms": int64(5)}); err != nil {
		t.Fatal(err)
	}
	recs := aud.kind(audit.KindConfirmation)
	if len(recs) != 1 {
		t.Fatalf("%d confirmation records, want 1", len(recs))
	}
	r := recs[0]
	if r.DecisionID != fe.DecisionID || r.AgentID != "helpdesk-bot" || r.AuthMethod == "" || r.Front != FrontMCP ||
		r.Action != "user_lifecycle.deactivate" || !r.Destructive || r.Resource["userId"] != oktasim.SeedUserBob ||
		r.Result != ConfirmationDecline || r.Detail["response"] != ConfirmationDecline || r.Detail["waited_ms"] != int64(5) {
		t.Errorf("confirmation record = %+v", r)
	}
	// The call that required it: a KindCall, which the pipeline leaves "".
	if calls := aud.kind(""); len(calls) != 1 || calls[0].DecisionID != fe.DecisionID || calls[0].Result != "confirmation_required" {
		t.Errorf("the call that required it: %+v", calls)
	}

	fail := func(r *audit.Record) error {
		if r.Kind == audit.KindConfirmation {
			return errors.New("disk full")
		}
		return nil
	}
	aud.fail.Store(&fail)
	err := h.server.RecordConfirmation(t.Context(), fe, ConfirmationAccept, nil)
	var ae *FrontError
	if !errors.As(err, &ae) || ae.Code != codes.Unavailable || ae.Reason != ReasonAuditUnavailable || ae.DecisionID != fe.DecisionID {
		t.Fatalf("want AUDIT_UNAVAILABLE, got %v", err)
	}
	if err := h.server.RecordConfirmation(t.Context(), &FrontError{}, ConfirmationDecline, nil); !errors.Is(err, errNotHeld) {
		t.Errorf("recording a call nobody held = %v", err)
	}
}
