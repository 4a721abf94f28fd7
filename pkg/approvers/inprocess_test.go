package approvers

import (
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
)

// approverOf is a person as the console holds them after sign-in, their
// token valid for an hour from t0.
func approverOf(p person) Approver {
	return Approver{Person: approval.Person{Subject: p.sub, Email: p.email, Groups: p.groups}, Expires: t0.Add(time.Hour)}
}

// The in-process API lists, reads and votes under the RPCs' rules: only an
// approver sees or decides an approval, and each vote is recorded, via the
// console, before it counts.
func TestInProcessAPI(t *testing.T) {
	h := newHarness(t, WithTargetReader(&fakeTarget{}))
	a := h.create(t, 2)
	h.create(t, 1, []string{"someone-else"})
	ctx := t.Context()

	list, more, err := h.srv.PendingFor(ctx, approverOf(ann), 0)
	if err != nil || more || len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("ann's pending: %v, %v, %v", list, more, err)
	}
	if list, _, err := h.srv.PendingFor(ctx, approverOf(carol), 10); err != nil || len(list) != 0 {
		t.Errorf("carol's pending: %v, %v", list, err)
	}
	got, target, err := h.srv.ApprovalFor(ctx, approverOf(ann), a.ID)
	if err != nil || got.ID != a.ID || target.GetFields()["status"].GetStringValue() != "ACTIVE" {
		t.Fatalf("ann's approval: %+v, %v, %v", got, target, err)
	}
	if _, _, err := h.srv.ApprovalFor(ctx, approverOf(carol), a.ID); ReasonOf(err) != ReasonNotAnApprover {
		t.Errorf("carol's get: %v", err)
	}
	if _, _, err := h.srv.ApprovalFor(ctx, approverOf(ann), "ap_nope"); ReasonOf(err) != ReasonNotFound {
		t.Errorf("an unknown id: %v", err)
	}

	if _, err := h.srv.ApproveAs(ctx, approverOf(carol), a.ID, ""); ReasonOf(err) != ReasonNotAnApprover {
		t.Errorf("carol's approval: %v", err)
	}
	if _, err := h.srv.DenyAs(ctx, approverOf(ann), a.ID, "  "); ReasonOf(err) != ReasonInvalidArgument ||
		!strings.Contains(MessageOf(err), "reason: a denial needs a reason") {
		t.Errorf("a denial without a reason: %v (%q)", err, MessageOf(err))
	}
	if _, err := h.srv.ApproveAs(ctx, approverOf(dave), a.ID, ""); ReasonOf(err) != ReasonSelfApproval {
		t.Errorf("the changed user's approval: %v", err)
	}
	after, err := h.srv.ApproveAs(ctx, approverOf(ann), a.ID, "ticket 42")
	if err != nil || after.State != approval.Pending || len(after.Votes) != 1 || after.Votes[0].Approver.Subject != ann.sub {
		t.Fatalf("ann's approval: %+v, %v", after, err)
	}
	if _, err := h.srv.ApproveAs(ctx, approverOf(ann), a.ID, ""); ReasonOf(err) != ReasonAlreadyVoted {
		t.Errorf("ann twice: %v", err)
	}
	after, err = h.srv.ApproveAs(ctx, approverOf(bob), a.ID, "")
	if err != nil || after.State != approval.Approved {
		t.Fatalf("bob's approval: %+v, %v", after, err)
	}
	if _, err := h.srv.DenyAs(ctx, approverOf(bob), a.ID, "too late"); ReasonOf(err) != ReasonNotPending {
		t.Errorf("a vote on a decided approval: %v", err)
	}

	type rec struct{ result, subject, via, rpc string }
	var recs []rec
	for _, r := range h.records(t) {
		approver, _ := r.Detail["approver"].(map[string]any)
		recs = append(recs, rec{r.Result, str(approver["subject"]), str(r.Detail["via"]), str(r.Detail["rpc"])})
	}
	want := []rec{
		{"not_an_approver", carol.sub, "console", "Approve"},
		{"invalid", ann.sub, "console", "Deny"},
		{"self_approval", dave.sub, "console", "Approve"},
		{"ok", ann.sub, "console", "Approve"},
		{"already_voted", ann.sub, "console", "Approve"},
		{"ok", bob.sub, "console", "Approve"},
		{"approval_not_pending", bob.sub, "console", "Deny"},
	}
	if len(recs) != len(want) {
		t.Fatalf("records %+v\nwant %+v", recs, want)
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("record %d: %+v, want %+v", i, recs[i], want[i])
		}
	}
	if logs := h.logs.String(); !strings.Contains(logs, "via=console") {
		t.Errorf("the log lines do not say via=console:\n%s", logs)
	}
}

// A person whose token has expired since they signed in, or who names no
// subject, is refused as unauthenticated, and a vote's refusal recorded
// without naming them; nothing changes.
func TestInProcessExpiredApprover(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	ctx := t.Context()
	stale := approverOf(ann)
	stale.Expires = t0 // the server's clock: expired this instant
	for name, p := range map[string]Approver{"expired": stale, "no subject": {Expires: t0.Add(time.Hour)}} {
		if _, _, err := h.srv.PendingFor(ctx, p, 0); ReasonOf(err) != ReasonUnauthenticated {
			t.Errorf("%s: list: %v", name, err)
		}
		if _, _, err := h.srv.ApprovalFor(ctx, p, a.ID); ReasonOf(err) != ReasonUnauthenticated {
			t.Errorf("%s: get: %v", name, err)
		}
		if _, err := h.srv.ApproveAs(ctx, p, a.ID, ""); ReasonOf(err) != ReasonUnauthenticated {
			t.Errorf("%s: approve: %v", name, err)
		}
	}
	if got, _ := h.store.Get(a.ID); got.State != approval.Pending || len(got.Votes) != 0 {
		t.Errorf("the approval changed: %+v", got)
	}
	for _, r := range h.records(t) {
		approver, _ := r.Detail["approver"].(map[string]any)
		if r.Result != "unauthenticated" || str(approver["subject"]) != "" || r.Detail["via"] != "console" {
			t.Errorf("record %+v", r)
		}
	}
}

// A vote that cannot be recorded does not count, in process as over gRPC.
func TestInProcessAuditUnavailable(t *testing.T) {
	h := newFlakyHarness(t)
	a := h.create(t, 1)
	h.failAudit(true)
	_, err := h.srv.ApproveAs(t.Context(), approverOf(ann), a.ID, "")
	if ReasonOf(err) != ReasonAuditUnavailable || !strings.Contains(MessageOf(err), "nothing was changed") {
		t.Fatalf("approve with the audit log down: %v (%q)", err, MessageOf(err))
	}
	if got, _ := h.store.Get(a.ID); got.State != approval.Pending || len(got.Votes) != 0 {
		t.Errorf("the vote counted: %+v", got)
	}
	if ReasonOf(nil) != "" || MessageOf(nil) != "" {
		t.Error("nil has a reason")
	}
}

// PendingFor stops at its limit and says that more wait.
func TestInProcessPendingLimit(t *testing.T) {
	h := newHarness(t)
	for range 3 {
		h.create(t, 1)
	}
	list, more, err := h.srv.PendingFor(t.Context(), approverOf(ann), 2)
	if err != nil || len(list) != 2 || !more {
		t.Errorf("limit 2 of 3: %d, %v, %v", len(list), more, err)
	}
	list, more, _ = h.srv.PendingFor(t.Context(), approverOf(ann), 3)
	if len(list) != 3 || more {
		t.Errorf("limit 3 of 3: %d, %v", len(list), more)
	}
}
