package approvers

import (
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/grpc/codes"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/audit"
)

// Every Approve and Deny leaves a record, accepted or refused: the
// approver by subject and email, the approval and its call, the vote, and
// the resulting state or the refusal. The token is nowhere in the log.
func TestAuditRecords(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 2)
	annTok, bobTok, carolTok := h.token(t, ann), h.token(t, bob), h.token(t, carol)
	agentTok := h.agents.sign(t, h.agents.claims(agentID))
	if _, err := h.client.Approve(as(t.Context(), annTok), &bollardv1.ApproveRequest{ApprovalId: a.ID, Comment: "ticket 42"}); err != nil {
		t.Fatal(err)
	}
	h.client.Approve(as(t.Context(), carolTok), &bollardv1.ApproveRequest{ApprovalId: a.ID})
	h.client.Approve(as(t.Context(), agentTok), &bollardv1.ApproveRequest{ApprovalId: a.ID})
	h.client.Approve(metadataCtx(t.Context(), "Bearer x.y.z"), &bollardv1.ApproveRequest{ApprovalId: a.ID})
	if _, err := h.client.Deny(as(t.Context(), bobTok), &bollardv1.DenyRequest{ApprovalId: a.ID, Reason: "not during the freeze"}); err != nil {
		t.Fatal(err)
	}
	h.client.Deny(as(t.Context(), bobTok), &bollardv1.DenyRequest{ApprovalId: a.ID})
	h.client.ListApprovals(as(t.Context(), annTok), &bollardv1.ListApprovalsRequest{}) // not a vote: no record

	type want struct {
		result, subject, email, vote, comment, state, refusal string
		given                                                 float64
	}
	wants := []want{
		{"ok", ann.sub, ann.email, "approve", "ticket 42", "pending", "", 1},
		{"not_an_approver", carol.sub, carol.email, "approve", "", "pending", ReasonNotAnApprover, 1},
		{"agent_cannot_approve", agentID, "", "approve", "", "pending", ReasonAgentCannotApprove, 1},
		{"unauthenticated", "", "", "approve", "", "pending", ReasonUnauthenticated, 1},
		{"ok", bob.sub, bob.email, "deny", "not during the freeze", "denied", "", 1},
		{"invalid", bob.sub, bob.email, "deny", "", "denied", ReasonInvalidArgument, 1},
	}
	recs := h.records(t)
	if len(recs) != len(wants) {
		t.Fatalf("%d approval records, want %d", len(recs), len(wants))
	}
	attempts := map[string]bool{}
	for i, w := range wants {
		r := recs[i]
		d := r.Detail
		approver, _ := d["approver"].(map[string]any)
		got := want{r.Result, str(approver["subject"]), str(approver["email"]), str(d["vote"]), str(d["comment"]), str(d["state"]),
			str(d["refusal"]), num(d["approvals_given"])}
		if got != w {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, w)
		}
		if r.Kind != audit.KindApproval || r.DecisionID != a.DecisionID || r.Agent.ID != agentID || r.Action != "users.delete" ||
			d["approval_id"] != a.ID || num(d["approvals_needed"]) != 2 || len(r.Params) != 0 || d["late"] != nil {
			t.Errorf("record %d: %+v", i, r)
		}
		if rpc := map[bool]string{true: "Approve", false: "Deny"}[w.vote == "approve"]; d["rpc"] != rpc {
			t.Errorf("record %d: rpc %v, want %s", i, d["rpc"], rpc)
		}
		attempts[str(d["attempt"])] = true
	}
	if len(attempts) != len(wants) || attempts[""] {
		t.Errorf("attempts %v: want one id per RPC", attempts)
	}
	raw, _ := os.ReadFile(h.auditLog)
	logs := h.logs.String()
	for _, tok := range []string{annTok, bobTok, carolTok, agentTok} {
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		if strings.Contains(string(raw), sig) || strings.Contains(logs, sig) {
			t.Error("a token is in the audit log or the server's log")
		}
	}
}

// No record, no vote: when the audit log cannot take the record, the vote
// is refused with AUDIT_UNAVAILABLE and the approval stays pending; once
// the log is back, the same vote counts.
func TestAuditFailureRefusesVote(t *testing.T) {
	h := newFlakyHarness(t)
	a := h.create(t, 1)
	ctx := as(t.Context(), h.token(t, ann))
	h.failAudit(true)
	_, err := h.client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: a.ID})
	wantStatus(t, err, codes.Unavailable, ReasonAuditUnavailable)
	_, err = h.client.Deny(ctx, &bollardv1.DenyRequest{ApprovalId: a.ID, Reason: "no"})
	wantStatus(t, err, codes.Unavailable, ReasonAuditUnavailable)
	// A refusal that cannot be recorded is not answered as one either.
	_, err = h.client.Approve(as(t.Context(), h.token(t, carol)), &bollardv1.ApproveRequest{ApprovalId: a.ID})
	wantStatus(t, err, codes.Unavailable, ReasonAuditUnavailable)
	if got, _ := h.store.Get(a.ID); got.State != approval.Pending || len(got.Votes) != 0 {
		t.Fatalf("after unrecorded votes: %v with %d votes, want pending without any", got.State, len(got.Votes))
	}
	h.failAudit(false)
	if resp, err := h.client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: a.ID}); err != nil ||
		resp.GetApproval().GetState() != bollardv1.ApprovalState_APPROVAL_STATE_APPROVED {
		t.Fatalf("once the log is back: %v, %v", resp.GetApproval().GetState(), err)
	}
	if !strings.Contains(h.logs.String(), "audit approval record not written") {
		t.Error("the failed records were not logged")
	}
}

// When the store refuses a vote after its record was written (the
// approval expired in between), a second record of the same attempt says
// so, and the caller is told what happened.
func TestLateRefusalRecorded(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	h.auditor.before = func(r *audit.Record) {
		if r.Result == "ok" {
			h.clk.advance(16 * time.Minute) // the approval lapses as its record is written
		}
	}
	_, err := h.client.Approve(as(t.Context(), h.token(t, ann, "exp", t0.Add(2*time.Hour).Unix())), &bollardv1.ApproveRequest{ApprovalId: a.ID})
	if meta, _ := wantStatus(t, err, codes.FailedPrecondition, ReasonNotPending); meta["state"] != "APPROVAL_STATE_EXPIRED" {
		t.Errorf("metadata %v", meta)
	}
	recs := h.records(t)
	if len(recs) != 2 {
		t.Fatalf("%d records, want the ok one and the late refusal", len(recs))
	}
	first, second := recs[0], recs[1]
	if first.Result != "ok" || first.Detail["state"] != "approved" || first.Detail["late"] != nil ||
		second.Result != "approval_not_pending" || second.Detail["state"] != "expired" || second.Detail["late"] != true ||
		second.Detail["refusal"] != ReasonNotPending || first.Detail["attempt"] != second.Detail["attempt"] {
		t.Errorf("records:\n%+v\n%+v", first.Detail, second.Detail)
	}
	if got, _ := h.store.Get(a.ID); len(got.Votes) != 0 {
		t.Errorf("votes %v", got.Votes)
	}
}

// One span per RPC, named for it, with the approval, the approver's
// subject and the result; never the token.
func TestSpans(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	tok := h.token(t, ann)
	h.client.GetApproval(as(t.Context(), h.token(t, carol)), &bollardv1.GetApprovalRequest{ApprovalId: a.ID})
	h.client.Approve(as(t.Context(), tok), &bollardv1.ApproveRequest{ApprovalId: a.ID})
	spans := h.spans.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	for i, want := range []map[attribute.Key]string{
		{attrApprovalID: a.ID, attrSubject: carol.sub, attrResult: "not_an_approver"},
		{attrApprovalID: a.ID, attrSubject: ann.sub, attrResult: "ok"},
	} {
		s := spans[i]
		if name := []string{"bollard.approval.GetApproval", "bollard.approval.Approve"}[i]; s.Name != name {
			t.Errorf("span %q, want %q", s.Name, name)
		}
		got := map[attribute.Key]string{}
		for _, kv := range s.Attributes {
			got[kv.Key] = kv.Value.Emit()
			if strings.Contains(kv.Value.Emit(), tok[strings.LastIndexByte(tok, '.')+1:]) {
				t.Errorf("span %s holds the token in %s", s.Name, kv.Key)
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("span %s: %s = %q, want %q", s.Name, k, got[k], v)
			}
		}
	}
	// The vote's span links to the agent's call that asked for it.
	links := spans[1].Links
	if len(links) != 1 || links[0].SpanContext.TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || links[0].SpanContext.SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("the Approve span's links %+v, want the agent's call", links)
	}
}

func TestParseTraceParent(t *testing.T) {
	if sc, ok := parseTraceParent(agentTraceParent); !ok || !sc.IsSampled() || !sc.IsRemote() {
		t.Errorf("%s: %v %v", agentTraceParent, sc, ok)
	}
	for _, bad := range []string{"", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-00000000000000000000000000000000-b7ad6b7169203331-01", "00-xyz-b7ad6b7169203331-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331"} {
		if _, ok := parseTraceParent(bad); ok {
			t.Errorf("%q read as a trace", bad)
		}
	}
}

// Every row of the error table becomes a status with its code, and an
// ErrorInfo of Bollard's domain when it has a reason.
func TestErrorTable(t *testing.T) {
	for _, k := range errorTable {
		err := toStatus(&failure{kind: k})
		if k.reason == "" {
			continue
		}
		wantStatus(t, err, k.code, k.reason)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) float64 {
	n, _ := v.(float64)
	return n
}
