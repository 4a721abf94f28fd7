package decision

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Engine evaluates the active policy. It is safe for concurrent use.
type Engine struct {
	opts   *options
	log    *slog.Logger
	src    source
	active atomic.Pointer[policySet]

	reloadMu sync.Mutex // one reload at a time; guards last
	last     outcome    // of the last content read from the source

	statusMu sync.Mutex
	status   Status

	stopWatch func() // nil when not watching
	closeOnce sync.Once
}

// outcome remembers how the last content read from the source fared, so
// that a source that still holds a rejected policy is not reported (logged,
// counted) as a new rejection at every reload or poll.
type outcome struct {
	digest string
	err    error
}

// New loads, compiles and prepares the policy, and starts watching its
// source (a policy directory or bundle file) or polling it (a bundle server)
// unless WithWatch(false) is given. It fails if the policy cannot be read,
// does not compile, its data does not load, or it does not define
// data.bollard.authz.decision.
func New(ctx context.Context, opts ...Option) (*Engine, error) {
	o := evaluateOptions(opts)
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("decision options: %w", err)
	}
	src := o.newSource()
	e := &Engine{opts: o, log: o.logger, src: src, status: Status{Source: src.describe()}}
	if s, ok := src.(*bundleURLSource); ok && strings.HasPrefix(s.url, "http:") && o.verify == nil {
		e.log.LogAttrs(ctx, slog.LevelWarn, "policy bundle fetched over plain HTTP without signature verification",
			slog.String("source", s.name))
	}
	if err := e.Reload(ctx); err != nil {
		return nil, fmt.Errorf("load policies from %s: %w", src.describe(), err)
	}
	if o.watch {
		stop, err := e.startWatch(context.WithoutCancel(ctx))
		if err != nil {
			return nil, fmt.Errorf("watch policies in %s: %w", src.describe(), err)
		}
		e.stopWatch = stop
	}
	return e, nil
}

// startWatch starts what reloads the policy in the background, if the
// source can change: it returns a nil stop function when it cannot.
func (e *Engine) startWatch(ctx context.Context) (stop func(), err error) {
	switch s := e.src.(type) {
	case fsSource:
		if e.opts.dir == "" {
			return nil, nil // an fs.FS: Reload re-reads it
		}
		return e.watch(ctx, e.opts.dir, nil)
	case *bundleFileSource:
		return e.watchFile(ctx, s.path)
	case *bundleURLSource:
		return e.poll(ctx, s.opts.PollInterval), nil
	}
	return nil, nil
}

// Decide evaluates the active policy for one call. It never fails: when the
// policy cannot give a well-formed answer in time the call is denied with
// CodePolicyError, and the cause is logged.
func (e *Engine) Decide(ctx context.Context, in Input) Decision {
	return e.decide(ctx, in, nil)
}

// decide is Decide, with a tracer for Explain (nil on the hot path).
// Explain evaluates without input.standing, so that the trace shows every
// rule the decision rests on.
func (e *Engine) decide(ctx context.Context, in Input, tr topdown.QueryTracer) Decision {
	start := time.Now()
	p := e.active.Load()
	stage := stageOf(in, p)
	id := in.DecisionID
	if id == "" {
		id = NewID(start)
	}
	d := Decision{ID: id, Revision: p.revision, stage: stage, set: p}
	var standing *ast.Term
	if tr == nil && in.Action != nil {
		standing = e.standingFor(ctx, p, in)
	}
	allow, deny, ob, err := e.eval(ctx, p, in, stage, standing, start, tr)
	e.settle(ctx, &d, allow, deny, ob, err, "policy", slog.String("action", actionName(in)), slog.String("agent", in.Agent.ID))
	d.Duration = time.Since(start)
	return d
}

// stageOf is the stage the engine decides: the one asked for, except that
// StageEffect, which leaves out what StageGrant decided, is decided as such
// only when the input continues an allowing StageGrant decision of this
// very policy; otherwise everything is decided (StageFull).
func stageOf(in Input, p *policySet) Stage {
	switch in.Stage {
	case StageGrant:
		return StageGrant
	case StageEffect:
		if a := in.After; a != nil && a.Allow && a.stage == StageGrant && a.set == p {
			return StageEffect
		}
	}
	return StageFull
}

// settle reads an evaluation's outcome into d, failing closed: an error
// denies with CodePolicyError (the cause is logged, never returned), and a
// contradictory answer denies. kind ("policy", "event policy") and subject
// (who asked about what) go into the log lines for the policy's authors.
func (e *Engine) settle(ctx context.Context, d *Decision, allow bool, deny []Reason, ob Obligations, err error, kind string, subject ...slog.Attr) {
	switch {
	case err != nil:
		attrs := append([]slog.Attr{slog.String("decision_id", d.ID), slog.String("revision", d.Revision)}, subject...)
		e.log.LogAttrs(ctx, slog.LevelError, kind+" evaluation failed", append(attrs, slog.Any("error", err))...)
		d.Deny = []Reason{{Code: CodePolicyError, Message: msgPolicyError}}
	case allow && len(deny) == 0:
		d.Allow, d.Obligations = true, ob
	case len(deny) == 0:
		e.contradiction(ctx, *d, kind+" denied without a reason")
		d.Deny, d.Obligations = []Reason{{Code: CodeDenied, Message: msgDenied}}, ob
	default:
		if allow {
			// Contradictory: the reasons win.
			e.contradiction(ctx, *d, kind+" allowed with reasons to deny")
		}
		d.Deny, d.Obligations = deny, ob
	}
}

// recovered turns a panic in evaluation into an error. OPA panics on some
// values (NaN numbers among them); that must deny one decision, not bring
// down the sidecar. Deferred directly: recover works only there.
func recovered(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("evaluation panicked: %v", r)
	}
}

func (e *Engine) eval(ctx context.Context, p *policySet, in Input, stage Stage, standing *ast.Term, now time.Time, tr topdown.QueryTracer) (allow bool, deny []Reason, ob Obligations, err error) {
	defer recovered(&err)
	input, t, err := buildInput(in, now, stage, standing)
	if err != nil {
		return false, nil, Obligations{}, fmt.Errorf("build input: %w", err)
	}
	return e.evalQuery(ctx, p.query, Query, p.rules > 0, input, t, tr)
}

// evalQuery evaluates a prepared decision query within the evaluation
// timeout and reads its answer against the contract; composed says the
// query has the team's deny rules beside the decision (composedQuery).
func (e *Engine) evalQuery(ctx context.Context, pq rego.PreparedEvalQuery, query string, composed bool, input ast.Value, t time.Time, tr topdown.QueryTracer) (allow bool, deny []Reason, ob Obligations, err error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.evalTimeout)
	defer cancel()
	// Our own cancel hook instead of rego's goroutine per evaluation.
	c := topdown.NewCancel()
	stop := context.AfterFunc(ctx, c.Cancel)
	defer stop()
	var rs rego.ResultSet
	if tr == nil {
		rs, err = pq.Eval(ctx,
			rego.EvalParsedInput(input),
			rego.EvalTime(t), // time.now_ns() agrees with input.time
			rego.EvalMetrics(metrics.NoOp()),
			rego.EvalExternalCancel(c),
		)
	} else {
		rs, err = pq.Eval(ctx,
			rego.EvalParsedInput(input),
			rego.EvalTime(t),
			rego.EvalMetrics(metrics.NoOp()),
			rego.EvalExternalCancel(c),
			rego.EvalQueryTracer(tr),
		)
	}
	if err != nil {
		// Builtins report their own cancellation without the cause; keep
		// it visible in the log.
		if cause := ctx.Err(); cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w (%w)", err, cause)
		}
		return false, nil, Obligations{}, fmt.Errorf("evaluate %s: %w", query, err)
	}
	return readResult(rs, composed, e.opts.knownObligation)
}

// contradiction logs a decision that is well-formed but inconsistent, for
// the policy's authors; the call is denied either way.
func (e *Engine) contradiction(ctx context.Context, d Decision, msg string) {
	e.log.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("decision_id", d.ID), slog.String("revision", d.Revision))
}

func actionName(in Input) string {
	if in.Action == nil {
		return ""
	}
	return in.Action.Name
}

// Revision returns the revision of the active policy: the bundle's
// manifest revision, or a content hash of the policy and data files.
func (e *Engine) Revision() string { return e.active.Load().revision }

// Status reports the active revision and the outcome of the last reload.
func (e *Engine) Status() Status {
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	return e.status
}

// loadResult is what a reload found.
type loadResult int

const (
	unchanged     loadResult = iota // the active policy is the source's
	changed                         // a new policy became active
	rejected                        // new content was refused
	stillRejected                   // the content refused last time is still there
	unreadable                      // the source could not be read
)

// Reload re-reads the policy source (for a bundle server, downloads the
// bundle unless the server answers 304 Not Modified). If the new policy does
// not load, the active one stays, the error is returned, logged and kept in
// Status.
func (e *Engine) Reload(ctx context.Context) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	now := time.Now()
	p, res, err := e.load(ctx)
	if err != nil && ctx.Err() != nil {
		// The caller gave up (or the engine is closing): that says nothing
		// about the source.
		return err
	}

	e.statusMu.Lock()
	e.status.LastReload, e.status.LastError = now, err
	if res != unreadable {
		e.status.LastFetch = now
	}
	if res == changed {
		e.status.Revision, e.status.LoadedAt = p.revision, now
	}
	active := e.status.Revision
	e.statusMu.Unlock()

	if f := e.opts.onReload; f != nil && res != unchanged && res != stillRejected {
		f(res == changed)
	}
	src := e.src.describe()
	switch res {
	case unreadable:
		e.log.LogAttrs(ctx, slog.LevelError, "policy source unavailable",
			slog.String("source", src), slog.String("active_revision", active), slog.Any("error", err))
	case rejected:
		e.log.LogAttrs(ctx, slog.LevelError, "policy rejected",
			slog.String("source", src), slog.String("active_revision", active), slog.Any("error", err))
	case changed:
		e.log.LogAttrs(ctx, slog.LevelInfo, "policy loaded",
			slog.String("source", src), slog.String("revision", p.revision), slog.Int("files", p.files),
			slog.Int("deny_rules", p.rules))
		for _, w := range p.warnings {
			e.log.LogAttrs(ctx, slog.LevelWarn, "policy rule cannot deny by itself",
				slog.String("revision", p.revision), slog.String("file", w.File), slog.Int("line", w.Row),
				slog.String("rule", w.Rule), slog.String("problem", w.Msg))
		}
	}
	return err
}

// load reads the source and compiles what it holds unless that is already
// active, or was already refused.
func (e *Engine) load(ctx context.Context) (*policySet, loadResult, error) {
	snap, err := e.src.read(ctx)
	if err != nil {
		return nil, unreadable, err
	}
	cur := e.active.Load()
	if cur != nil && cur.digest == snap.digest {
		e.last = outcome{digest: snap.digest}
		return cur, unchanged, nil
	}
	if e.last.err != nil && e.last.digest == snap.digest {
		return nil, stillRejected, e.last.err
	}
	p, err := compile(ctx, snap)
	if err != nil {
		// A cancelled reload says nothing about the content: try it again.
		if ctx.Err() == nil {
			e.last = outcome{digest: snap.digest, err: err}
		}
		return nil, rejected, err
	}
	e.active.Store(p)
	e.last = outcome{digest: snap.digest}
	return p, changed, nil
}

// Close stops watching or polling the policy source. The engine keeps
// deciding with the active policy.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		if e.stopWatch != nil {
			e.stopWatch()
		}
	})
	return nil
}

// NewID returns a decision id, a UUIDv7: time-ordered, so decision ids
// sort with the audit log, and random in its remaining 74 bits. The
// gateway mints one when a call arrives (Input.DecisionID), so that every
// log line, lookup and Okta request of the call carries it.
func NewID(now time.Time) string {
	var u [16]byte
	_, _ = rand.Read(u[6:]) // never fails since Go 1.24
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(u[:6], ms[2:])
	u[6] = u[6]&0x0f | 0x70 // version 7
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}
