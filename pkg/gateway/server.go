package gateway

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/hooks"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/impact"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// Authenticator identifies the caller from its credential (pkg/identity).
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (identity.Identity, error)
}

// Decider decides a call (pkg/decision). It never fails: errors deny.
type Decider interface {
	Decide(ctx context.Context, in decision.Input) decision.Decision
}

// Forwarder performs a call at Okta (pkg/forward).
type Forwarder interface {
	Do(ctx context.Context, call *catalog.Call, decisionID string) (*forward.Response, error)
}

// Auditor records every call (pkg/audit). Write returns only once a record
// is safe with at least one sink, or an error when none could take it.
// Spool keeps a record that must not be lost, for a call already carried
// out at Okta, to write it once a sink can.
type Auditor interface {
	Write(ctx context.Context, r *audit.Record) error
	Spool(ctx context.Context, r *audit.Record) error
	Ready() error
}

// Server implements bollard.v1.GatewayService and the typed services.
type Server struct {
	bollardv1.UnimplementedGatewayServiceServer

	auth    Authenticator
	decider Decider
	confirm *confirm.Store
	// approvals keeps the calls that wait for a person's approval.
	approvals *approval.Store
	budget    Budget
	impact    impact.Tracker
	target    TargetResolver
	okta      Forwarder
	// shadow decides every call again with a candidate policy, for the
	// record only; nil without one.
	shadow Decider
	// dryRunAgents are the agents whose denials are recorded, not enforced.
	dryRunAgents map[string]bool
	// events is the hub of received Okta events; nil when this sidecar
	// receives no event hooks (WatchEvents then fails).
	events       *hooks.Hub
	eventDecider EventDecider
	// watchers counts each agent's WatchEvents streams.
	watchers *watchSlots
	// maxStreams bounds concurrent RPCs on one connection.
	maxStreams uint32
	// maxPages is the page budget of ExecuteAll when policy sets none.
	maxPages int
	tracer   trace.Tracer
	inst     *telemetry.Instruments
	audit    Auditor
	log      *slog.Logger
	now      func() time.Time

	// shutdown is closed by Shutdown.
	shutdown     chan struct{}
	shutdownOnce sync.Once
}

var _ bollardv1.GatewayServiceServer = (*Server)(nil)

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithClock replaces the clock that stamps the policy input, for tests.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithApprovalStore replaces the store of approvals (default:
// approval.New(), this process's own).
func WithApprovalStore(a *approval.Store) Option { return func(s *Server) { s.approvals = a } }

// WithConfirmStore replaces the confirmation store (default: confirm.New()).
func WithConfirmStore(c *confirm.Store) Option { return func(s *Server) { s.confirm = c } }

// WithTracerProvider traces each call as a bollard.decide span, parent of
// the Okta client spans (default: no tracing).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(s *Server) { s.tracer = tp.Tracer("github.com/bollard-dev/bollard/pkg/gateway") }
}

// WithAuditor records every call, allowed or not, before the reply leaves;
// when it cannot, the call fails closed (default: no audit log).
func WithAuditor(a Auditor) Option { return func(s *Server) { s.audit = a } }

// WithInstruments records decisions as metrics (default: none).
func WithInstruments(in *telemetry.Instruments) Option { return func(s *Server) { s.inst = in } }

// WithPageBudget sets how many pages ExecuteAll follows when policy sets no
// page_budget obligation (default 1,000).
func WithPageBudget(n int) Option { return func(s *Server) { s.maxPages = n } }

// Budget is the agents' request budgets (pkg/budget): this replica's own
// (*budget.Limiter) or the fleet's (*budget.Shared). Spend takes one call
// from the agent's budget, or says how long until one is available; its
// error means the budget could not be consulted (wrapping
// state.ErrUnavailable when the store the fleet shares cannot be reached),
// and the call does not go.
type Budget interface {
	Spend(ctx context.Context, agent string) (ok bool, retryAfter time.Duration, err error)
	Limit(agent string) int
}

// WithBudget sets per-agent request budgets (default: none).
func WithBudget(b Budget) Option { return func(s *Server) { s.budget = b } }

// WithImpactCounter sets the counter of destructive calls whose counts the
// policy input carries (default: a fresh impact.New(); impact.NewShared
// for a fleet).
func WithImpactCounter(c impact.Tracker) Option { return func(s *Server) { s.impact = c } }

// WithTargetResolver looks up facts about a call's target for the policy
// input (default: none, and input.context has no target).
func WithTargetResolver(r TargetResolver) Option { return func(s *Server) { s.target = r } }

// WithShadow decides every call with a candidate policy as well: the
// difference is counted, traced and audited, and never changes the outcome.
func WithShadow(d Decider) Option { return func(s *Server) { s.shadow = d } }

// WithDryRunAgents lets calls of these agents go ahead when the policy
// denies them (not when it fails): the denial is logged, traced and
// audited with dry_run set. For trying a new agent's policy out.
func WithDryRunAgents(ids []string) Option {
	return func(s *Server) {
		s.dryRunAgents = make(map[string]bool, len(ids))
		for _, id := range ids {
			s.dryRunAgents[id] = true
		}
	}
}

// WithEvents streams the events received by the hook receiver that feeds
// hub to watching agents, each event decided by policy. The decider must
// also decide events (pkg/decision does).
func WithEvents(hub *hooks.Hub) Option { return func(s *Server) { s.events = hub } }

// WithWatchersPerAgent bounds the WatchEvents streams one agent may hold at
// once (default DefaultWatchersPerAgent); the hub bounds them all.
func WithWatchersPerAgent(n int) Option {
	return func(s *Server) { s.watchers.perAgent = n }
}

// WithMaxConcurrentStreams bounds the RPCs one connection may have open at
// once (default DefaultMaxConcurrentStreams).
func WithMaxConcurrentStreams(n uint32) Option { return func(s *Server) { s.maxStreams = n } }

// New returns a Server running the pipeline over the given steps.
func New(auth Authenticator, decider Decider, okta Forwarder, opts ...Option) (*Server, error) {
	if auth == nil || decider == nil || okta == nil {
		return nil, errors.New("gateway: an authenticator, a decider and a forwarder are required")
	}
	s := &Server{auth: auth, decider: decider, okta: okta, log: slog.New(slog.DiscardHandler), now: time.Now, maxPages: 1000,
		tracer: noop.NewTracerProvider().Tracer(""), maxStreams: DefaultMaxConcurrentStreams,
		watchers: &watchSlots{perAgent: DefaultWatchersPerAgent, open: map[string]int{}}, shutdown: make(chan struct{})}
	for _, opt := range opts {
		opt(s)
	}
	if s.confirm == nil {
		s.confirm = confirm.New()
	}
	if s.approvals == nil {
		s.approvals = approval.New()
	}
	if s.budget == nil {
		s.budget = budget.New(0, nil)
	}
	if s.impact == nil {
		s.impact = impact.New()
	}
	if s.watchers.perAgent < 1 || s.maxStreams < 1 {
		return nil, errors.New("gateway: watchers per agent and concurrent streams must be at least 1")
	}
	if ed, ok := decider.(EventDecider); ok {
		s.eventDecider = ed
	}
	return s, nil
}

// Shutdown ends every WaitApproval stream with UNAVAILABLE SHUTTING_DOWN,
// its close record saying so, and refuses new ones the same way:
// grpc.Server.GracefulStop waits for every stream, and a wait ends by
// itself only when its approval does, up to a day later. Call it before
// GracefulStop. Other RPCs go on being served; WatchEvents streams end
// when their hub closes (WithEvents). Safe to call more than once.
func (s *Server) Shutdown() { s.shutdownOnce.Do(func() { close(s.shutdown) }) }

// Register adds the gateway service and every typed area service to g.
func (s *Server) Register(g grpc.ServiceRegistrar) error {
	gw := s.gatewayDesc()
	g.RegisterService(&gw, s)
	descs, err := typedServiceDescs(s)
	if err != nil {
		return err
	}
	for i := range descs {
		d := s.withDecodeRecords(descs[i])
		g.RegisterService(&d, s)
	}
	return nil
}
