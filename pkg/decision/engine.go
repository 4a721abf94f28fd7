package decision

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Engine evaluates the active policy. It is safe for concurrent use.
type Engine struct {
	opts   *options
	log    *slog.Logger
	active atomic.Pointer[policySet]

	reloadMu sync.Mutex // one reload at a time

	statusMu sync.Mutex
	status   Status

	stopWatch func() // nil when not watching
	closeOnce sync.Once
}

// New loads, compiles and prepares the policy, and starts watching the
// policy directory if one was given. It fails if the policy does not compile,
// its data does not load, or it does not define data.bollard.authz.decision.
func New(ctx context.Context, opts ...Option) (*Engine, error) {
	o := evaluateOptions(opts)
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("decision options: %w", err)
	}
	e := &Engine{opts: o, log: o.logger, status: Status{Source: o.source}}
	if err := e.Reload(ctx); err != nil {
		return nil, fmt.Errorf("load policies from %s: %w", o.source, err)
	}
	if o.dir != "" && o.watch {
		stop, err := e.watch(context.WithoutCancel(ctx), o.dir)
		if err != nil {
			return nil, fmt.Errorf("watch policies in %s: %w", o.dir, err)
		}
		e.stopWatch = stop
	}
	return e, nil
}

// Decide evaluates the active policy for one call. It never fails: when the
// policy cannot give a well-formed answer in time the call is denied with
// CodePolicyError, and the cause is logged.
func (e *Engine) Decide(ctx context.Context, in Input) Decision {
	start := time.Now()
	p := e.active.Load()
	d := Decision{ID: newID(start), Revision: p.revision}
	allow, deny, ob, err := e.eval(ctx, p, in, start)
	switch {
	case err != nil:
		e.log.LogAttrs(ctx, slog.LevelError, "policy evaluation failed",
			slog.String("decision_id", d.ID), slog.String("revision", p.revision),
			slog.String("agent", in.Agent.ID), slog.String("action", actionName(in)),
			slog.Any("error", err))
		d.Deny = []Reason{{Code: CodePolicyError, Message: msgPolicyError}}
	case allow && len(deny) == 0:
		d.Allow, d.Obligations = true, ob
	case len(deny) == 0:
		e.contradiction(ctx, d, "policy denied without a reason")
		d.Deny, d.Obligations = []Reason{{Code: CodeDenied, Message: msgDenied}}, ob
	default:
		if allow {
			// Contradictory: the reasons win.
			e.contradiction(ctx, d, "policy allowed with reasons to deny")
		}
		d.Deny, d.Obligations = deny, ob
	}
	d.Duration = time.Since(start)
	return d
}

func (e *Engine) eval(ctx context.Context, p *policySet, in Input, now time.Time) (allow bool, deny []Reason, ob Obligations, err error) {
	// A panic in evaluation (OPA panics on some values, NaN numbers among
	// them) must deny this call, not bring down the sidecar.
	defer func() {
		if r := recover(); r != nil {
			allow, deny, ob, err = false, nil, Obligations{}, fmt.Errorf("evaluation panicked: %v", r)
		}
	}()
	input, t, err := buildInput(in, now)
	if err != nil {
		return false, nil, Obligations{}, fmt.Errorf("build input: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.evalTimeout)
	defer cancel()
	// Our own cancel hook instead of rego's goroutine per evaluation.
	c := topdown.NewCancel()
	stop := context.AfterFunc(ctx, c.Cancel)
	defer stop()
	rs, err := p.query.Eval(ctx,
		rego.EvalParsedInput(input),
		rego.EvalTime(t), // time.now_ns() agrees with input.time
		rego.EvalMetrics(metrics.NoOp()),
		rego.EvalExternalCancel(c),
	)
	if err != nil {
		// Builtins report their own cancellation without the cause; keep
		// it visible in the log.
		if cause := ctx.Err(); cause != nil && !errors.Is(err, cause) {
			err = fmt.Errorf("%w (%w)", err, cause)
		}
		return false, nil, Obligations{}, fmt.Errorf("evaluate %s: %w", Query, err)
	}
	return readResult(rs)
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

// Revision returns the content hash of the active policy and data files.
func (e *Engine) Revision() string { return e.active.Load().revision }

// Status reports the active revision and the outcome of the last reload.
func (e *Engine) Status() Status {
	e.statusMu.Lock()
	defer e.statusMu.Unlock()
	return e.status
}

// Reload re-reads the policy source. If the new policy does not load, the
// active one stays, the error is returned, logged and kept in Status.
func (e *Engine) Reload(ctx context.Context) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	now := time.Now()
	p, changed, err := e.load(ctx)

	e.statusMu.Lock()
	e.status.LastReload, e.status.LastError = now, err
	if changed {
		e.status.Revision, e.status.LoadedAt = p.revision, now
	}
	active := e.status.Revision
	e.statusMu.Unlock()

	if f := e.opts.onReload; f != nil && (err != nil || changed) {
		f(err == nil)
	}
	switch {
	case err != nil:
		e.log.LogAttrs(ctx, slog.LevelError, "policy rejected",
			slog.String("source", e.opts.source), slog.String("active_revision", active),
			slog.Any("error", err))
	case changed:
		e.log.LogAttrs(ctx, slog.LevelInfo, "policy loaded",
			slog.String("source", e.opts.source), slog.String("revision", p.revision), slog.Int("files", p.files))
	}
	return err
}

// load compiles the source unless its revision is already active.
func (e *Engine) load(ctx context.Context) (*policySet, bool, error) {
	files, err := readSource(e.opts.fsys)
	if err != nil {
		return nil, false, err
	}
	rev := revisionOf(files)
	if cur := e.active.Load(); cur != nil && cur.revision == rev {
		return cur, false, nil
	}
	p, err := compile(ctx, rev, files)
	if err != nil {
		return nil, false, fmt.Errorf("revision %s: %w", rev, err)
	}
	e.active.Store(p)
	return p, true, nil
}

// Close stops watching the policy directory. The engine keeps deciding with
// the active policy.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		if e.stopWatch != nil {
			e.stopWatch()
		}
	})
	return nil
}

// newID returns a UUIDv7: time-ordered, so decision ids sort with the audit
// log, and random in its remaining 74 bits.
func newID(now time.Time) string {
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
