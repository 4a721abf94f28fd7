package gateway

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	oktav1 "github.com/bollard-dev/bollard/api/proto/bollard/okta/v1"
	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// approvalPolicy is the shipped policy, except that users.delete needs one
// approval from the security-approvers group, unless deny is set: then it
// is denied (a policy that changed between the request and its approval).
type approvalPolicy struct {
	Decider
	deny *bool
	ttl  float64 // seconds; 0: 900
}

func (d approvalPolicy) Decide(ctx context.Context, in decision.Input) decision.Decision {
	out := d.Decider.Decide(ctx, in)
	if in.Action == nil || in.Action.Name != "users.delete" || !out.Allow {
		return out
	}
	if d.deny != nil && *d.deny {
		return decision.Decision{ID: out.ID, Revision: out.Revision, Deny: []decision.Reason{{Code: "frozen", Message: "change freeze"}}}
	}
	if out.Obligations.Extra == nil {
		out.Obligations.Extra = map[string]any{}
	}
	ttl := d.ttl
	if ttl == 0 {
		ttl = 900
	}
	out.Obligations.Extra[approval.Obligation] = map[string]any{
		"approvers": []any{map[string]any{"groups": []any{"security-approvers"}}},
		"approvals": float64(1), "reason": "deleting a user", "ttl_seconds": ttl,
	}
	return out
}

var securityEngineer = approval.Person{Subject: "00uSEC", Email: "sec@example.com", Groups: []string{"security-approvers"}}

func deleteRequest(t *testing.T, user string) *bollardv1.ExecuteRequest {
	return &bollardv1.ExecuteRequest{Action: "users.delete", Params: params(t, map[string]any{"userId": user})}
}

// deletes counts the users.delete calls that reached Okta.
func deletes(h *harness) int {
	n := 0
	for _, r := range h.actionRequests() {
		if r.Method == "DELETE" {
			n++
		}
	}
	return n
}

// A risky call waits for a person: APPROVAL_PENDING with the approval's
// id; sent again before anyone answered, still pending; approved, the same
// call runs once (no confirmation asked: the person's approval stands for
// it); a replay, altered parameters and another agent are refused.
func TestApprovalThenTheCallRunsOnce(t *testing.T) {
	store := approval.New()
	logger, records := auditFile(t)
	h := newHarness(t, withDecider(approvalPolicy{Decider: sharedEngine(t)}), withGateway(WithApprovalStore(store), WithAuditor(logger)))
	ctx := as(t.Context(), devKey("provisioner-bot"))
	req := deleteRequest(t, oktasim.SeedUserBob)
	_, err := h.client.Execute(ctx, req)
	ei := wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalPending)
	id := ei.Metadata["approval_id"]
	if id == "" || ei.Metadata["approvals_required"] != "1" || ei.Metadata["approvals_given"] != "0" {
		t.Fatalf("pending metadata %v", ei.Metadata)
	}
	if exp, err := time.Parse(time.RFC3339, ei.Metadata["expires_at"]); err != nil || time.Until(exp) < 14*time.Minute {
		t.Errorf("expires_at %q, want about 15 minutes ahead", ei.Metadata["expires_at"])
	}
	a, err := store.Get(id)
	if err != nil || a.Agent != "provisioner-bot" || a.Action != "users.delete" || a.Params["userId"] != oktasim.SeedUserBob ||
		!slices.Equal(a.Concerns, []string{oktasim.SeedUserBob}) {
		t.Fatalf("the pending approval %+v, %v; want the call, its parameters as recorded and the user it changes", a, err)
	}
	req.ApprovalId = id
	if _, err := h.client.Execute(ctx, req); reasonOf(err) != ReasonApprovalPending {
		t.Fatalf("sent again while pending: %v, want %s", err, ReasonApprovalPending)
	}
	if _, err := store.Vote(id, securityEngineer, true, "ok"); err != nil {
		t.Fatal(err)
	}
	// Another agent with the id learns nothing of it.
	other := deleteRequest(t, oktasim.SeedUserBob)
	other.ApprovalId = id
	_, err = h.client.Execute(as(t.Context(), adminBotKey), other)
	if ei := wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalInvalid); ei.Metadata["detail"] != "unknown_or_used" {
		t.Errorf("another agent's approval id: detail %q, want unknown_or_used", ei.Metadata["detail"])
	}
	// Altered parameters: refused, and the approval is kept for the call.
	altered := deleteRequest(t, oktasim.SeedUserAlice)
	altered.ApprovalId = id
	_, err = h.client.Execute(ctx, altered)
	if ei := wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalInvalid); ei.Metadata["detail"] != "mismatch" {
		t.Errorf("altered parameters: detail %q, want mismatch", ei.Metadata["detail"])
	}
	if _, err := h.client.Execute(ctx, req); err != nil {
		t.Fatalf("the approved call: %v", err)
	}
	if n := deletes(h); n != 1 {
		t.Fatalf("%d deletes reached Okta, want 1", n)
	}
	if a, _ := store.Get(id); a.State != approval.Used {
		t.Errorf("after the call the approval is %v, want used", a.State)
	}
	_, err = h.client.Execute(ctx, req)
	if ei := wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalInvalid); ei.Metadata["detail"] != "unknown_or_used" {
		t.Errorf("a replay: detail %q, want unknown_or_used", ei.Metadata["detail"])
	}
	if n := deletes(h); n != 1 {
		t.Errorf("%d deletes reached Okta after the replay, want 1", n)
	}
	// The record: the pending call, refusals, the approved call that ran.
	var results []string
	for _, r := range records() {
		results = append(results, r["result"].(string))
		if d, _ := r["detail"].(map[string]any); d["approval_id"] != id && r["agent_id"] == "provisioner-bot" {
			t.Errorf("the %s record names approval %v, want %s", r["result"], d["approval_id"], id)
		} else if r["result"] == "ok" && d["approval_used"] != true {
			t.Errorf("the call that ran: detail %v, want the approval used", d)
		}
	}
	want := []string{"approval_pending", "approval_pending", "approval_refused", "approval_refused", "ok", "approval_refused"}
	if !slices.Equal(results, want) {
		t.Errorf("recorded results %v, want %v", results, want)
	}
}

// A person's denial reaches the agent with its reason; an expired approval
// and an unknown id are refused; nothing reaches Okta.
func TestApprovalDeniedExpiredUnknown(t *testing.T) {
	clk := &struct{ now time.Time }{time.Now()}
	store := approval.New(approval.WithClock(func() time.Time { return clk.now }))
	h := newHarness(t, withDecider(approvalPolicy{Decider: sharedEngine(t)}), withGateway(WithApprovalStore(store)))
	ctx := as(t.Context(), devKey("provisioner-bot"))
	pending := func(user string) *bollardv1.ExecuteRequest {
		req := deleteRequest(t, user)
		_, err := h.client.Execute(ctx, req)
		req.ApprovalId = wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalPending).Metadata["approval_id"]
		return req
	}
	denied := pending(oktasim.SeedUserBob)
	if _, err := store.Vote(denied.ApprovalId, securityEngineer, false, "Bob is on leave, not gone"); err != nil {
		t.Fatal(err)
	}
	_, err := h.client.Execute(ctx, denied)
	if ei := wantStatus(t, err, codes.PermissionDenied, ReasonApprovalDenied); ei.Metadata["reason"] != "Bob is on leave, not gone" {
		t.Errorf("denial metadata %v", ei.Metadata)
	}
	expired := pending(oktasim.SeedUserAlice)
	store.Vote(expired.ApprovalId, securityEngineer, true, "")
	clk.now = clk.now.Add(16 * time.Minute)
	_, err = h.client.Execute(ctx, expired)
	if ei := wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalInvalid); ei.Metadata["detail"] != "expired" {
		t.Errorf("an approval past its time: detail %q, want expired", ei.Metadata["detail"])
	}
	unknown := deleteRequest(t, oktasim.SeedUserAlice)
	unknown.ApprovalId = "ap_nope"
	_, err = h.client.Execute(ctx, unknown)
	if ei := wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalInvalid); ei.Metadata["detail"] != "unknown_or_used" {
		t.Errorf("an unknown id: detail %q", ei.Metadata["detail"])
	}
	if n := deletes(h); n != 0 {
		t.Errorf("%d deletes reached Okta", n)
	}
}

// The call is decided again when it comes back approved: a policy that
// now denies it wins over the approval, and the approval is not used.
func TestApprovalReDecidedAtExecution(t *testing.T) {
	store := approval.New()
	deny := false
	h := newHarness(t, withDecider(approvalPolicy{Decider: sharedEngine(t), deny: &deny}), withGateway(WithApprovalStore(store)))
	ctx := as(t.Context(), devKey("provisioner-bot"))
	req := deleteRequest(t, oktasim.SeedUserBob)
	_, err := h.client.Execute(ctx, req)
	req.ApprovalId = wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalPending).Metadata["approval_id"]
	store.Vote(req.ApprovalId, securityEngineer, true, "")
	deny = true
	_, err = h.client.Execute(ctx, req)
	if ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied); ei.Metadata["deny_codes"] != "frozen" {
		t.Errorf("deny codes %q, want frozen", ei.Metadata["deny_codes"])
	}
	if a, _ := store.Get(req.ApprovalId); a.State != approval.Approved {
		t.Errorf("the approval is %v after a denied call, want still approved", a.State)
	}
	if n := deletes(h); n != 0 {
		t.Errorf("%d deletes reached Okta", n)
	}
}

// An approval obligation the sidecar cannot read fails the call; it never
// runs unapproved.
func TestMalformedApprovalFailsTheCall(t *testing.T) {
	h := newHarness(t, withDecider(malformedApproval{sharedEngine(t)}))
	_, err := h.client.Execute(as(t.Context(), devKey("provisioner-bot")), deleteRequest(t, oktasim.SeedUserBob))
	if status.Code(err) == codes.OK || deletes(h) != 0 {
		t.Fatalf("a call with a malformed require_approval: %v, %d deletes", err, deletes(h))
	}
}

type malformedApproval struct{ Decider }

func (d malformedApproval) Decide(ctx context.Context, in decision.Input) decision.Decision {
	out := d.Decider.Decide(ctx, in)
	if out.Allow && in.Action != nil && in.Action.Destructive {
		if out.Obligations.Extra == nil {
			out.Obligations.Extra = map[string]any{}
		}
		out.Obligations.Extra[approval.Obligation] = map[string]any{"approvers": "security", "approvals": float64(1), "reason": "r"}
	}
	return out
}

// WaitApproval streams the agent's approval until it is final: pending,
// then approved (the agent then sends its call); denied with the reason;
// expired when nobody answered. Another agent's id is NOT_FOUND, as an
// unknown one is.
func TestWaitApproval(t *testing.T) {
	store := approval.New()
	h := newHarness(t, withDecider(approvalPolicy{Decider: sharedEngine(t), ttl: 1}), withGateway(WithApprovalStore(store)))
	ctx := as(t.Context(), devKey("provisioner-bot"))
	ask := func(user string) string {
		_, err := h.client.Execute(ctx, deleteRequest(t, user))
		return wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalPending).Metadata["approval_id"]
	}
	wait := func(id string, during func()) []*bollardv1.WaitApprovalResponse {
		t.Helper()
		stream, err := h.client.WaitApproval(ctx, &bollardv1.WaitApprovalRequest{ApprovalId: id})
		if err != nil {
			t.Fatal(err)
		}
		first, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		got := []*bollardv1.WaitApprovalResponse{first}
		if during != nil {
			during()
		}
		for {
			m, err := stream.Recv()
			if err != nil {
				return got
			}
			got = append(got, m)
		}
	}
	approved := ask(oktasim.SeedUserBob)
	msgs := wait(approved, func() { store.Vote(approved, securityEngineer, true, "") })
	if len(msgs) != 2 || msgs[0].GetState() != bollardv1.ApprovalState_APPROVAL_STATE_PENDING ||
		msgs[1].GetState() != bollardv1.ApprovalState_APPROVAL_STATE_APPROVED || msgs[1].GetApprovalsGiven() != 1 || msgs[1].GetApprovalsNeeded() != 1 {
		t.Errorf("waiting on an approval that is then approved: %v", msgs)
	}
	denied := ask(oktasim.SeedUserAlice)
	store.Vote(denied, securityEngineer, false, "no")
	if msgs := wait(denied, nil); len(msgs) != 1 || msgs[0].GetState() != bollardv1.ApprovalState_APPROVAL_STATE_DENIED || msgs[0].GetDenyReason() != "no" {
		t.Errorf("waiting on a denied approval: %v", msgs)
	}
	expiring := ask(oktasim.SeedUserDave)
	if msgs := wait(expiring, nil); len(msgs) != 2 || msgs[1].GetState() != bollardv1.ApprovalState_APPROVAL_STATE_EXPIRED {
		t.Errorf("waiting on an approval nobody answers: %v", msgs)
	}
	// Another agent's id and an unknown one get the same answer, with a
	// reason to branch on as every other error has.
	for _, c := range []struct {
		key, id string
		code    codes.Code
		reason  string
	}{{adminBotKey, approved, codes.NotFound, ReasonApprovalNotFound}, {devKey("provisioner-bot"), "ap_nope", codes.NotFound, ReasonApprovalNotFound},
		{devKey("provisioner-bot"), "", codes.InvalidArgument, ReasonInvalidParams}} {
		stream, err := h.client.WaitApproval(as(t.Context(), c.key), &bollardv1.WaitApprovalRequest{ApprovalId: c.id})
		if err == nil {
			_, err = stream.Recv()
		}
		wantStatus(t, err, c.code, c.reason)
	}
}

// At shutdown a waiting WaitApproval ends at once with UNAVAILABLE
// SHUTTING_DOWN, not when GracefulStop gives up on it, and its close
// record says why; a wait opened after is refused the same way. Nothing
// happens to the approval: the agent waits again elsewhere.
func TestWaitApprovalEndsAtShutdown(t *testing.T) {
	store := approval.New()
	logger, records := auditFile(t)
	h := newHarness(t, withGateway(WithApprovalStore(store), WithAuditor(logger)))
	a, err := store.Create(approval.Request{
		Binding:     approval.Binding{Agent: "provisioner-bot", Action: "users.delete", ParamsHash: [32]byte{1}},
		Params:      map[string]any{"userId": oktasim.SeedUserBob},
		Requirement: approval.Requirement{Approvers: []approval.Set{{Groups: []string{"security-approvers"}}}, Approvals: 1, TTL: time.Hour, Reason: "r"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A guard only: the stream must end long before.
	ctx, cancel := context.WithTimeout(as(t.Context(), devKey("provisioner-bot")), 10*time.Second)
	defer cancel()
	stream, err := h.client.WaitApproval(ctx, &bollardv1.WaitApprovalRequest{ApprovalId: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := stream.Recv(); err != nil || m.GetState() != bollardv1.ApprovalState_APPROVAL_STATE_PENDING {
		t.Fatalf("first message %v, %v; want pending", m, err)
	}
	h.server.Shutdown()
	h.server.Shutdown() // twice is once
	_, err = stream.Recv()
	wantStatus(t, err, codes.Unavailable, ReasonShuttingDown)

	again, err := h.client.WaitApproval(ctx, &bollardv1.WaitApprovalRequest{ApprovalId: a.ID})
	if err == nil {
		_, err = again.Recv()
	}
	wantStatus(t, err, codes.Unavailable, ReasonShuttingDown)
	if got, _ := store.Get(a.ID); got.State != approval.Pending {
		t.Errorf("the approval is %v after shutdown, want pending", got.State)
	}

	var streams []string
	for _, r := range records() {
		if r["action"] != rpcWaitApproval {
			continue
		}
		d, _ := r["detail"].(map[string]any)
		if d["approval_id"] != a.ID {
			t.Errorf("record %v names another approval", r)
		}
		streams = append(streams, fmt.Sprint(r["kind"], " ", r["result"]))
	}
	want := []string{"stream_open ok", "stream_close shutdown", "stream_open shutting_down"}
	if !slices.Equal(streams, want) {
		t.Errorf("WaitApproval records %q, want %q", streams, want)
	}
}

// The approval keeps the asking call's trace as a W3C traceparent, for the
// votes' spans to link to.
func TestApprovalTraceParent(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2}, SpanID: trace.SpanID{3}, TraceFlags: trace.FlagsSampled})
	got := traceParent(trace.ContextWithSpanContext(t.Context(), sc))
	if want := "00-01020000000000000000000000000000-0300000000000000-01"; got != want {
		t.Errorf("traceparent %q, want %q", got, want)
	}
	if got := traceParent(t.Context()); got != "" {
		t.Errorf("without a span: %q", got)
	}
}

// The shipped policy: a destructive action on a user who holds an admin
// role (Carol, HELP_DESK_ADMIN) waits for one approval from the
// security-approvers group; the same action on a user without one is
// confirmed by the agent as before.
func TestShippedPolicyAsksApprovalForAdminUsers(t *testing.T) {
	store := approval.New()
	h := newHarness(t, withGateway(WithApprovalStore(store)))
	ctx := as(t.Context(), adminBotKey)
	suspend := func(user string) error {
		_, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: params(t, map[string]any{"userId": user})})
		return err
	}
	ei := wantStatus(t, suspend(oktasim.SeedUserCarol), codes.FailedPrecondition, ReasonApprovalPending)
	a, err := store.Get(ei.Metadata["approval_id"])
	if err != nil {
		t.Fatal(err)
	}
	r := a.Requirement
	if r.Approvals != 1 || r.TTL != 15*time.Minute || len(r.Approvers) != 1 || !slices.Equal(r.Approvers[0].Groups, []string{"security-approvers"}) || r.Reason == "" {
		t.Errorf("the shipped requirement %+v", r)
	}
	if !r.Qualifies(securityEngineer) || r.Qualifies(approval.Person{Subject: "00uX", Groups: []string{"helpdesk"}}) {
		t.Error("the shipped requirement qualifies the wrong people")
	}
	wantStatus(t, suspend(oktasim.SeedUserAlice), codes.FailedPrecondition, ReasonConfirmationRequired)
	if n := len(h.actionRequests()); n != 0 {
		t.Errorf("%d calls reached Okta", n)
	}
}

// The typed services carry approval_id too: an approved suspension of an
// admin user runs once through UserLifecycleService.SuspendUser.
func TestApprovalThroughTypedRPC(t *testing.T) {
	store := approval.New()
	h := newHarness(t, withGateway(WithApprovalStore(store)))
	client := oktav1.NewUserLifecycleServiceClient(h.conn)
	ctx := as(t.Context(), adminBotKey)
	_, err := client.SuspendUser(ctx, &oktav1.SuspendUserRequest{UserId: oktasim.SeedUserCarol})
	id := wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalPending).Metadata["approval_id"]
	if _, err := store.Vote(id, securityEngineer, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SuspendUser(ctx, &oktav1.SuspendUserRequest{UserId: oktasim.SeedUserCarol, ApprovalId: id}); err != nil {
		t.Fatalf("the approved typed call: %v", err)
	}
	if reqs := h.actionRequests(); len(reqs) != 1 || reqs[0].Method != "POST" {
		t.Errorf("okta saw %v, want one suspension", reqs)
	}
}

// A call that names its user by login is bound, for self-approval, to the
// login and to the id Okta resolved it to: the user may not vote on it
// whichever their token carries.
func TestApprovalConcernsTheResolvedUser(t *testing.T) {
	store := approval.New()
	h := newHarness(t, withDecider(approvalPolicy{Decider: sharedEngine(t)}), withGateway(WithApprovalStore(store)))
	_, err := h.client.Execute(as(t.Context(), devKey("provisioner-bot")), deleteRequest(t, "bob.baker@example.com"))
	a, gerr := store.Get(wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalPending).Metadata["approval_id"])
	if gerr != nil {
		t.Fatal(gerr)
	}
	if !slices.Contains(a.Concerns, "bob.baker@example.com") || !slices.Contains(a.Concerns, oktasim.SeedUserBob) {
		t.Errorf("concerns %v, want the login and the id", a.Concerns)
	}
}
