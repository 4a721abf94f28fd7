package sidecar

import (
	"context"
	"fmt"
	"time"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/state"
)

// buildApprovals makes the store of approvals that the gateway (the agents'
// side) and the approvers' service share, and that service when the
// approvers' identity provider is configured. The agent ids no person may
// vote as come from one place, for the store and the authenticator alike.
// With the redis state backend the approvals are the fleet's: created,
// decided, watched and used through any replica.
func (p *parts) buildApprovals(ctx context.Context, cfg config.Approvals) error {
	opts := []approval.Option{approval.WithAgents(p.isAgent), approval.WithLimits(cfg.MaxPending, cfg.MaxPendingPerAgent)}
	if p.state != nil {
		opts = append(opts, approval.WithShared(p.state.Part(state.PartApprovals)))
	}
	p.approvals = approval.New(opts...)
	// Its reader of the fleet's changes stops before the store closes
	// (closers run in reverse).
	p.onClose(func(context.Context) { _ = p.approvals.Close() })
	a := cfg.Approvers
	if a == nil {
		return nil
	}
	jopts := []identity.JWTOption{identity.WithIssuer(a.Issuer), identity.WithAudience(a.Audience),
		identity.WithIDClaim("sub"), identity.WithLeeway(a.Leeway), identity.WithLogger(p.log),
		identity.WithRefresh(15*time.Minute, 10*time.Second)}
	if a.JWKSFile != "" {
		jopts = append(jopts, identity.WithJWKSFile(a.JWKSFile))
	} else {
		jopts = append(jopts, identity.WithJWKSURL(a.JWKSURL))
	}
	v, err := identity.NewJWTVerifier(ctx, jopts...)
	if err != nil {
		return fmt.Errorf("approvals.approvers: set up JWT verification: %w", err)
	}
	auth, err := approvers.NewJWTAuthenticator(v, approvers.WithEmailClaim(a.EmailClaim), approvers.WithGroupsClaim(a.GroupsClaim), approvers.WithUserIDClaim(a.UserIDClaim),
		approvers.WithAgentIDs(p.isAgent), approvers.WithAgentCredentials(p.auth))
	if err != nil {
		return fmt.Errorf("approvals.approvers: %w", err)
	}
	p.approvers, err = approvers.New(p.approvals, auth, p.auditLog, approvers.WithLogger(p.log),
		approvers.WithTracerProvider(p.tel.TracerProvider()))
	if err != nil {
		return fmt.Errorf("approvals: %w", err)
	}
	return nil
}

// registerApprovers serves ApprovalService beside the gateway when it is
// configured.
func (p *parts) registerApprovers() {
	if p.approvers != nil {
		bollardv1.RegisterApprovalServiceServer(p.grpc, p.approvers)
	}
}
