package gateway

import (
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/state"
)

const rpcWaitApproval = "WaitApproval"

// WaitApproval streams the state of one of the agent's approvals until it
// is final (approved counts as final for the agent: it sends its call
// then). Another agent's id, and an unknown one, are NOT_FOUND alike. A
// store of approvals the fleet shares that cannot be reached ends it with
// UNAVAILABLE STATE_UNAVAILABLE, and Shutdown with UNAVAILABLE
// SHUTTING_DOWN: the agent waits again. The stream's opening and end are
// recorded.
func (s *Server) WaitApproval(req *bollardv1.WaitApprovalRequest, stream grpc.ServerStreamingServer[bollardv1.WaitApprovalResponse]) error {
	ctx, start := stream.Context(), time.Now()
	id, err := s.authenticate(ctx)
	detail := map[string]any{"approval_id": truncate(req.GetApprovalId(), maxApprovalIDLen)}
	if err != nil {
		s.recordRPC(ctx, audit.KindStreamOpen, rpcWaitApproval, id, resultOf(err), detail)
		return toStatus(err)
	}
	aid := req.GetApprovalId()
	if aid == "" || len(aid) > maxApprovalIDLen {
		s.recordRPC(ctx, audit.KindStreamOpen, rpcWaitApproval, id, "invalid", detail)
		return withDetails(codes.InvalidArgument, "approval_id must be the id of an APPROVAL_PENDING answer", info(ReasonInvalidParams, nil))
	}
	select {
	case <-s.shutdown:
		s.recordRPC(ctx, audit.KindStreamOpen, rpcWaitApproval, id, resultOf(errShuttingDown), detail)
		return toStatus(errShuttingDown)
	default:
	}
	changed := s.approvals.Changed()
	a, err := s.approvals.Get(aid)
	if errors.Is(err, state.ErrUnavailable) {
		s.recordRPC(ctx, audit.KindStreamOpen, rpcWaitApproval, id, resultOf(err), detail)
		return toStatus(err)
	}
	if err != nil || a.Agent != id.ID {
		s.recordRPC(ctx, audit.KindStreamOpen, rpcWaitApproval, id, resultOf(errApprovalNotFound), detail)
		return toStatus(errApprovalNotFound)
	}
	if werr := s.recordRPC(ctx, audit.KindStreamOpen, rpcWaitApproval, id, "ok", detail); werr != nil {
		return toStatus(werr)
	}
	end := "client"
	defer func() {
		s.recordRPC(ctx, audit.KindStreamClose, rpcWaitApproval, id, end, map[string]any{
			"approval_id": aid, "duration_ms": time.Since(start).Milliseconds()})
	}()
	var last *bollardv1.WaitApprovalResponse
	for {
		msg := waitMessage(a)
		if last == nil || msg.GetState() != last.GetState() || msg.GetApprovalsGiven() != last.GetApprovalsGiven() {
			if err := stream.Send(msg); err != nil {
				end = "send_failed"
				return err
			}
			last = msg
		}
		if a.State != approval.Pending {
			end = a.State.String()
			return nil
		}
		// Until something changes, or the approval's time is up.
		timer := time.NewTimer(time.Until(a.Expires) + time.Millisecond)
		select {
		case <-ctx.Done():
			timer.Stop()
			return status.FromContextError(ctx.Err()).Err()
		case <-s.shutdown:
			timer.Stop()
			end = "shutdown" // as WatchEvents' close records name it
			return toStatus(errShuttingDown)
		case <-changed:
		case <-timer.C:
		}
		timer.Stop()
		changed = s.approvals.Changed()
		if a, err = s.approvals.Get(aid); errors.Is(err, state.ErrUnavailable) {
			end = resultOf(err)
			return toStatus(err)
		} else if err != nil {
			end = "forgotten"
			return toStatus(errApprovalNotFound)
		}
	}
}

// waitMessage is what the agent learns of its approval: the state, the
// counts and a denial's reason; never who voted.
func waitMessage(a approval.Approval) *bollardv1.WaitApprovalResponse {
	m := &bollardv1.WaitApprovalResponse{
		ApprovalId: a.ID, State: stateOf(a.State), ApprovalsNeeded: int32(a.Requirement.Approvals),
		ApprovalsGiven: int32(a.Given()), ExpiresAt: timestamppb.New(a.Expires),
	}
	if a.State == approval.Denied {
		m.DenyReason = (&approvalDenied{a: a}).reason()
	}
	return m
}

func stateOf(s approval.State) bollardv1.ApprovalState {
	switch s {
	case approval.Pending:
		return bollardv1.ApprovalState_APPROVAL_STATE_PENDING
	case approval.Approved:
		return bollardv1.ApprovalState_APPROVAL_STATE_APPROVED
	case approval.Denied:
		return bollardv1.ApprovalState_APPROVAL_STATE_DENIED
	case approval.Expired:
		return bollardv1.ApprovalState_APPROVAL_STATE_EXPIRED
	case approval.Used:
		return bollardv1.ApprovalState_APPROVAL_STATE_USED
	}
	return bollardv1.ApprovalState_APPROVAL_STATE_UNSPECIFIED
}
