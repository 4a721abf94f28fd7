package policytool

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

const lintUsage = `usage: sidecar policy lint DIR...

Checks policy directories the way the sidecar loads them, and more:
  - every .rego file parses and compiles in strict mode (Rego v1, the
    sidecar's built-ins), tests included; every data file loads;
  - a policy (not a test) defines data.bollard.authz.decision;
  - the library's data names only catalog areas and actions: grants per
    agent and area (with read or manage), action allow and deny lists,
    page sizes per area, and any other "<area>.<verb>" string;
  - in the policy (tests may name unknown actions on purpose), string
    literals compared with input.action.name or input.action.area, or used
    as keys of data.bollard.catalog, are catalog names;
  - every rule that denies takes part in a decision: a deny under
    data.bollard.rules is a set, no rule named deny, reasons or violation
    is left that no decision reads, and no deny or reasons rule is added to
    one of the shipped packages (their fast paths never read it);
  - rules under data.bollard.rules that scan data on every call are
    warned about (a warning does not fail).
Problems are printed as file:line: message. Exit status: 0 clean (warnings
only), 1 when a problem is found, 2 when a directory cannot be read.
`

var decisionRef = ast.MustParseRef("data.bollard.authz.decision")

func lintMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("lint", lintUsage, stderr)
	dirs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		fs.Usage()
		return badf("policy lint: no directory given")
	}
	n := 0
	for _, dir := range dirs {
		probs, err := lintDir(ctx, dir)
		if err != nil {
			return bad(fmt.Errorf("policy lint: %w", err))
		}
		for _, p := range probs {
			fmt.Fprintln(stdout, p)
			if !p.warning {
				n++
			}
		}
	}
	if n > 0 {
		return &ExitCodeError{Code: ExitFail, Err: fmt.Errorf("policy lint: %d problem(s)", n)}
	}
	return nil
}

// lintDir returns every problem found in dir, in file and line order.
func lintDir(ctx context.Context, dir string) ([]problem, error) {
	src, probs, err := loadSource(dir, true)
	if err != nil {
		return nil, err
	}
	for _, f := range src.files {
		probs = append(probs, lintData(f)...)
	}
	if len(src.modules) > 0 {
		cp, decides, err := compileAll(ctx, src)
		if err != nil {
			return nil, err
		}
		probs = append(probs, cp...)
		if len(cp) == 0 && !decides {
			probs = append(probs, problem{file: dir, msg: "no policy defines " + decisionRef.String() + ": the sidecar refuses it"})
		}
		for name, m := range src.modules {
			if !src.tests[name] {
				probs = append(probs, lintRego(m)...)
			}
		}
	}
	sortProblems(probs)
	return slices.CompactFunc(probs, func(a, b problem) bool { return a == b }), nil
}

// compileAll compiles the policy and its tests with the sidecar's settings
// and returns the compiler's errors as problems, and whether a policy
// module (not a test) defines the decision.
func compileAll(ctx context.Context, src *source) (probs []problem, decides bool, err error) {
	store := src.store()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, false, err
	}
	defer store.Abort(ctx, txn)
	c := compiler(ctx, store, txn)
	if c.Compile(src.modules); c.Failed() {
		return problemsOf(c.Errors, src.dir), false, nil
	}
	for _, r := range c.GetRules(decisionRef) {
		if r.Location != nil && !src.tests[r.Location.File] {
			decides = true
		}
	}
	return compiledRuleProblems(c), decides, nil
}
