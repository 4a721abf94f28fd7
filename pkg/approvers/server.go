package approvers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/identity"
)

// The RPCs, as spans, log lines and records name them.
const (
	rpcList    = "ListApprovals"
	rpcGet     = "GetApproval"
	rpcApprove = "Approve"
	rpcDeny    = "Deny"
	rpcWatch   = "WatchApprovals"
)

// Span attributes. The token is never one.
const (
	attrApprovalID = "bollard.approval.id"
	attrSubject    = "bollard.approver.subject"
	attrResult     = "bollard.result"
	attrSent       = "bollard.approvals.sent"
)

// Server is ApprovalService: the people policy names list, read, approve
// and deny agents' calls that wait for them. It is safe for concurrent use.
type Server struct {
	bollardv1.UnimplementedApprovalServiceServer

	store  *approval.Store
	auth   Authenticator
	audit  Auditor
	target TargetReader
	tracer trace.Tracer
	log    *slog.Logger
	now    func() time.Time
	// after is the timer of watches (the token's expiry, the next
	// approval's), replaced in tests.
	after   func(time.Duration) <-chan time.Time
	pageKey []byte
	votes   keyedLock
	watches watchCount

	closed    chan struct{}
	closeOnce sync.Once
}

var _ bollardv1.ApprovalServiceServer = (*Server)(nil)

// New returns the service over store. Every RPC authenticates its caller
// with auth; every vote is recorded by auditor first, and refused when it
// cannot be.
func New(store *approval.Store, auth Authenticator, auditor Auditor, opts ...Option) (*Server, error) {
	if store == nil || auth == nil || auditor == nil {
		return nil, errors.New("approvers: a store, an authenticator and an audit log are required")
	}
	s := &Server{store: store, auth: auth, audit: auditor, tracer: noop.NewTracerProvider().Tracer(""),
		log: slog.New(slog.DiscardHandler), now: time.Now, after: time.After,
		pageKey: make([]byte, 32), votes: keyedLock{held: map[string]*keyEntry{}}, closed: make(chan struct{}),
		watches: watchCount{max: DefaultMaxWatches, perPerson: DefaultMaxWatchesPerPerson, held: map[string]int{}}}
	rand.Read(s.pageKey) // never fails on supported platforms
	for _, o := range opts {
		o(s)
	}
	if s.tracer == nil || s.log == nil || s.now == nil {
		return nil, errors.New("approvers: the tracer, logger and clock must not be nil")
	}
	return s, nil
}

// Close ends every watch with UNAVAILABLE (SHUTTING_DOWN), and refuses new
// ones: grpc.Server.GracefulStop waits for streams, and a watch does not
// end by itself. Other RPCs go on being served.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

// via is how a call came: through ApprovalService, or in process from
// the web console (console.go). Log lines and vote records name it.
type via string

const (
	viaAPI     via = "api"
	viaConsole via = "console"
)

// call is one RPC as it runs: what its span and log line name.
type call struct {
	rpc        string
	via        via
	approvalID string
	subject    string
	sent       int
	// traceParent is the asking call's, when the approval was read: the
	// span links to the agent's trace.
	traceParent string
}

// run is the boundary of every RPC: do, and the error mapped to the
// status the caller gets. The full error is logged; the caller gets its
// row's fixed sentence.
func (s *Server) run(ctx context.Context, rpc string, fn func(context.Context, *call) error) error {
	if f := s.do(ctx, rpc, viaAPI, fn); f != nil {
		return toStatus(f)
	}
	return nil
}

// do is the boundary of every call, through the API or in process: one
// span, one log line, panics turned into INTERNAL, and the error
// classified.
func (s *Server) do(ctx context.Context, rpc string, v via, fn func(context.Context, *call) error) (f *failure) {
	ctx, span := s.tracer.Start(ctx, "bollard.approval."+rpc, trace.WithSpanKind(trace.SpanKindInternal))
	c := &call{rpc: rpc, via: v}
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(ctx, "panic in approvals handler", "rpc", rpc, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			f = &failure{kind: kindInternal, err: fmt.Errorf("panic: %v", r)}
		}
		result := "ok"
		if f != nil {
			result = f.kind.result
		}
		span.SetAttributes(attribute.String(attrResult, result), attribute.String(attrSubject, c.subject))
		if c.approvalID != "" {
			span.SetAttributes(attribute.String(attrApprovalID, c.approvalID))
		}
		if sc, ok := parseTraceParent(c.traceParent); ok {
			span.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{attribute.String("bollard.link", "agent_call")}})
		}
		if rpc == rpcList || rpc == rpcWatch {
			span.SetAttributes(attribute.Int(attrSent, c.sent))
		}
		attrs := []slog.Attr{slog.String("rpc", rpc), slog.String("via", string(v)), slog.String("result", result), slog.String("approver", c.subject),
			slog.String("approval_id", c.approvalID), slog.Duration("took", time.Since(start))}
		switch {
		case f == nil:
			s.log.LogAttrs(ctx, slog.LevelDebug, "approvals call", attrs...)
		case f.kind.fault:
			span.SetStatus(otelcodes.Error, result)
			s.log.LogAttrs(ctx, slog.LevelError, "approvals call failed", append(attrs, slog.String("error", f.Error()))...)
		default:
			s.log.LogAttrs(ctx, slog.LevelInfo, "approvals call refused", append(attrs, slog.String("error", f.Error()))...)
		}
		span.End()
	}()
	return classify(fn(ctx, c))
}

// authenticate verifies the person behind the call's `authorization:
// Bearer`. Whatever the authenticator says that is not a person fails
// closed.
func (s *Server) authenticate(ctx context.Context) (Approver, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	cred, err := identity.FromMetadata(md)
	if err != nil {
		return Approver{}, unauthenticated(identity.ReasonOf(err), err)
	}
	p, err := s.auth.Authenticate(ctx, cred)
	var ae *AuthError
	switch {
	case err != nil && !errors.As(err, &ae):
		return Approver{}, unauthenticated(identity.ReasonMalformed, err)
	case err != nil:
		return Approver{}, err
	case p.Subject == "":
		return Approver{}, unauthenticated(identity.ReasonMissingClaim, errors.New("the authenticator named no subject"))
	}
	return p, nil
}

// checkID is the approval_id rule of every RPC that takes one.
func checkID(id string) *failure {
	switch {
	case id == "":
		return invalid("approval_id", "empty")
	case len(id) > maxIDLen:
		return invalid("approval_id", fmt.Sprintf("longer than %d bytes", maxIDLen))
	}
	return nil
}

// ListApprovals lists the approvals the caller is an approver of.
func (s *Server) ListApprovals(ctx context.Context, req *bollardv1.ListApprovalsRequest) (*bollardv1.ListApprovalsResponse, error) {
	var resp *bollardv1.ListApprovalsResponse
	err := s.run(ctx, rpcList, func(ctx context.Context, c *call) (err error) {
		resp, err = s.list(ctx, c, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// GetApproval returns one approval the caller is an approver of.
func (s *Server) GetApproval(ctx context.Context, req *bollardv1.GetApprovalRequest) (*bollardv1.GetApprovalResponse, error) {
	var resp *bollardv1.GetApprovalResponse
	err := s.run(ctx, rpcGet, func(ctx context.Context, c *call) error {
		a, err := s.get(ctx, c, req.GetApprovalId())
		resp = &bollardv1.GetApprovalResponse{Approval: a}
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (s *Server) get(ctx context.Context, c *call, id string) (*bollardv1.Approval, error) {
	c.approvalID = truncate(id, maxIDLen)
	p, err := s.authenticate(ctx)
	if err != nil {
		return nil, err
	}
	a, target, err := s.getFor(ctx, c, p, id)
	if err != nil {
		return nil, err
	}
	out, err := toProto(a)
	if err != nil {
		return nil, err
	}
	out.Target = target
	return out, nil
}

// getFor is GetApproval for a person already authenticated: the approval
// and, when a TargetReader is set and reads it, its target.
func (s *Server) getFor(ctx context.Context, c *call, p Approver, id string) (approval.Approval, *structpb.Struct, error) {
	c.approvalID = truncate(id, maxIDLen)
	c.subject = p.Subject
	if f := checkID(id); f != nil {
		return approval.Approval{}, nil, f
	}
	a, err := s.store.Get(id)
	if err != nil {
		return approval.Approval{}, nil, storeFailure(err, a)
	}
	// Before anything else is read or said of it.
	if !a.Requirement.Qualifies(p.Person) {
		return approval.Approval{}, nil, &failure{kind: kindNotApprover, err: fmt.Errorf("%s is not an approver of %s", p.Subject, id)}
	}
	if s.target == nil {
		return a, nil, nil
	}
	t, err := s.target.ReadTarget(ctx, a)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "approval target not read", slog.String("approval_id", id), slog.String("error", err.Error()))
		return a, nil, nil
	}
	return a, t, nil
}

// truncate keeps at most n bytes of s, whole characters only.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// parseTraceParent reads a W3C traceparent (version 00) as the gateway
// writes it.
func parseTraceParent(tp string) (trace.SpanContext, bool) {
	parts := strings.Split(tp, "-")
	if len(parts) != 4 || parts[0] != "00" {
		return trace.SpanContext{}, false
	}
	tid, err1 := trace.TraceIDFromHex(parts[1])
	sid, err2 := trace.SpanIDFromHex(parts[2])
	flags, err3 := hex.DecodeString(parts[3])
	if err1 != nil || err2 != nil || err3 != nil || len(flags) != 1 {
		return trace.SpanContext{}, false
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(flags[0]), Remote: true})
	return sc, sc.IsValid()
}
