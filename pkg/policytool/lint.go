package policytool

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

var decisionRef = ast.MustParseRef("data.bollard.authz.decision")

// LintOptions are what Lint checks: the arguments of `sidecar policy lint`.
type LintOptions struct {
	// Dirs are the policy directories.
	Dirs []string
}

// Lint checks policy directories the way the sidecar loads them, and
// more (docs/policies.md), and prints each problem as file:line: message.
// The error is an *ExitCodeError: ExitFail when a problem is found (not a
// warning), ExitError when a directory cannot be read.
func Lint(ctx context.Context, o LintOptions, stdout io.Writer) error {
	if len(o.Dirs) == 0 {
		return badf("policy lint: no directory given")
	}
	n := 0
	for _, dir := range o.Dirs {
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
