package decision

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// standingMemoSize bounds the standing answers one policy revision keeps:
// one per agent and action seen. At about half a kilobyte each, 100,000
// (10,000 agents using ten actions each) take some 50 MB; past the bound the
// memo starts again empty, which costs one evaluation per agent and action.
const standingMemoSize = 100_000

var keyStanding = ast.StringTerm("standing")

// standingKey is one agent asking for one catalog action.
type standingKey struct {
	agent  string
	action *catalog.Action
}

// standingMemo keeps data.bollard.authz.standing per agent and action for
// one policy revision. The answer can depend on nothing else: it is
// evaluated with an input that holds only the version, the agent's id and
// the action (standingInput), so keeping it for the revision's life cannot
// keep a stale answer.
type standingMemo struct {
	m     atomic.Pointer[sync.Map] // standingKey → *ast.Term (nil: undefined)
	n     atomic.Int64
	limit int64
}

func newStandingMemo(limit int64) *standingMemo {
	m := &standingMemo{limit: limit}
	m.m.Store(&sync.Map{})
	return m
}

func (m *standingMemo) load(k standingKey) (*ast.Term, bool) {
	v, ok := m.m.Load().Load(k)
	if !ok {
		return nil, false
	}
	return v.(*ast.Term), true
}

func (m *standingMemo) store(k standingKey, t *ast.Term) {
	if m.n.Add(1) > m.limit {
		// Full: start again rather than grow or track recency on every call.
		m.m.Store(&sync.Map{})
		m.n.Store(1)
	}
	m.m.Load().Store(k, t)
}

// standingFor returns input.standing for the call: the memoized answer, or
// a fresh evaluation. It returns nil when the policy has no standing rule,
// when the action is not the catalog's own, or when the evaluation fails:
// the decision then evaluates the rule itself, so nil costs time, never
// correctness.
func (e *Engine) standingFor(ctx context.Context, p *policySet, in Input) *ast.Term {
	if p.standing == nil {
		return nil
	}
	action, ok := actionTerms[in.Action]
	if !ok {
		return nil
	}
	k := standingKey{agent: in.Agent.ID, action: in.Action}
	if t, ok := p.memo.load(k); ok {
		return t
	}
	t, err := e.evalStanding(ctx, p, in.Agent.ID, action)
	if err != nil {
		e.log.LogAttrs(ctx, slog.LevelWarn, "standing evaluation failed; deciding without it",
			slog.String("agent", in.Agent.ID), slog.String("action", in.Action.Name),
			slog.String("revision", p.revision), slog.Any("error", err))
		return nil
	}
	p.memo.store(k, t)
	return t
}

// evalStanding evaluates data.bollard.authz.standing for one agent and
// action; nil when it is undefined.
func (e *Engine) evalStanding(ctx context.Context, p *policySet, agent string, action *ast.Term) (t *ast.Term, err error) {
	defer recovered(&err)
	ctx, cancel := context.WithTimeout(ctx, e.opts.evalTimeout)
	defer cancel()
	c := topdown.NewCancel()
	stop := context.AfterFunc(ctx, c.Cancel)
	defer stop()
	rs, err := p.standing.Eval(ctx,
		rego.EvalParsedInput(standingInput(agent, action)),
		rego.EvalTime(time.Unix(0, 0)), // no clock: the answer must not depend on one
		rego.EvalMetrics(metrics.NoOp()),
		rego.EvalExternalCancel(c),
	)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	t, _ = rs[0].Expressions[0].Value.(*ast.Term)
	return t, nil
}

// standingInput is all the standing rule may read.
func standingInput(agent string, action *ast.Term) ast.Value {
	return ast.NewObject(
		ast.Item(keyVersion, versionTerm),
		ast.Item(keyAgent, ast.ObjectTerm(ast.Item(keyID, ast.StringTerm(agent)))),
		ast.Item(keyAction, action),
	)
}
