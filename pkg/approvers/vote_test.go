package approvers

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
)

// One qualified person approves a one-person approval: it is APPROVED,
// and the answer shows the whole approval with the vote.
func TestApprove(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	resp, err := h.client.Approve(as(t.Context(), h.token(t, ann)), &bollardv1.ApproveRequest{ApprovalId: a.ID, Comment: " ticket 42 "})
	if err != nil {
		t.Fatal(err)
	}
	params, _ := structpb.NewStruct(map[string]any{"userId": dave.sub})
	want := &bollardv1.Approval{
		Id: a.ID, AgentId: agentID, Action: "users.delete", Params: params, DecisionId: a.DecisionID, Reason: "deleting a user",
		Approvers: &bollardv1.ApproverRequirement{Groups: []string{approvers}, ApprovalsNeeded: 1,
			Sets: []*bollardv1.ApproverSet{{Groups: []string{approvers}}}},
		State:     bollardv1.ApprovalState_APPROVAL_STATE_APPROVED,
		CreatedAt: timestamppb.New(t0), ExpiresAt: timestamppb.New(t0.Add(15 * time.Minute)),
		Votes: []*bollardv1.Vote{{ApproverSubject: ann.sub, ApproverEmail: ann.email, Approve: true, Comment: "ticket 42",
			VotedAt: timestamppb.New(t0)}},
	}
	// go-cmp is not a module dependency: proto.Equal, and both in text.
	if !proto.Equal(want, resp.GetApproval()) {
		t.Errorf("approval\n%v\nwant\n%v", prototext.Format(resp.GetApproval()), prototext.Format(want))
	}
	if got, _ := h.store.Get(a.ID); got.State.String() != "approved" {
		t.Errorf("the store has it %v", got.State)
	}
}

// Two people are needed under a two-person rule; one person twice is one
// vote, whatever they send.
func TestTwoPersonRule(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 2)
	resp, err := h.client.Approve(as(t.Context(), h.token(t, ann)), &bollardv1.ApproveRequest{ApprovalId: a.ID})
	if err != nil || resp.GetApproval().GetState() != bollardv1.ApprovalState_APPROVAL_STATE_PENDING {
		t.Fatalf("after ann: %v, %v; want pending", resp.GetApproval().GetState(), err)
	}
	_, err = h.client.Approve(as(t.Context(), h.token(t, ann)), &bollardv1.ApproveRequest{ApprovalId: a.ID})
	wantStatus(t, err, codes.PermissionDenied, ReasonAlreadyVoted)
	// The same person under another subject, by email.
	annAgain := person{"00uANN2", "ANN@example.com", ann.groups}
	_, err = h.client.Deny(as(t.Context(), h.token(t, annAgain)), &bollardv1.DenyRequest{ApprovalId: a.ID, Reason: "changed my mind"})
	wantStatus(t, err, codes.PermissionDenied, ReasonAlreadyVoted)
	resp, err = h.client.Approve(as(t.Context(), h.token(t, bob)), &bollardv1.ApproveRequest{ApprovalId: a.ID})
	if err != nil || resp.GetApproval().GetState() != bollardv1.ApprovalState_APPROVAL_STATE_APPROVED || len(resp.GetApproval().GetVotes()) != 2 {
		t.Fatalf("after bob: %v, %v; want approved with two votes", resp.GetApproval(), err)
	}
}

// The person a call concerns neither approves nor denies it: the user it
// changes, and the person the agent acts for.
func TestSelfApproval(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	for _, p := range []person{dave, erin} {
		ctx := as(t.Context(), h.token(t, p))
		_, err := h.client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: a.ID})
		wantStatus(t, err, codes.PermissionDenied, ReasonSelfApproval)
		_, err = h.client.Deny(ctx, &bollardv1.DenyRequest{ApprovalId: a.ID, Reason: "leave my account alone"})
		wantStatus(t, err, codes.PermissionDenied, ReasonSelfApproval)
	}
	if got, _ := h.store.Get(a.ID); len(got.Votes) != 0 {
		t.Errorf("votes %+v", got.Votes)
	}
}

// A person outside the approver sets cannot vote, and learns nothing more
// of the approval: not its state, not its content.
func TestNotAnApprover(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	both := h.create(t, 1, []string{approvers}, []string{"oncall"}) // in both sets: bob only
	ctx := as(t.Context(), h.token(t, carol))
	_, err := h.client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: a.ID})
	wantStatus(t, err, codes.PermissionDenied, ReasonNotAnApprover)
	resp, err := h.client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: a.ID})
	meta, _ := wantStatus(t, err, codes.PermissionDenied, ReasonNotAnApprover)
	if resp != nil || len(meta) != 0 || strings.Contains(err.Error(), "users.delete") || strings.Contains(err.Error(), dave.sub) {
		t.Errorf("a non-approver's GetApproval reveals %v, %v", resp, err)
	}
	// Ann is in one set of two: not an approver of it.
	_, err = h.client.Approve(as(t.Context(), h.token(t, ann)), &bollardv1.ApproveRequest{ApprovalId: both.ID})
	wantStatus(t, err, codes.PermissionDenied, ReasonNotAnApprover)
	// Once the approval is decided, a non-approver is still told only that.
	if _, err := h.client.Deny(as(t.Context(), h.token(t, ann)), &bollardv1.DenyRequest{ApprovalId: a.ID, Reason: "no"}); err != nil {
		t.Fatal(err)
	}
	_, err = h.client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: a.ID})
	wantStatus(t, err, codes.PermissionDenied, ReasonNotAnApprover)
	if resp, err := h.client.Approve(as(t.Context(), h.token(t, bob)), &bollardv1.ApproveRequest{ApprovalId: both.ID}); err != nil ||
		resp.GetApproval().GetState() != bollardv1.ApprovalState_APPROVAL_STATE_APPROVED {
		t.Errorf("bob, in both sets: %v, %v", resp.GetApproval().GetState(), err)
	}
}

// Requests are validated before anything is looked up, the fields named.
func TestInvalidVotes(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	ctx := as(t.Context(), h.token(t, ann))
	long := strings.Repeat("x", maxCommentLen+1)
	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"deny without reason", func() error {
			_, err := h.client.Deny(ctx, &bollardv1.DenyRequest{ApprovalId: a.ID})
			return err
		}, "reason"},
		{"deny with a blank reason", func() error {
			_, err := h.client.Deny(ctx, &bollardv1.DenyRequest{ApprovalId: a.ID, Reason: " \n\t"})
			return err
		}, "reason"},
		{"deny with an over-long reason", func() error {
			_, err := h.client.Deny(ctx, &bollardv1.DenyRequest{ApprovalId: a.ID, Reason: long})
			return err
		}, "reason"},
		{"approve with an over-long comment", func() error {
			_, err := h.client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: a.ID, Comment: long})
			return err
		}, "comment"},
		{"approve without an id", func() error {
			_, err := h.client.Approve(ctx, &bollardv1.ApproveRequest{})
			return err
		}, "approval_id"},
		{"get with an over-long id", func() error {
			_, err := h.client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: strings.Repeat("a", maxIDLen+1)})
			return err
		}, "approval_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, fields := wantStatus(t, tc.call(), codes.InvalidArgument, ReasonInvalidArgument)
			if len(fields) != 1 || fields[0].Field != tc.field {
				t.Errorf("field violations %v, want %s", fields, tc.field)
			}
		})
	}
	// Validation comes before the lookup: an unknown id with no reason is
	// invalid; with one, it is not found.
	_, err := h.client.Deny(ctx, &bollardv1.DenyRequest{ApprovalId: "ap_UNKNOWN"})
	wantStatus(t, err, codes.InvalidArgument, ReasonInvalidArgument)
	_, err = h.client.Deny(ctx, &bollardv1.DenyRequest{ApprovalId: "ap_UNKNOWN", Reason: "r"})
	wantStatus(t, err, codes.NotFound, ReasonNotFound)
	_, err = h.client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: "ap_UNKNOWN"})
	wantStatus(t, err, codes.NotFound, ReasonNotFound)
}

// One denial ends the approval: an approval after it is refused as no
// longer pending, with the state.
func TestDenyThenApprove(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 2)
	resp, err := h.client.Deny(as(t.Context(), h.token(t, ann)), &bollardv1.DenyRequest{ApprovalId: a.ID, Reason: "not during the freeze"})
	if err != nil || resp.GetApproval().GetState() != bollardv1.ApprovalState_APPROVAL_STATE_DENIED ||
		resp.GetApproval().GetVotes()[0].GetComment() != "not during the freeze" || resp.GetApproval().GetVotes()[0].GetApprove() {
		t.Fatalf("deny: %v, %v", resp.GetApproval(), err)
	}
	_, err = h.client.Approve(as(t.Context(), h.token(t, bob)), &bollardv1.ApproveRequest{ApprovalId: a.ID})
	meta, _ := wantStatus(t, err, codes.FailedPrecondition, ReasonNotPending)
	if meta["state"] != "APPROVAL_STATE_DENIED" {
		t.Errorf("metadata %v, want state APPROVAL_STATE_DENIED", meta)
	}
}

// An approval nobody decided in time is EXPIRED: Get shows it, a vote is
// refused as no longer pending.
func TestExpiredApproval(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	h.clk.advance(16 * time.Minute)
	ctx := as(t.Context(), h.token(t, ann))
	got, err := h.client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: a.ID})
	if err != nil || got.GetApproval().GetState() != bollardv1.ApprovalState_APPROVAL_STATE_EXPIRED {
		t.Fatalf("get: %v, %v; want expired", got.GetApproval().GetState(), err)
	}
	_, err = h.client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: a.ID})
	if meta, _ := wantStatus(t, err, codes.FailedPrecondition, ReasonNotPending); meta["state"] != "APPROVAL_STATE_EXPIRED" {
		t.Errorf("metadata %v", meta)
	}
}
