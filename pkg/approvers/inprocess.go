package approvers

import (
	"context"
	"errors"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/identity"
)

// The in-process API is ApprovalService for a caller in the same process
// that authenticated the person itself: the web console (package console)
// verifies the person's token with the same Authenticator when they sign
// in, then acts for them until the token's exp. Each method is the RPC of
// that name with the person given instead of read from the call's
// metadata: the same checks in the same order, the same audit records
// (detail.via "console"), spans and log lines. A person whose token has
// expired, or who names no subject, is refused as UNAUTHENTICATED (and a
// vote's refusal recorded), so that a stale session cannot act. The errors
// are for ReasonOf and MessageOf.

// PendingFor lists the pending approvals p may decide (ListApprovals of
// the pending state), oldest first, at most limit of them (MaxPageSize
// when limit is not in 1..MaxPageSize); more tells that others wait.
func (s *Server) PendingFor(ctx context.Context, p Approver, limit int) (list []approval.Approval, more bool, err error) {
	if limit < 1 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	if f := s.do(ctx, rpcList, viaConsole, func(ctx context.Context, c *call) error {
		c.subject = p.Subject
		if err := s.present(p); err != nil {
			return err
		}
		pending, err := s.store.List(approval.Pending)
		if err != nil {
			return storeFailure(err, approval.Approval{})
		}
		for _, a := range pending {
			if !a.Requirement.Qualifies(p.Person) {
				continue
			}
			if len(list) == limit {
				more = true
				break
			}
			list = append(list, a)
		}
		c.sent = len(list)
		return nil
	}); f != nil {
		return nil, false, f
	}
	return list, more, nil
}

// ApprovalFor is GetApproval: the approval when p is one of its approvers
// (NOT_AN_APPROVER before anything else is said of it otherwise), and its
// target as the server's TargetReader reads it now (nil without one, for a
// call that changes no existing object, or when it could not be read).
func (s *Server) ApprovalFor(ctx context.Context, p Approver, id string) (a approval.Approval, target *structpb.Struct, err error) {
	if f := s.do(ctx, rpcGet, viaConsole, func(ctx context.Context, c *call) error {
		c.approvalID, c.subject = truncate(id, maxIDLen), p.Subject
		if err := s.present(p); err != nil {
			return err
		}
		a, target, err = s.getFor(ctx, c, p, id)
		return err
	}); f != nil {
		return approval.Approval{}, nil, f
	}
	return a, target, nil
}

// ApproveAs is Approve: p's approval, with an optional comment, recorded
// before it counts. It returns the approval as the vote left it.
func (s *Server) ApproveAs(ctx context.Context, p Approver, id, comment string) (approval.Approval, error) {
	return s.voteIn(ctx, rpcApprove, p, id, comment, true)
}

// DenyAs is Deny: p refuses the call, with a reason (required), recorded
// before it counts.
func (s *Server) DenyAs(ctx context.Context, p Approver, id, reason string) (approval.Approval, error) {
	return s.voteIn(ctx, rpcDeny, p, id, reason, false)
}

func (s *Server) voteIn(ctx context.Context, rpc string, p Approver, id, comment string, approve bool) (got approval.Approval, err error) {
	if f := s.do(ctx, rpc, viaConsole, func(ctx context.Context, c *call) error {
		at := newAttempt(c, id, comment, approve)
		if err := s.present(p); err != nil {
			// Named nowhere, as an unauthenticated RPC's record.
			return s.refuse(ctx, at, s.lookup(id), err)
		}
		got, err = s.voteAs(ctx, c, at, p, id, comment, approve)
		return err
	}); f != nil {
		return approval.Approval{}, f
	}
	return got, nil
}

// present checks that an approver the caller vouches for still stands: a
// subject, and a token that has not expired by the server's clock.
func (s *Server) present(p Approver) error {
	switch {
	case p.Subject == "":
		return unauthenticated(identity.ReasonMissingClaim, errors.New("the approver has no subject"))
	case !p.Expires.After(s.now()):
		return tokenExpired()
	}
	return nil
}

// ReasonOf is the ErrorInfo reason a gRPC caller would get for an error of
// the in-process API (NOT_AN_APPROVER, ALREADY_VOTED, ...: the Reason
// constants; INTERNAL for an error that is not the service's); "" for nil
// and for a call canceled or past its deadline, which carry none.
func ReasonOf(err error) string {
	if err == nil {
		return ""
	}
	return classify(err).kind.reason
}

// MessageOf is the fixed sentence a gRPC caller would get for an error of
// the in-process API: safe to show the person, it never repeats what the
// error wraps.
func MessageOf(err error) string {
	if err == nil {
		return ""
	}
	return classify(err).message()
}
