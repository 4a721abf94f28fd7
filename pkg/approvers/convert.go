package approvers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
)

// toProto is the one conversion of an approval to the message every RPC
// returns, without target (GetApproval adds it). It fails only on
// parameters that are not JSON values, which the gateway never stores:
// an approval whose call cannot be shown is not shown at all.
func toProto(a approval.Approval) (*bollardv1.Approval, error) {
	out := &bollardv1.Approval{
		Id:         a.ID,
		AgentId:    a.Agent,
		Action:     a.Action,
		DecisionId: a.DecisionID,
		Reason:     a.Requirement.Reason,
		Approvers:  requirement(a.Requirement),
		State:      protoState(a.State),
		CreatedAt:  timestamppb.New(a.Created),
		ExpiresAt:  timestamppb.New(a.Expires),
	}
	if a.Params != nil {
		params, err := structpb.NewStruct(a.Params)
		if err != nil {
			return nil, fmt.Errorf("approval %s: parameters: %w", a.ID, err)
		}
		out.Params = params
	}
	for _, v := range a.Votes {
		out.Votes = append(out.Votes, &bollardv1.Vote{
			ApproverSubject: v.Approver.Subject,
			ApproverEmail:   v.Approver.Email,
			Approve:         v.Approve,
			Comment:         v.Comment,
			VotedAt:         timestamppb.New(v.At),
		})
	}
	return out, nil
}

// shown is an approval as a listing or a watch shows it. One that cannot
// be shown is left out, and logged: nobody approves a call they cannot
// see, and one such approval does not end every listing and watch.
func (s *Server) shown(ctx context.Context, a approval.Approval) (*bollardv1.Approval, bool) {
	msg, err := toProto(a)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "approval not shown", slog.String("approval_id", a.ID), slog.String("error", err.Error()))
		return nil, false
	}
	return msg, true
}

// requirement shows who may approve: sets is the store's rule exactly, a
// person qualifying only when in every set (Requirement.Qualifies). groups
// and users are the union of the sets, for clients written before sets:
// with one set they say the same as the rule; with several they read
// wider than it (a person named there may still be NOT_AN_APPROVER for
// lack of another set), which the proto says.
func requirement(r approval.Requirement) *bollardv1.ApproverRequirement {
	out := &bollardv1.ApproverRequirement{ApprovalsNeeded: int32(r.Approvals), Sets: make([]*bollardv1.ApproverSet, 0, len(r.Approvers))}
	for _, s := range r.Approvers {
		out.Sets = append(out.Sets, &bollardv1.ApproverSet{Groups: slices.Clone(s.Groups), Users: slices.Clone(s.Users)})
		for _, g := range s.Groups {
			if !slices.Contains(out.Groups, g) {
				out.Groups = append(out.Groups, g)
			}
		}
		for _, u := range s.Users {
			if !slices.Contains(out.Users, u) {
				out.Users = append(out.Users, u)
			}
		}
	}
	return out
}

// The states of the store and of the API, one to one.
var states = []struct {
	store approval.State
	proto bollardv1.ApprovalState
}{
	{approval.Pending, bollardv1.ApprovalState_APPROVAL_STATE_PENDING},
	{approval.Approved, bollardv1.ApprovalState_APPROVAL_STATE_APPROVED},
	{approval.Denied, bollardv1.ApprovalState_APPROVAL_STATE_DENIED},
	{approval.Expired, bollardv1.ApprovalState_APPROVAL_STATE_EXPIRED},
	{approval.Used, bollardv1.ApprovalState_APPROVAL_STATE_USED},
}

func protoState(s approval.State) bollardv1.ApprovalState {
	for _, m := range states {
		if m.store == s {
			return m.proto
		}
	}
	return bollardv1.ApprovalState_APPROVAL_STATE_UNSPECIFIED
}

// storeState is the store's state for an API state; ok is false for
// UNSPECIFIED and values the API does not define.
func storeState(s bollardv1.ApprovalState) (approval.State, bool) {
	for _, m := range states {
		if m.proto == s {
			return m.store, true
		}
	}
	return 0, false
}
