package policytool

import (
	"context"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// ruleProblems compiles the policy with its tests, as lint and test do, and
// returns the rules that cannot take part in a decision (decision.CheckRules)
// and the scans of data in the security team's rules. A policy that does
// not compile has none: its compile errors are reported instead.
func ruleProblems(ctx context.Context, src *source) ([]problem, error) {
	store := src.store()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	defer store.Abort(ctx, txn)
	c := compiler(ctx, store, txn)
	if c.Compile(src.modules); c.Failed() {
		return nil, nil
	}
	return compiledRuleProblems(c), nil
}

// compiledRuleProblems reads the problems off a compiled policy.
func compiledRuleProblems(c *ast.Compiler) []problem {
	var probs []problem
	for _, rp := range decision.CheckRules(c) {
		p := problem{file: rp.File, row: rp.Row, msg: rp.Rule + ": " + rp.Msg}
		if rp.Refused {
			p.msg += " (the sidecar refuses this policy)"
			p.refused = true
		}
		probs = append(probs, p)
	}
	return append(probs, scans(c)...)
}

// scans warns about the security team's rules that scan data on every
// call: `some x in data...` or data...[_]. A rule under data.bollard.rules
// is evaluated for every call, so it should look up what it needs by what
// the call gives (input.agent.id, input.action.name) in data keyed by it;
// a scan costs in proportion to the data, on every call. A warning does
// not fail lint.
func scans(c *ast.Compiler) []problem {
	var probs []problem
	rules := ast.MustParseRef(decision.RulesPrefix)
	for name, m := range c.ParsedModules() {
		if strings.HasSuffix(name, "_test.rego") || !m.Package.Path.HasPrefix(rules) {
			continue
		}
		seen := map[int]bool{}
		warn := func(loc *ast.Location, what string) {
			if loc == nil || seen[loc.Row] {
				return
			}
			seen[loc.Row] = true
			probs = append(probs, problem{file: name, row: loc.Row, warning: true,
				msg: what + " on every call: key the data by what the call gives (input.agent.id, input.action.name) and look it up (docs/policies.md#write-your-own-rule)"})
		}
		for _, r := range m.Rules {
			ast.WalkExprs(r, func(e *ast.Expr) bool {
				// "some x in coll" is parsed as a declaration holding the
				// membership call; "x in coll" as the call itself.
				var calls []ast.Call
				switch t := e.Terms.(type) {
				case *ast.SomeDecl:
					for _, sym := range t.Symbols {
						if c, ok := sym.Value.(ast.Call); ok {
							calls = append(calls, c)
						}
					}
				case []*ast.Term:
					calls = append(calls, ast.Call(t))
				}
				for _, c := range calls {
					if len(c) < 2 {
						continue
					}
					switch c[0].String() {
					case ast.Member.Name, ast.MemberWithKey.Name:
						if ref, ok := c[len(c)-1].Value.(ast.Ref); ok && ref.HasPrefix(ast.DefaultRootRef) {
							warn(e.Location, "iterates over "+ref.String())
						}
					}
				}
				return false
			})
			ast.WalkRefs(r, func(ref ast.Ref) bool {
				if !ref.HasPrefix(ast.DefaultRootRef) {
					return false
				}
				for _, t := range ref[1:] {
					if v, ok := t.Value.(ast.Var); ok && (v == "_" || strings.HasPrefix(string(v), "$")) {
						warn(ref[0].Location, "scans "+ref.GroundPrefix().String())
						break
					}
				}
				return false
			})
		}
	}
	return probs
}
