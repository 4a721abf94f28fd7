package sidecar

import (
	"context"
	"errors"

	"google.golang.org/grpc"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
)

// RunApprover serves the approvers of a whole fleet until ctx ends
// (`sidecar approver`): ApprovalService and the gRPC health service on the
// gRPC listener (TLS from server.tls), the web console and the probes on
// the admin listener, and the notifications. It serves no agent: no
// GatewayService, no policy, no event hooks, no MCP front. The fleet's
// approvals are in the shared store (state.backend redis), so people decide
// here what any sidecar's agents wait for; identity names the agents no
// person may act as, and okta is the org the approvals' targets are read
// from (GET only). cfg must pass Validate and ValidateApprover.
func RunApprover(ctx context.Context, cfg config.Config, opts ...Option) error {
	if err := cfg.ValidateApprover(); err != nil {
		return err
	}
	o := newRunOptions(opts)
	p, err := buildApprover(ctx, cfg, o)
	defer p.close(ctx)
	if err != nil {
		return err
	}
	return p.listenAndServe(ctx, cfg, o)
}

// buildApprover makes the parts approver mode needs, in build's order.
func buildApprover(ctx context.Context, cfg config.Config, o runOptions) (*parts, error) {
	p := &parts{log: o.logger}
	return p, p.runSteps(
		func() error { return p.buildTelemetry(ctx, o) },
		func() error { return p.buildTLS(cfg.Server.TLS) },
		func() error { return p.buildIdentity(ctx, cfg.Identity, o) },
		func() error { return p.buildState(ctx, cfg.State) },
		func() error { return p.buildOkta(ctx, cfg, o) },
		func() error { return p.buildAudit(cfg.Audit, o) },
		func() error { return p.buildApprovals(ctx, cfg.Approvals) },
		func() error { return p.buildApproverGRPC(cfg.Server) },
	)
}

// buildApproverGRPC makes the gRPC server of approver mode: ApprovalService
// with its own recovery and limits, health and reflection.
func (p *parts) buildApproverGRPC(cfg config.Server) error {
	if p.approvers == nil {
		return errors.New("approver mode: approvals.approvers is not set")
	}
	p.grpc = grpc.NewServer(append(p.approvers.ServerOptions(cfg.MaxConcurrentStreams),
		grpc.MaxRecvMsgSize(cfg.MaxRequestBytes), p.tel.GRPCServerOption())...)
	bollardv1.RegisterApprovalServiceServer(p.grpc, p.approvers)
	p.registerHealth()
	return nil
}

// mode names what the process serves, for its log lines and /readyz.
func (p *parts) mode() string {
	if p.gw == nil {
		return "approver"
	}
	return "sidecar"
}
