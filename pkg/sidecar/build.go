package sidecar

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvalnotify"
	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/gateway"
	"github.com/bollard-dev/bollard/pkg/mcpfront"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/target"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// parts are what Run builds from a config before anything listens.
type parts struct {
	log      *slog.Logger
	tel      *telemetry.Telemetry
	auth     gateway.Authenticator
	isAgent  func(string) bool // the agent ids no person may act under
	engine   *decision.Engine
	shadow   *decision.Engine // the candidate policy; nil when none
	inst     *telemetry.Instruments
	instRef  atomic.Pointer[telemetry.Instruments] // for the engine's reload observer, set once inst exists
	okta     *forward.Client
	auditLog *audit.Logger
	hooks    *hookReceiver                   // nil when event hooks are off
	mcp      *mcpfront.Server                // nil when the MCP front is off
	mcpRef   atomic.Pointer[mcpfront.Server] // for the engine's reload observer
	state    *state.Store                    // nil with the memory backend
	gw       *gateway.Server
	// approvals is the store of approvals the gateway, the approvers'
	// service and the notifier share; approvers is that service and
	// notifier the webhook, each nil unless configured.
	approvals *approval.Store
	approvers *approvers.Server
	// approverAuth verifies people's tokens, for the service and the
	// console alike; console is the web console, nil unless enabled (built
	// once the admin listener is bound).
	approverAuth approvers.Authenticator
	console      http.Handler
	notifier     *approvalnotify.Notifier
	certs        *certFiles // server.tls; nil: plaintext
	grpc         *grpc.Server
	health       *health.Server
	closers      []func(ctx context.Context) // what build opened, closed in reverse by close
}

// build makes the parts, one step at a time, each using what the steps
// before it made. Whatever it returns, even with an error, the caller
// closes: what was opened before a failed step is closed then.
func build(ctx context.Context, cfg config.Config, o runOptions) (*parts, error) {
	p := &parts{log: o.logger}
	return p, p.runSteps(
		func() error { return p.buildTelemetry(ctx, o) },
		func() error { return p.buildTLS(cfg.Server.TLS) },
		func() error { return p.buildIdentity(ctx, cfg.Identity, o) },
		func() error { return p.buildPolicy(ctx, cfg.Policy) },
		func() error { return p.buildState(ctx, cfg.State) }, // the Okta client shares its limits through it
		func() error { return p.buildOkta(ctx, cfg, o) },
		func() error { return p.buildAudit(cfg.Audit, o) },
		func() error { return p.buildHooks(cfg.Hooks) },
		func() error { return p.buildApprovals(ctx, cfg.Approvals) },
		func() error { return p.buildGateway(cfg) },
		func() error { return p.buildGRPC(cfg.Server) },
		func() error { return p.buildMCP(cfg, o.version) },
	)
}

// runSteps runs the build steps in order, stopping at the first error.
func (p *parts) runSteps(steps ...func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// close closes what build opened, last opened first: the audit log after
// the engines, telemetry last so that it flushes what the others reported.
func (p *parts) close(ctx context.Context) {
	for _, c := range slices.Backward(p.closers) {
		c(ctx)
	}
}

func (p *parts) onClose(f func(ctx context.Context)) { p.closers = append(p.closers, f) }

func (p *parts) buildTelemetry(ctx context.Context, o runOptions) error {
	tel, err := telemetry.Setup(ctx, append([]telemetry.Option{telemetry.WithVersion(o.version), telemetry.WithLogger(p.log)}, o.telOpts...)...)
	if err != nil {
		return fmt.Errorf("telemetry (OTEL_* environment): %w", err)
	}
	p.tel = tel
	p.onClose(func(ctx context.Context) {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tel.Shutdown(flushCtx)
	})
	tel.SetGlobal()
	return nil
}

// buildIdentity authenticates agents as configured, unless dev mode
// brought its own authenticator.
func (p *parts) buildIdentity(ctx context.Context, cfg config.Identity, o runOptions) error {
	if p.auth, p.isAgent = o.auth, o.isAgent; p.auth != nil {
		if p.isAgent == nil {
			p.isAgent = func(string) bool { return false }
		}
		return nil
	}
	var err error
	p.auth, p.isAgent, err = newAuthenticator(ctx, cfg, p.log)
	return err
}

// buildPolicy loads the enforced policy and the candidate one, if any.
func (p *parts) buildPolicy(ctx context.Context, cfg config.Policy) error {
	// The instruments need the engine (its revision) and the engine reports
	// reloads to the instruments: the pointer is set once both exist.
	engineOpts := []decision.Option{decision.WithLogger(p.log), decision.WithEvalTimeout(cfg.EvalTimeout),
		decision.WithReloadObserver(func(ok bool) {
			p.instRef.Load().PolicyReload(context.Background(), ok)
			if ok {
				p.policyChanged()
			}
		})}
	source, err := policySource(cfg.Dir, cfg.Bundle)
	if err != nil {
		return err
	}
	if p.engine, err = decision.New(ctx, append(engineOpts, source...)...); err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	p.onClose(func(context.Context) { p.engine.Close() })
	if p.shadow, err = shadowEngine(ctx, cfg, p.log); err != nil {
		return err
	}
	if p.shadow != nil {
		p.onClose(func(context.Context) { p.shadow.Close() })
	}
	if len(cfg.DryRunAgents) > 0 {
		p.log.Warn("dry-run: these agents' calls go ahead when the policy denies them", "agents", cfg.DryRunAgents)
	}
	return nil
}

// buildOkta makes the instruments and the Okta client, which report to each
// other.
func (p *parts) buildOkta(ctx context.Context, cfg config.Config, o runOptions) error {
	cred, err := buildCredential(ctx, cfg.Okta, o, p.log)
	if err != nil {
		return err
	}
	if p.inst, err = telemetry.NewInstruments(p.tel.MeterProvider(), p.observed()); err != nil {
		return err
	}
	p.instRef.Store(p.inst)
	opts := []forward.Option{forward.WithCredential(cred), forward.WithTimeout(cfg.Okta.Timeout),
		forward.WithUserAgent("bollard/" + o.version), forward.WithLogger(p.log),
		forward.WithConcurrency(cfg.Limits.OktaMaxInFlight, cfg.Limits.OktaMaxWaiting), forward.WithReserve(cfg.Limits.OktaReserve),
		forward.WithTracerProvider(p.tel.TracerProvider()), forward.WithInstruments(p.inst)}
	if p.state != nil {
		// Okta's limits are per org: the fleet keeps them once.
		opts = append(opts, forward.WithSharedLimits(p.state.Part(state.PartOktaLimits), cfg.Limits.OktaFleetMaxInFlight))
	}
	if p.okta, err = forward.New(cfg.Okta.OrgURL, opts...); err != nil {
		return err
	}
	if p.state != nil {
		// Calls decide on the fleet's picture in memory; this keeps it in
		// step, and stops before the store closes (closers run in reverse).
		share, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() { defer close(done); p.okta.ShareLimits(share) }()
		p.onClose(func(context.Context) { stop(); <-done })
	}
	return nil
}

// observed are the gauges read at scrape time, from parts that may not
// exist yet when the first scrape comes.
func (p *parts) observed() telemetry.Observed {
	o := telemetry.Observed{
		OktaInFlightCap: func() int64 {
			if p.okta == nil {
				return 0
			}
			return int64(p.okta.InFlightCap())
		},
		AuditPending: func() int64 {
			if p.auditLog == nil { // a scrape before the log is open
				return 0
			}
			return int64(p.auditLog.Pending())
		},
		RateLimitRemaining: func() map[string]int64 {
			if p.okta == nil { // a scrape before the client exists
				return nil
			}
			return p.okta.RateLimitRemaining()
		},
	}
	if p.engine != nil { // approver mode has none
		o.PolicyRevision = p.engine.Revision
	}
	if p.state != nil {
		o.StateAvailable = p.state.Available
	}
	return o
}

// buildTLS reads server.tls's certificate, when set, so that a pair that
// does not load stops the start rather than the first handshake.
func (p *parts) buildTLS(cfg *config.TLS) error {
	if cfg == nil {
		return nil
	}
	var err error
	p.certs, err = loadCertFiles(*cfg, p.log)
	return err
}

func (p *parts) buildAudit(cfg config.Audit, o runOptions) error {
	l, err := openAudit(cfg, o, p.log, p.inst, p.tel.TracerProvider())
	if err != nil {
		return err
	}
	p.auditLog = l
	// Closed after the gRPC server has drained (Run stops the servers
	// before it closes the parts): no record accepted for an answered call
	// is lost on SIGTERM.
	p.onClose(func(ctx context.Context) {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := l.Close(closeCtx); err != nil {
			p.log.Error("audit log close", "error", err)
		}
	})
	return nil
}

func (p *parts) buildHooks(cfg config.Hooks) error {
	if !cfg.Enabled() {
		return nil
	}
	var err error
	if p.hooks, err = newHookReceiver(cfg, p.log, p.tel.TracerProvider(), p.inst, p.auditLog, p.state.Part(state.PartEvents)); err != nil {
		return err
	}
	p.onClose(p.hooks.close) // before the store it reads closes
	return nil
}

func (p *parts) buildGateway(cfg config.Config) error {
	opts := []gateway.Option{gateway.WithDryRunAgents(cfg.Policy.DryRunAgents)}
	if p.shadow != nil {
		opts = append(opts, gateway.WithShadow(p.shadow))
	}
	// Without lookups the resolver still lists the apps and policies a call
	// names (by id, no lookup) and reports every user and group unresolved,
	// so that the policy refuses changes to them rather than guess.
	var lookups target.Doer = p.okta
	if !cfg.Policy.Target.LookupEnabled() {
		lookups = nil
	}
	opts = append(opts, gateway.WithTargetResolver(target.New(lookups,
		target.WithTimeout(cfg.Policy.Target.Timeout), target.WithLogger(p.log))))
	if p.hooks != nil {
		opts = append(opts, gateway.WithEvents(p.hooks.hub))
	}
	opts = append(opts, p.impactOption(cfg)...)
	var err error
	p.gw, err = gateway.New(p.auth, p.engine, p.okta, append(opts, gateway.WithLogger(p.log), gateway.WithAuditor(p.auditLog),
		gateway.WithConfirmStore(p.confirmStore(cfg.Confirmation)),
		gateway.WithApprovalStore(p.approvals),
		gateway.WithBudget(p.budgets(cfg)),
		gateway.WithTracerProvider(p.tel.TracerProvider()), gateway.WithInstruments(p.inst),
		gateway.WithMaxConcurrentStreams(cfg.Server.MaxConcurrentStreams), gateway.WithWatchersPerAgent(cfg.Hooks.MaxWatchersPerAgent))...)
	return err
}

// buildGRPC makes the gRPC server with the gateway's services, reflection
// and grpc.health.v1 (not serving until Run says so).
func (p *parts) buildGRPC(cfg config.Server) error {
	p.grpc = grpc.NewServer(append(p.gw.ServerOptions(), grpc.MaxRecvMsgSize(cfg.MaxRequestBytes), p.tel.GRPCServerOption())...)
	if err := p.gw.Register(p.grpc); err != nil {
		return err
	}
	p.registerApprovers()
	p.registerHealth()
	return nil
}

// registerHealth adds grpc.health.v1 (not serving until Run says so) and
// reflection, in either mode.
func (p *parts) registerHealth() {
	p.health = health.NewServer()
	healthpb.RegisterHealthServer(p.grpc, p.health)
	reflection.Register(p.grpc)
}
