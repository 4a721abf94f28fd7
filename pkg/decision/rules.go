package decision

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/bollard-dev/bollard/policies"
)

// RulesPrefix is the extension point for the security team's own rules:
// every set named deny in a package under it (data.bollard.rules.<name>.deny,
// at any depth) is evaluated for every call, every stage of a call, every
// ListActions entry and every event decision, and any element it holds
// denies, whatever the rest of the policy decided. Deny always wins.
const RulesPrefix = "data.bollard.rules"

var (
	rulesRef    = ast.MustParseRef(RulesPrefix)
	standingRef = ast.MustParseRef(StandingQuery)
	keyRules    = ast.StringTerm("rules")
)

// ErrRulesData is returned when a policy's data defines data.bollard.rules,
// which holds rules only: a deny list written as data would never be read.
var ErrRulesData = errors.New("policy data must not define data.bollard.rules: it holds the deny rules of docs/policies.md#write-your-own-rule, which must be Rego")

// denyNames are the rule names that say "deny" in Rego convention. A rule
// of one of these names that no decision reads is refused: whoever wrote it
// believes it protects something.
var denyNames = map[string]bool{"deny": true, "reasons": true, "violation": true}

// RuleProblem is a rule that cannot take part in a decision the way its
// author probably meant.
type RuleProblem struct {
	File string
	Row  int
	Rule string // the rule's path, "data.mycompany.deny"
	Msg  string
	// Refused is true for problems the sidecar refuses to load; the others
	// are reported by `policy lint` and `policy test` and logged on load.
	Refused bool
}

func (p RuleProblem) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Row, p.Rule, p.Msg)
}

// CheckRules reports the rules of a compiled policy that cannot take part
// in a decision: a deny under data.bollard.rules that is not a set, a rule
// named deny, reasons or violation that no decision reads, and (not refused,
// but flagged) a deny or reasons rule added to one of the shipped packages,
// which the shipped fast paths never read. Modules whose file name ends in
// _test.rego are not checked.
func CheckRules(c *ast.Compiler) []RuleProblem {
	var probs []RuleProblem
	denyRules, p := customDenyRules(c)
	probs = append(probs, p...)

	entries := slices.Concat(c.GetRules(decisionRef), c.GetRules(eventDecisionRef), c.GetRules(standingRef))
	for _, rs := range denyRules {
		entries = append(entries, rs...)
	}
	reached := reachable(c.Graph, entries)
	for _, name := range util.KeysSorted(c.Modules) {
		m := c.Modules[name]
		if isTestFile(name) {
			continue
		}
		for _, r := range m.Rules {
			path := r.Ref()
			last, ok := path[len(path)-1].Value.(ast.String)
			if !ok || !denyNames[string(last)] || path.HasPrefix(rulesRef) {
				continue
			}
			if _, ok := reached[r]; ok {
				continue
			}
			probs = append(probs, RuleProblem{File: name, Row: row(r), Rule: path.String(), Refused: true,
				Msg: "no decision reads this rule, so it never denies anything; a rule that denies goes in a package under " +
					RulesPrefix + " as `deny contains {\"code\": ..., \"message\": ...} if { ... }` (docs/policies.md#write-your-own-rule)"})
		}
	}
	probs = append(probs, addedToLibrary(c)...)
	sort.SliceStable(probs, func(i, j int) bool {
		if probs[i].File != probs[j].File {
			return probs[i].File < probs[j].File
		}
		return probs[i].Row < probs[j].Row
	})
	return probs
}

// refused joins the problems the sidecar refuses to load into one error.
func refused(probs []RuleProblem) error {
	var errs []error
	for _, p := range probs {
		if p.Refused {
			errs = append(errs, p)
		}
	}
	return errors.Join(errs...)
}

// customDenyRules groups the deny rules under data.bollard.rules by path, in
// path order, and reports the ones that cannot be read as a set of
// reasons.
func customDenyRules(c *ast.Compiler) (map[string][]*ast.Rule, []RuleProblem) {
	out := map[string][]*ast.Rule{}
	var probs []RuleProblem
	for _, r := range c.GetRulesWithPrefix(rulesRef) {
		if isTestFile(r.Location.File) {
			continue
		}
		path := r.Ref()
		at := slices.IndexFunc(path, func(t *ast.Term) bool { return t.Value.Compare(ast.String("deny")) == 0 })
		if at < 0 {
			continue // a helper rule of the team's package
		}
		bad := func(msg string) {
			probs = append(probs, RuleProblem{File: r.Location.File, Row: row(r), Rule: path.String(), Refused: true, Msg: msg})
		}
		switch {
		case at != len(path)-1:
			bad("deny under " + RulesPrefix + " must be a set of reasons, not an object or a document with members")
		case !path.IsGround():
			bad("the path of a deny rule must be fixed: name the package, not a variable")
		case len(r.Head.Args) > 0:
			bad("deny under " + RulesPrefix + " must be a set of reasons, not a function")
		case r.Head.RuleKind() != ast.MultiValue:
			bad("deny under " + RulesPrefix + " must be a set: write `deny contains {\"code\": ..., \"message\": ...} if { ... }`")
		default:
			out[path.String()] = append(out[path.String()], r)
		}
	}
	return out, probs
}

// reachable is every rule some entry rule depends on, the entries included.
func reachable(g *ast.Graph, entries []*ast.Rule) map[util.T]struct{} {
	seen := map[util.T]struct{}{}
	var stack []util.T
	for _, r := range entries {
		for n := r; n != nil; n = n.Else {
			stack = append(stack, n)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := seen[n]; ok {
			continue
		}
		seen[n] = struct{}{}
		for d := range g.Dependencies(n) {
			stack = append(stack, d)
		}
	}
	return seen
}

// shippedDenyRules are the deny, reasons and violation rules of the shipped
// library, by path, as parsed: the shipped allow branches agree with exactly
// these (test_allow_iff_no_reasons_* in policies/authz_test.rego).
var shippedDenyRules = sync.OnceValue(func() map[string][]*ast.Rule {
	out := map[string][]*ast.Rule{}
	files, err := readSource(policies.FS, false)
	if err != nil {
		return out
	}
	for _, f := range files {
		if !strings.HasSuffix(f.path, ".rego") {
			continue
		}
		m, err := ast.ParseModuleWithOpts(f.path, string(f.data), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			continue
		}
		for _, r := range m.Rules {
			path := m.Package.Path.Extend(r.Head.Ref())
			if last, ok := path[len(path)-1].Value.(ast.String); ok && denyNames[string(last)] {
				out[path.String()] = append(out[path.String()], r)
			}
		}
	}
	return out
})

// addedToLibrary flags a deny or reasons rule in one of the shipped
// packages that is not the shipped one: the shipped allow branches are
// written to agree with the shipped reasons, so a reason added beside them
// shows only on calls that something else already denies. It compares the
// modules as the compiler received them, before any rewriting.
func addedToLibrary(c *ast.Compiler) []RuleProblem {
	shipped := shippedDenyRules()
	var probs []RuleProblem
	for _, name := range util.KeysSorted(c.Modules) {
		if isTestFile(name) {
			continue
		}
		m := c.Modules[name]
		for _, r := range m.Rules {
			path := r.Ref()
			want, ok := shipped[path.String()]
			if !ok {
				continue
			}
			orig := parsedRule(c, name, r)
			if orig == nil || slices.ContainsFunc(want, orig.Equal) {
				continue
			}
			probs = append(probs, RuleProblem{File: name, Row: row(r), Rule: path.String(),
				Msg: "this is not one of the shipped library's rules: the shipped allow branches do not read it, so it only shows on calls already denied " +
					"and never denies one by itself; put new rules in a package under " + RulesPrefix + " (docs/policies.md#write-your-own-rule)"})
		}
	}
	return probs
}

// parsedRule finds the rule as parsed (the compiler keeps the modules it
// was given when asked to), or nil.
func parsedRule(c *ast.Compiler, file string, compiled *ast.Rule) *ast.Rule {
	m, ok := c.ParsedModules()[file]
	if !ok {
		return nil
	}
	for _, r := range m.Rules {
		if r.Location != nil && compiled.Location != nil && r.Location.Row == compiled.Location.Row && r.Location.Col == compiled.Location.Col {
			return r
		}
	}
	return nil
}

func row(r *ast.Rule) int {
	if r.Location == nil {
		return 0
	}
	return r.Location.Row
}

func isTestFile(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// checkNoRulesData refuses data under data.bollard.rules.
func checkNoRulesData(data ast.Object) error {
	if b, ok := get(data, keyBollard).(ast.Object); ok && b.Get(keyRules) != nil {
		return ErrRulesData
	}
	return nil
}
