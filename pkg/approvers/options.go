package approvers

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/audit"
)

// Auditor writes audit records (*audit.Logger). Write returns an error
// when no sink took the record: the vote is then refused.
type Auditor interface {
	Write(ctx context.Context, r *audit.Record) error
}

// TargetReader reads what an approval's call would change (the user,
// group, app or policy it names) as it is now at Okta, read-only and with
// Bollard's own credential, masked as the audit record masks Okta's
// answers: GetApproval's target. It returns nil, nil when the call changes
// no existing object; an error leaves target unset, and is logged.
type TargetReader interface {
	ReadTarget(ctx context.Context, a approval.Approval) (*structpb.Struct, error)
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithTracerProvider traces each RPC as a bollard.approval.<RPC> span
// (default: no tracing).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(s *Server) { s.tracer = tp.Tracer("github.com/bollard-dev/bollard/pkg/approvers") }
}

// WithTargetReader lets GetApproval show the call's target (default: none,
// and target stays unset).
func WithTargetReader(r TargetReader) Option { return func(s *Server) { s.target = r } }

// WithClock replaces the clock that ends a watch when the caller's token
// expires, for tests. Give the approval store and the JWT verifier the
// same one.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Bounds of WatchApprovals: a console tab or a CLI holds one watch, so a
// person needs few; the service's total is far above a security team's.
const (
	DefaultMaxWatches          = 1000
	DefaultMaxWatchesPerPerson = 4
)

// WithMaxWatches bounds the watches open at once, in all and per person
// (by subject); past either, WatchApprovals is refused with
// RESOURCE_EXHAUSTED TOO_MANY_WATCHES. Non-positive values keep the
// defaults.
func WithMaxWatches(total, perPerson int) Option {
	return func(s *Server) {
		if total > 0 {
			s.watches.max = total
		}
		if perPerson > 0 {
			s.watches.perPerson = perPerson
		}
	}
}
