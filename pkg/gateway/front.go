package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/identity"
)

// The fronts a call can come through, as the audit record names them.
const (
	FrontGRPC = "grpc"
	FrontMCP  = "mcp"
)

// frontKey carries a call from a front other than gRPC: its name and the
// credential it was sent with. Its presence is what tells the pipeline it
// is not on a gRPC stream (no headers or trailers to set).
type frontKey struct{}

type frontCall struct{ name, credential string }

// withFront marks ctx as a call of the named front, with its credential.
func withFront(ctx context.Context, name, credential string) context.Context {
	return context.WithValue(ctx, frontKey{}, frontCall{name: name, credential: credential})
}

// frontOf is the front of the call in ctx: FrontGRPC unless another front
// entered the pipeline.
func frontOf(ctx context.Context) string {
	if f, ok := ctx.Value(frontKey{}).(frontCall); ok {
		return f.name
	}
	return FrontGRPC
}

// onGRPC reports whether the call in ctx came through gRPC, whose stream
// carries the decision id header and the audit trailer.
func onGRPC(ctx context.Context) bool {
	_, other := ctx.Value(frontKey{}).(frontCall)
	return !other
}

// credentialOf is the credential of the call in ctx, parsed by the same rule
// whichever front it came through: another front's Authorization value, or
// gRPC's authorization metadata.
func credentialOf(ctx context.Context) (string, error) {
	if f, ok := ctx.Value(frontKey{}).(frontCall); ok {
		return identity.FromMetadata(metadata.Pairs("authorization", f.credential))
	}
	md, _ := metadata.FromIncomingContext(ctx)
	return identity.FromMetadata(md)
}

// FrontRequest is one call from a front other than gRPC, as Execute takes it.
type FrontRequest struct {
	Action string
	Params map[string]any
	// Confirmation is a token the pipeline issued for this very call
	// (agent, action, parameters); empty on a first call.
	Confirmation string
	// ApprovalID is the approval an earlier APPROVAL_PENDING answer named,
	// once a person approved it; empty otherwise.
	ApprovalID string
}

// FrontResult is a call carried out at Okta.
type FrontResult struct {
	DecisionID string
	// Body is Okta's answer with what policy hides removed; empty when Okta
	// sent no body.
	Body          json.RawMessage
	NextCursor    string
	OktaStatus    int
	OktaRequestID string
	// AuditPending is true when the outcome record waits in the spool.
	AuditPending bool
}

// Call runs one call of the named front through the pipeline, with the
// Authorization value it came with (for example "Bearer <key>"): the same
// steps, records, spans, metrics and budgets as Execute. A refusal or a
// failure is a *FrontError.
func (s *Server) Call(ctx context.Context, front, authorization string, req FrontRequest) (*FrontResult, error) {
	out, err := s.run(withFront(ctx, front, authorization), request{action: req.Action, params: req.Params, confirmation: req.Confirmation, approvalID: req.ApprovalID})
	if err != nil {
		fe := frontError(err, out.id)
		if fe.confirmationToken != "" {
			fe.held = holdFor(out)
		}
		return nil, fe
	}
	res := &FrontResult{DecisionID: out.decision.ID, AuditPending: out.auditPending}
	if o := out.okta; o != nil {
		res.Body, res.NextCursor, res.OktaStatus, res.OktaRequestID = o.Body, o.NextCursor, o.Status, o.RequestID
	}
	return res, nil
}

// AllowedActions is ListActions for another front: the actions the caller
// may use now, decided, recorded and refused exactly as ListActions does.
func (s *Server) AllowedActions(ctx context.Context, front, authorization string) ([]*bollardv1.ActionInfo, error) {
	resp, err := s.ListActions(withFront(ctx, front, authorization), &bollardv1.ListActionsRequest{})
	if err != nil {
		return nil, statusError(status.Convert(err), "")
	}
	return resp.GetActions(), nil
}

// Authenticate identifies the caller of another front from its
// Authorization value, by the pipeline's own rule, so that the front can
// refuse an unauthenticated request before any call is made.
func (s *Server) Authenticate(ctx context.Context, authorization string) (identity.Identity, error) {
	return s.authenticate(withFront(ctx, "", authorization))
}

// FrontError is a refused or failed call as any front reports it: the code,
// reason, message and metadata of the status gRPC would have answered with
// (toStatus: one error table), so that an agent learns the same whichever
// front it uses.
type FrontError struct {
	Code     codes.Code
	Reason   string
	Message  string
	Metadata map[string]string
	// DecisionID is the call's id (the bollard-decision-id header of gRPC).
	DecisionID string
	Violations []FieldViolation
	RetryAfter time.Duration

	confirmationToken string
	confirmationUntil time.Time
	// held is the call the token was issued for, when Call issued one.
	held *heldCall
}

// FieldViolation is one bad field of a request.
type FieldViolation struct{ Field, Description string }

func (e *FrontError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s (%s): %s", e.Code, e.Reason, e.Message)
}

// Confirmation is the token the pipeline issued when policy requires
// confirmation, bound to this agent, action and parameters. It is kept out
// of Metadata: a front asks a person first and sends it back itself; the
// agent never sees it.
func (e *FrontError) Confirmation() (token string, expires time.Time, ok bool) {
	return e.confirmationToken, e.confirmationUntil, e.confirmationToken != ""
}

// frontError is the FrontError of a pipeline error.
func frontError(err error, decisionID string) *FrontError {
	return statusError(status.Convert(toStatus(err)), decisionID)
}

func statusError(st *status.Status, decisionID string) *FrontError {
	fe := &FrontError{Code: st.Code(), Message: st.Message(), DecisionID: decisionID}
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			fe.Reason, fe.Metadata = d.GetReason(), d.GetMetadata()
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fe.Violations = append(fe.Violations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case *errdetails.RetryInfo:
			fe.RetryAfter = d.GetRetryDelay().AsDuration()
		}
	}
	if tok, ok := fe.Metadata["confirmation_token"]; ok {
		fe.confirmationToken = tok
		fe.confirmationUntil, _ = time.Parse(time.RFC3339, fe.Metadata["expires_at"])
		delete(fe.Metadata, "confirmation_token")
	}
	if fe.DecisionID == "" {
		fe.DecisionID = fe.Metadata["decision_id"]
	}
	return fe
}
