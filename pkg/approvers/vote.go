package approvers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/trace"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/audit"
)

// Limits of a vote's request, as the proto states them.
const (
	maxIDLen      = 128
	maxCommentLen = 1024
)

// Approve casts the caller's approval.
func (s *Server) Approve(ctx context.Context, req *bollardv1.ApproveRequest) (*bollardv1.ApproveResponse, error) {
	var resp *bollardv1.ApproveResponse
	err := s.run(ctx, rpcApprove, func(ctx context.Context, c *call) error {
		a, err := s.vote(ctx, c, req.GetApprovalId(), req.GetComment(), true)
		resp = &bollardv1.ApproveResponse{Approval: a}
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// Deny refuses the call, with a reason.
func (s *Server) Deny(ctx context.Context, req *bollardv1.DenyRequest) (*bollardv1.DenyResponse, error) {
	var resp *bollardv1.DenyResponse
	err := s.run(ctx, rpcDeny, func(ctx context.Context, c *call) error {
		a, err := s.vote(ctx, c, req.GetApprovalId(), req.GetReason(), false)
		resp = &bollardv1.DenyResponse{Approval: a}
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// attempt is one Approve or Deny as its audit records name it.
type attempt struct {
	id         string // random, the same in each record of the attempt
	rpc        string
	via        via
	approvalID string
	approver   approval.Person // subject and email only
	approve    bool
	comment    string
}

// vote is Approve and Deny: checked in the order the proto promises,
// recorded, then cast. See the package doc for why in this order.
func (s *Server) vote(ctx context.Context, c *call, id, comment string, approve bool) (*bollardv1.Approval, error) {
	at := newAttempt(c, id, comment, approve)
	p, err := s.authenticate(ctx)
	if err != nil {
		var ae *AuthError
		if errors.As(err, &ae) {
			at.approver.Subject = ae.Subject
		}
		return nil, s.refuse(ctx, at, s.lookup(id), err)
	}
	got, err := s.voteAs(ctx, c, at, p, id, comment, approve)
	if err != nil {
		return nil, err
	}
	return toProto(got)
}

func newAttempt(c *call, id, comment string, approve bool) *attempt {
	c.approvalID = truncate(id, maxIDLen)
	return &attempt{id: rand.Text(), rpc: c.rpc, via: c.via, approvalID: c.approvalID, approve: approve,
		comment: truncate(strings.TrimSpace(comment), maxCommentLen)}
}

// voteAs is a vote of a person already authenticated: checked, recorded,
// then cast; the approval as the vote left it.
func (s *Server) voteAs(ctx context.Context, c *call, at *attempt, p Approver, id, comment string, approve bool) (approval.Approval, error) {
	c.subject = p.Subject
	at.approver = approval.Person{Subject: p.Subject, Email: p.Email}
	if f := checkVote(id, comment, approve); f != nil {
		return approval.Approval{}, s.refuse(ctx, at, s.lookup(id), f)
	}

	// Votes on one approval through this server take turns, so that the
	// state the record announces is the state the vote leaves.
	defer s.votes.lock(id)()
	next, err := s.store.Check(id, p.Person, approve, comment)
	c.traceParent = next.TraceParent
	if err != nil {
		return approval.Approval{}, s.refuse(ctx, at, next, storeFailure(err, next))
	}
	if err := s.record(ctx, at, next, nil, false); err != nil {
		return approval.Approval{}, auditFailure(err)
	}
	got, err := s.store.Vote(id, p.Person, approve, comment)
	if err != nil || got.State != next.State || len(got.Votes) != len(next.Votes) {
		// The approval changed between the check and the vote (it expired,
		// or was changed elsewhere): the record written above is not what
		// happened, and a second one says what did. Its failure is only
		// logged: the caller is told what became of the vote, and no vote
		// counted unrecorded.
		var f *failure
		if err != nil {
			f = storeFailure(err, got)
		}
		_ = s.record(ctx, at, got, f, true)
		if f != nil {
			return approval.Approval{}, f
		}
	}
	return got, nil
}

// checkVote is the validation of a vote's request, before the store.
func checkVote(id, comment string, approve bool) *failure {
	if f := checkID(id); f != nil {
		return f
	}
	field := "comment"
	if !approve {
		field = "reason"
	}
	switch {
	case len(comment) > maxCommentLen:
		return invalid(field, fmt.Sprintf("longer than %d bytes", maxCommentLen))
	case !approve && strings.TrimSpace(comment) == "":
		return invalid(field, "a denial needs a reason")
	}
	return nil
}

// lookup is the approval a refused vote names, for its record only; the
// caller is told nothing of it.
func (s *Server) lookup(id string) approval.Approval {
	if id == "" || len(id) > maxIDLen {
		return approval.Approval{}
	}
	a, _ := s.store.Get(id)
	return a
}

// refuse records a refused vote and returns why it was refused, or
// AUDIT_UNAVAILABLE when the refusal cannot be recorded: the audit failure
// outranks it, as it does for agents' calls.
func (s *Server) refuse(ctx context.Context, at *attempt, a approval.Approval, err error) error {
	f := classify(err)
	if werr := s.record(ctx, at, a, f, false); werr != nil {
		return auditFailure(fmt.Errorf("%w (the vote was refused: %w)", werr, f))
	}
	return f
}

// record writes the record of an attempt: accepted (f nil; a is the
// approval as the vote leaves it) or refused (a as it stood, or zero when
// unknown). late marks the second record of an attempt.
func (s *Server) record(ctx context.Context, at *attempt, a approval.Approval, f *failure, late bool) error {
	vote := "approve"
	if !at.approve {
		vote = "deny"
	}
	state := ""
	if a.ID != "" {
		state = a.State.String()
	}
	given := a.Given()
	detail := map[string]any{
		"rpc":              at.rpc,
		"via":              string(at.via),
		"attempt":          at.id,
		"approval_id":      at.approvalID,
		"approver":         map[string]any{"subject": at.approver.Subject, "email": at.approver.Email},
		"vote":             vote,
		"comment":          at.comment,
		"state":            state,
		"approvals_given":  given,
		"approvals_needed": a.Requirement.Approvals,
		"refusal":          "",
	}
	r := &audit.Record{Kind: audit.KindApproval, DecisionID: a.DecisionID, AgentID: a.Agent, Action: a.Action,
		Result: "ok", Detail: detail}
	if f != nil {
		r.Result, detail["refusal"] = f.kind.result, f.kind.reason
	}
	if late {
		detail["late"] = true
	}
	if sc := trace.SpanFromContext(ctx).SpanContext(); sc.HasTraceID() {
		r.TraceID = sc.TraceID().String()
	}
	ctx = context.WithoutCancel(ctx)
	if err := s.audit.Write(ctx, r); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "audit approval record not written", slog.String("approval_id", at.approvalID),
			slog.String("approver", at.approver.Subject), slog.String("result", r.Result), slog.String("error", err.Error()))
		return fmt.Errorf("audit approval record: %w", err)
	}
	return nil
}

// keyedLock is a mutex per key, held only while in use.
type keyedLock struct {
	mu   sync.Mutex
	held map[string]*keyEntry
}

type keyEntry struct {
	mu    sync.Mutex
	users int
}

// lock takes key's mutex and returns its release.
func (k *keyedLock) lock(key string) (unlock func()) {
	k.mu.Lock()
	e := k.held[key]
	if e == nil {
		e = &keyEntry{}
		k.held[key] = e
	}
	e.users++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.users--; e.users == 0 {
			delete(k.held, key)
		}
		k.mu.Unlock()
	}
}
