package decision

import (
	"context"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// maxHitValueNodes bounds the size of a value Explain reports: a rule that
// holds a large document reports no value rather than all of it.
const maxHitValueNodes = 2000

// maxHitValues bounds how many values one multi-value rule (a set or object
// rule, or a function) collects.
const maxHitValues = 100

// RuleHit is one rule of the policy that produced a value while deciding.
type RuleHit struct {
	// Rule is the rule's path, as "data.bollard.grants.granted".
	Rule string
	// Location is where the rule's definition (or its else branch) starts,
	// as "grants.rego:12".
	Location string
	// Value is what the rule produced, as a JSON value (map[string]any,
	// []any, string, json.Number, bool or nil): a complete rule's value; for
	// a rule that contributes to a set, the elements it contributed; to an
	// object, the keys and values; for a function, one
	// {"args": [...], "value": ...} per call. Nil when too large.
	Value any
}

// Explain decides like Decide (the same policy, the same handling of
// errors and malformed answers) and also lists every rule of the policy that
// produced a value during the evaluation, in the order they produced their
// first value, each definition once. Rules of test packages are left out.
// When the evaluation fails, the hits are those found before it failed.
// Explain traces the evaluation, which makes it several times slower than
// Decide: it is for `sidecar policy check`, not for serving calls.
func (e *Engine) Explain(ctx context.Context, in Input) (Decision, []RuleHit) {
	tr := &hitTracer{index: map[*ast.Rule]int{}}
	d := e.decide(ctx, in, tr)
	hits := make([]RuleHit, len(tr.hits))
	for i, h := range tr.hits {
		hits[i] = RuleHit{Rule: h.rule, Location: h.location, Value: h.value()}
	}
	return d, hits
}

// hitTracer records the rules whose bodies succeed. The value is read when
// the event is emitted: the bindings change afterwards.
type hitTracer struct {
	index map[*ast.Rule]int
	hits  []*hit
}

type hit struct {
	rule, location string
	kind           hitKind
	values         []*ast.Term // one for a complete rule
	dropped        bool        // some values were left out
}

type hitKind int

const (
	completeRule hitKind = iota
	setRule
	objectRule
	function
)

func (t *hitTracer) Enabled() bool { return true }

func (t *hitTracer) Config() topdown.TraceConfig { return topdown.TraceConfig{} }

func (t *hitTracer) TraceEvent(ev topdown.Event) {
	if ev.Op != topdown.ExitOp {
		return
	}
	rule, ok := ev.Node.(*ast.Rule)
	if !ok || rule.Module == nil || rule.Location == nil {
		return
	}
	i, seen := t.index[rule]
	if !seen {
		h, ok := newHit(rule)
		if !ok {
			return
		}
		i = len(t.hits)
		t.index[rule] = i
		t.hits = append(t.hits, h)
	}
	h := t.hits[i]
	if h.kind == completeRule && len(h.values) > 0 {
		return // a complete rule has one value
	}
	if len(h.values) >= maxHitValues {
		h.dropped = true
		return
	}
	if v := h.produced(rule, &ev); v != nil {
		h.values = append(h.values, v)
	}
}

// newHit describes a rule, or reports false for rules that are not the
// policy's: tests, and anything under the catalog's data path.
func newHit(rule *ast.Rule) (*hit, bool) {
	if strings.HasSuffix(rule.Location.File, "_test.rego") {
		return nil, false
	}
	pkg := rule.Module.Package.Path
	if last, ok := pkg[len(pkg)-1].Value.(ast.String); ok && strings.HasSuffix(string(last), "_test") {
		return nil, false
	}
	path := rule.Ref().GroundPrefix()
	if path.HasPrefix(catalogRef) {
		return nil, false
	}
	h := &hit{rule: path.String(), location: fmt.Sprintf("%s:%d", rule.Location.File, rule.Location.Row)}
	switch {
	case len(rule.Head.Args) > 0:
		h.kind = function
	case rule.Head.RuleKind() == ast.MultiValue:
		h.kind = setRule
	case !rule.Head.Ref().IsGround():
		h.kind = objectRule
	}
	return h, true
}

// produced is the value one successful evaluation of the rule contributed.
func (h *hit) produced(rule *ast.Rule, ev *topdown.Event) *ast.Term {
	head := rule.Head
	switch h.kind {
	case setRule:
		return ev.Plug(head.Key)
	case objectRule:
		// The part of the head's ref that varies, then the value:
		// p[k] := v contributes [k, v]; p[a].q[b] := v contributes [[a, b], v].
		var keys []*ast.Term
		for _, t := range head.Ref()[1:] {
			if !t.IsGround() {
				keys = append(keys, ev.Plug(t))
			}
		}
		key := ast.ArrayTerm(keys...)
		if len(keys) == 1 {
			key = keys[0]
		}
		return ast.ArrayTerm(key, ev.Plug(head.Value))
	case function:
		args := make([]*ast.Term, len(head.Args))
		for i, a := range head.Args {
			args[i] = ev.Plug(a)
		}
		return ast.ObjectTerm(ast.Item(ast.StringTerm("args"), ast.ArrayTerm(args...)),
			ast.Item(ast.StringTerm("value"), ev.Plug(head.Value)))
	}
	return ev.Plug(head.Value)
}

// value converts what the rule produced to JSON, or nil when it is too
// large or not JSON (a set, a non-string key: OPA converts those too).
func (h *hit) value() any {
	if len(h.values) == 0 {
		return nil
	}
	var v ast.Value
	switch h.kind {
	case completeRule:
		v = h.values[0].Value
	case objectRule:
		if obj, ok := pairsObject(h.values); ok {
			v = obj
			break
		}
		v = ast.NewArray(h.values...)
	default:
		v = ast.NewArray(h.values...)
	}
	if h.dropped || !small(v, maxHitValueNodes) {
		return nil
	}
	x, err := ast.JSON(v)
	if err != nil {
		return nil
	}
	return x
}

// pairsObject makes an object of [key, value] pairs whose keys are strings.
func pairsObject(pairs []*ast.Term) (ast.Object, bool) {
	obj := ast.NewObject()
	for _, p := range pairs {
		a := p.Value.(*ast.Array) // built by produced
		if _, ok := a.Elem(0).Value.(ast.String); !ok {
			return nil, false
		}
		obj.Insert(a.Elem(0), a.Elem(1))
	}
	return obj, true
}

// small reports whether v has at most n nodes, without walking further.
func small(v ast.Value, n int) bool {
	count := 0
	ast.WalkTerms(v, func(*ast.Term) bool {
		count++
		return count > n
	})
	return count <= n
}
