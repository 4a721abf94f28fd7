package policytool

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
)

// DefaultTestTimeout is the command's time limit for each test: the
// shipped library's exhaustive tests take a few seconds each.
const DefaultTestTimeout = 30 * time.Second

// TestOptions are what Test runs: the flags of `sidecar policy test`.
type TestOptions struct {
	// Dirs are the policy directories, each run as one suite.
	Dirs []string
	// Verbose prints every test, not only the failures (text format).
	Verbose bool
	// Format is "text" (when empty), "json" (opa test's) or "junit".
	Format string
	// Run selects the tests whose full name (data.pkg.test_name) matches
	// this regular expression.
	Run string
	// Timeout bounds each test; it must be positive.
	Timeout time.Duration
}

// suite is the outcome of one directory.
type suite struct {
	dir      string
	results  []*tester.Result
	elapsed  time.Duration
	problems []problem // the policy did not load or compile, or the sidecar refuses it
	// flagged are rules that cannot deny by themselves (decision.CheckRules):
	// the tests may pass, but the policy does not do what it says.
	flagged []problem
}

func (s *suite) counts() (tests, failed, errored, skipped int) {
	for _, r := range s.results {
		tests++
		switch {
		case r.Skip:
			skipped++
		case r.Error != nil:
			errored++
		case r.Fail:
			failed++
		}
	}
	return
}

func (s *suite) ok() bool {
	_, failed, errored, _ := s.counts()
	return len(s.problems) == 0 && len(s.flagged) == 0 && failed == 0 && errored == 0
}

// Test runs the Rego tests of each directory, with the action catalog as
// data and the sidecar's compiler settings, and prints the results like
// go test (or as JSON or JUnit XML). Rules that cannot take part in a
// decision fail the run too. The error is an *ExitCodeError: ExitFail when
// a test failed or erred or a rule cannot deny by itself, ExitError for
// bad options or a policy that does not load.
func Test(ctx context.Context, o TestOptions, stdout, stderr io.Writer) error {
	format := cmp.Or(o.Format, "text")
	switch {
	case len(o.Dirs) == 0:
		return badf("policy test: no directory given")
	case format != "text" && format != "json" && format != "junit":
		return badf("policy test: --format must be text, json or junit, not %q", o.Format)
	case o.Timeout <= 0:
		return badf("policy test: --timeout must be positive")
	}
	if _, err := regexp.Compile(o.Run); err != nil {
		return badf("policy test: --run: %w", err)
	}
	var suites []*suite
	for _, dir := range o.Dirs {
		s, err := runSuite(ctx, dir, o.Run, o.Timeout)
		if err != nil {
			return bad(fmt.Errorf("policy test: %w", err))
		}
		for _, p := range s.problems {
			fmt.Fprintln(stderr, p)
		}
		for _, p := range s.flagged {
			fmt.Fprintln(stderr, p)
		}
		if format == "text" {
			writeText(stdout, s, o.Verbose)
		}
		suites = append(suites, s)
	}
	switch format {
	case "json":
		if err := writeJSON(stdout, suites); err != nil {
			return bad(err)
		}
	case "junit":
		if err := writeJUnit(stdout, suites); err != nil {
			return bad(err)
		}
	}
	code := 0
	for _, s := range suites {
		switch {
		case len(s.problems) > 0:
			code = ExitError
		case !s.ok():
			code = max(code, ExitFail)
		}
	}
	if code != 0 {
		return &ExitCodeError{Code: code}
	}
	return nil
}

// runSuite loads, compiles and tests one directory. Load and compile
// problems are in the suite; the error is for a directory that cannot be
// read.
func runSuite(ctx context.Context, dir, run string, timeout time.Duration) (*suite, error) {
	start := time.Now()
	s := &suite{dir: dir}
	defer func() { s.elapsed = time.Since(start) }()
	src, probs, err := loadSource(dir, true)
	if err != nil {
		return nil, err
	}
	if len(probs) > 0 {
		sortProblems(probs)
		s.problems = probs
		return s, nil
	}
	results, err := runTests(ctx, src, run, timeout, false)
	if err != nil {
		s.problems = problemsOf(err, dir)
		sortProblems(s.problems)
		return s, nil
	}
	rp, err := ruleProblems(ctx, src)
	if err != nil {
		return nil, err
	}
	for _, p := range rp {
		switch {
		case p.refused:
			s.problems = append(s.problems, p)
		case !p.warning:
			s.flagged = append(s.flagged, p)
		}
	}
	s.results = results
	if err := traceFailures(ctx, src, results, timeout); err != nil {
		return nil, err
	}
	// Tests run in parallel; report them in source order.
	slices.SortFunc(s.results, func(a, b *tester.Result) int {
		return cmp.Or(
			cmp.Compare(fileOf(a), fileOf(b)),
			cmp.Compare(rowOf(a), rowOf(b)),
			cmp.Compare(a.Package+"."+a.Name, b.Package+"."+b.Name),
		)
	})
	return s, nil
}

// runTests compiles the source with its tests and runs those matching run.
// A compile error is returned as it is (ast.Errors).
func runTests(ctx context.Context, src *source, run string, timeout time.Duration, trace bool) ([]*tester.Result, error) {
	store := src.store()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	defer store.Abort(ctx, txn)
	c := compiler(ctx, store, txn).
		WithEnablePrintStatements(true).
		WithRewriteTestRules(trace) // a failure shows the values compared
	ch, err := tester.NewRunner().
		SetCompiler(c).
		SetStore(store).
		SetModules(src.modules).
		SetDefaultRegoVersion(ast.RegoV1).
		CapturePrintOutput(true).
		EnableTracing(trace).
		StackTraces(true).
		SetTimeout(timeout).
		Filter(run).
		RunTests(ctx, txn)
	if err != nil {
		return nil, err
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	return results, nil
}

// traceFailures runs the failed tests again with tracing, which costs
// ten times the evaluation, to say where each failed.
func traceFailures(ctx context.Context, src *source, results []*tester.Result, timeout time.Duration) error {
	failed := map[string]*tester.Result{}
	var names []string
	for _, r := range results {
		if r.Fail && r.Error == nil {
			failed[fullName(r)] = r
			names = append(names, regexp.QuoteMeta(fullName(r)))
		}
	}
	if len(names) == 0 {
		return nil
	}
	again, err := runTests(ctx, src, "^("+strings.Join(names, "|")+")$", timeout, true)
	if err != nil {
		return fmt.Errorf("trace failed tests: %w", err)
	}
	for _, r := range again {
		if orig := failed[fullName(r)]; orig != nil {
			orig.Trace = r.Trace
		}
	}
	return nil
}

func fileOf(r *tester.Result) string {
	if r.Location == nil {
		return ""
	}
	return r.Location.File
}

func rowOf(r *tester.Result) int {
	if r.Location == nil {
		return 0
	}
	return r.Location.Row
}

// fullName is the name --run matches: data.pkg.test_name.
func fullName(r *tester.Result) string { return r.Package + "." + r.Name }

// fmtDur prints a duration with about two significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}
