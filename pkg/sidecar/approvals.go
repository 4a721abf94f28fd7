package sidecar

import (
	"context"
	"fmt"
	"net/http"
	"time"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/console"
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
	p.approverAuth, err = approvers.NewJWTAuthenticator(v, approvers.WithEmailClaim(a.EmailClaim), approvers.WithGroupsClaim(a.GroupsClaim), approvers.WithUserIDClaim(a.UserIDClaim),
		approvers.WithAgentIDs(p.isAgent), approvers.WithAgentCredentials(p.auth))
	if err != nil {
		return fmt.Errorf("approvals.approvers: %w", err)
	}
	target := approvalTarget{mask: p.auditLog, get: func(ctx context.Context, call *catalog.Call, decisionID string) ([]byte, error) {
		resp, err := p.okta.Do(ctx, call, decisionID)
		if err != nil {
			return nil, err
		}
		if resp.Status != http.StatusOK {
			return nil, fmt.Errorf("okta answered %d", resp.Status)
		}
		return resp.Body, nil
	}}
	p.approvers, err = approvers.New(p.approvals, p.approverAuth, p.auditLog, approvers.WithLogger(p.log),
		approvers.WithTracerProvider(p.tel.TracerProvider()), approvers.WithTargetReader(target))
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

// buildConsole makes the approvers' web console when it is enabled, once
// the admin listener it is served on is bound: its redirect URL may be
// that listener's address. It records the console's URLs in ls.addrs.
func (p *parts) buildConsole(cfg config.Approvals, ls *listeners) (http.Handler, error) {
	c := cfg.Console
	if c == nil || !c.Enabled || p.approvers == nil || ls.admin == nil {
		return nil, nil
	}
	redirect := c.CallbackURL(ls.addrs.Admin)
	h, err := console.New(console.Config{Issuer: cfg.Approvers.Issuer, ClientID: c.ClientID, RedirectURL: redirect,
		Auth: p.approverAuth, Approvals: p.approvers, Logger: p.log,
		Shared: p.state.Part(state.PartConsole)}) // nil with the memory backend: this process's sessions
	if err != nil {
		return nil, fmt.Errorf("approvals.console: %w", err)
	}
	ls.addrs.ConsoleURL, ls.addrs.ConsoleRedirectURL = h.Origin()+console.Prefix, redirect
	return h, nil
}
