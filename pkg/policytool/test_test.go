package policytool

import (
	"encoding/json"
	"encoding/xml"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/tester"
)

var (
	passDir    = filepath.Join("testdata", "test", "pass")
	failDir    = filepath.Join("testdata", "test", "fail")
	compileDir = filepath.Join("testdata", "test", "compile")
)

// matrixTests are the shipped library's exhaustive tests (every action,
// agent, time, context and stage): about 95% of its Rego evaluation, over a
// minute of CPU under -race. policies.TestRego runs every shipped test,
// these included, with the sidecar's compiler settings; running them here
// as well doubled the suite's longest package for no further check.
var matrixTests = regexp.MustCompile(`^data\.bollard\.authz_test\.test_(allow_iff_no_reasons_.+|standing_changes_nothing|standing_changes_nothing_at_stages|hours_agree_with_business_hours|limits_agree_with_impact_limits)$`)

// TestTestShippedPolicies: the tool loads, compiles and checks the whole
// shipped library, tests included, and every shipped test but the matrix
// tests passes through it.
func TestTestShippedPolicies(t *testing.T) {
	var run, skipped []string
	for _, name := range shippedTests(t) {
		if matrixTests.MatchString(name) {
			skipped = append(skipped, name)
			continue
		}
		run = append(run, regexp.QuoteMeta(name))
	}
	if len(skipped) == 0 || len(run) < 100 {
		t.Fatalf("%d matrix tests and %d others: the shipped tests were not found as expected", len(skipped), len(run))
	}
	t.Logf("%d shipped tests run here, %d matrix tests left to policies.TestRego", len(run), len(skipped))
	// Generous under -race: the library's tests take about 20s there.
	r := runTest(t, TestOptions{Dirs: []string{shipped}, Verbose: true, Timeout: 3 * time.Minute, Run: "^(" + strings.Join(run, "|") + ")$"})
	r.wantCode(t, 0)
	if !regexp.MustCompile(`(?m)^PASS\nok  \t` + regexp.QuoteMeta(shipped) + `\t\d+\.\d{3}s\n$`).MatchString(r.stdout) {
		t.Errorf("stdout = %q, want PASS and an ok line", r.stdout)
	}
	if n := strings.Count(r.stdout, "--- PASS: "); n != len(run) {
		t.Errorf("%d tests passed, want the %d shipped tests asked for", n, len(run))
	}
	for _, name := range skipped {
		if strings.Contains(r.stdout, name) {
			t.Errorf("%s ran, yet --run left it out", name)
		}
	}
}

// shippedTests lists the full names (data.pkg.test_name) of the shipped
// library's tests, as `policy test --run` matches them.
func shippedTests(t *testing.T) []string {
	t.Helper()
	res, err := loader.NewFileLoader().WithRegoVersion(ast.RegoV1).Filtered([]string{shipped}, func(_ string, info fs.FileInfo, _ int) bool {
		return !info.IsDir() && !strings.HasSuffix(info.Name(), "_test.rego")
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	seen := map[string]bool{}
	for _, f := range res.Modules {
		for _, rule := range f.Parsed.Rules {
			name := f.Parsed.Package.Path.String() + "." + rule.Head.Name.String()
			if strings.HasPrefix(rule.Head.Name.String(), "test_") && !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	return names
}

func TestTestPass(t *testing.T) {
	r := runTest(t, TestOptions{Dirs: []string{passDir}, Verbose: true})
	r.wantCode(t, 0)
	for _, want := range []string{
		"--- PASS: data.bollard.authz_test.test_read_allowed (",
		"--- PASS: data.bollard.authz_test.test_manage_denied (",
		// The catalog is loaded as data.bollard.catalog.
		"--- PASS: data.bollard.authz_test.test_catalog_is_data (",
		"\nPASS\nok  \t" + passDir + "\t",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// Without -v only failures are listed.
	if r := runTest(t, TestOptions{Dirs: []string{passDir}}); strings.Contains(r.stdout, "--- PASS") {
		t.Errorf("without -v: %s", r.stdout)
	}
}

func TestTestFail(t *testing.T) {
	r := runTest(t, TestOptions{Dirs: []string{failDir, passDir}})
	r.wantCode(t, ExitFail)
	for _, want := range []string{
		// The failing expression, where it is and the values it compared.
		"--- FAIL: data.bollard.authz_test.test_fails (",
		filepath.Join(failDir, "authz_test.rego") + ":12: failed:\n        d.allow == true\n",
		"    decided false\n", // print output
		// The evaluation error with its location.
		"--- FAIL: data.bollard.authz_test.test_errors (",
		filepath.Join(failDir, "authz.rego") + ":15: eval_conflict_error: function data.bollard.authz.level produced conflicting values",
		"    traceback:\n",
		"\nFAIL\nFAIL\t" + failDir + "\t",
		// Every directory runs.
		"\nPASS\nok  \t" + passDir + "\t",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, unwanted := range []string{"test_passes", "todo_test_later"} {
		if strings.Contains(r.stdout, unwanted) {
			t.Errorf("stdout mentions %s without -v:\n%s", unwanted, r.stdout)
		}
	}
	if r := runTest(t, TestOptions{Dirs: []string{failDir}, Verbose: true}); !strings.Contains(r.stdout, "--- SKIP: data.bollard.authz_test.todo_test_later\n") {
		t.Errorf("-v does not list the skipped test:\n%s", r.stdout)
	}
}

func TestTestRun(t *testing.T) {
	r := runTest(t, TestOptions{Dirs: []string{failDir}, Verbose: true, Run: `test_passes$`})
	r.wantCode(t, 0)
	if strings.Count(r.stdout, "--- ") != 1 || !strings.Contains(r.stdout, "--- PASS: data.bollard.authz_test.test_passes") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	r = runTest(t, TestOptions{Dirs: []string{failDir}, Run: `nothing_matches`})
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "[no tests to run]") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

func TestTestCompileError(t *testing.T) {
	r := runTest(t, TestOptions{Dirs: []string{compileDir, passDir}})
	r.wantCode(t, ExitError)
	wantErr := filepath.Join(compileDir, "authz.rego") + ":4: rego_compile_error: assigned var unused unused\n"
	if !strings.Contains(r.stderr, wantErr) {
		t.Errorf("stderr = %q, want %q", r.stderr, wantErr)
	}
	if !strings.Contains(r.stdout, "FAIL\t"+compileDir+" [compile failed]\n") || !strings.Contains(r.stdout, "ok  \t"+passDir) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if r.err.(*ExitCodeError).Err != nil {
		t.Errorf("the problems are printed once, not again as an error: %v", r.err)
	}
}

// The sidecar's capabilities apply to tests: no network built-ins.
func TestTestForbiddenBuiltin(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"authz.rego": "package bollard.authz\n\ndecision := http.send({\"method\": \"GET\", \"url\": \"http://example.com\"})\n",
	})
	r := runTest(t, TestOptions{Dirs: []string{dir}})
	r.wantCode(t, ExitError)
	if !strings.Contains(r.stderr, "authz.rego:3: rego_type_error: undefined function http.send") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestTestJSON(t *testing.T) {
	r := runTest(t, TestOptions{Dirs: []string{failDir}, Format: "json"})
	r.wantCode(t, ExitFail)
	var results []*tester.Result // opa test --format json
	if err := json.Unmarshal([]byte(r.stdout), &results); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	got := map[string]string{}
	for _, res := range results {
		outcome := "pass"
		switch {
		case res.Skip:
			outcome = "skip"
		case res.Error != nil:
			outcome = "error"
		case res.Fail:
			outcome = "fail"
		}
		got[res.Name] = outcome
	}
	want := map[string]string{"test_passes": "pass", "test_fails": "fail", "test_errors": "error", "todo_test_later": "skip"}
	if len(got) != len(want) {
		t.Errorf("results = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
}

func TestTestJUnit(t *testing.T) {
	r := runTest(t, TestOptions{Dirs: []string{failDir, passDir, compileDir}, Format: "junit"})
	r.wantCode(t, ExitError)
	type counts struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
	}
	var doc struct {
		counts
		Suites []struct {
			counts
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Text string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Type string `xml:"type,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, r.stdout)
	}
	if doc.Tests != 8 || doc.Failures != 1 || doc.Errors != 2 || doc.Skipped != 1 {
		t.Errorf("totals tests=%d failures=%d errors=%d skipped=%d, want 8 1 2 1", doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
	if len(doc.Suites) != 3 {
		t.Fatalf("%d suites, want 3", len(doc.Suites))
	}
	fail := doc.Suites[0]
	if fail.Name != failDir || fail.Tests != 4 || fail.Failures != 1 || fail.Errors != 1 || fail.Skipped != 1 {
		t.Errorf("suite %+v", fail)
	}
	for _, c := range fail.Cases {
		if c.Classname != "data.bollard.authz_test" {
			t.Errorf("%s: classname %q", c.Name, c.Classname)
		}
		switch c.Name {
		case "test_fails":
			if c.Failure == nil || !strings.Contains(c.Failure.Text, "d.allow == true") {
				t.Errorf("test_fails: failure %+v", c.Failure)
			}
		case "test_errors":
			if c.Error == nil || c.Error.Type != "eval_conflict_error" {
				t.Errorf("test_errors: error %+v", c.Error)
			}
		}
	}
	if s := doc.Suites[1]; s.Tests != 3 || s.Failures+s.Errors+s.Skipped != 0 {
		t.Errorf("pass suite %+v", s)
	}
	// A directory that does not compile is one erring case.
	if s := doc.Suites[2]; s.Tests != 1 || s.Errors != 1 || s.Cases[0].Error.Type != "compile_error" {
		t.Errorf("compile suite %+v", s)
	}
}

// Bad options are bad input (flags are cmd/sidecar's: TestPolicyFlags).
func TestTestUsage(t *testing.T) {
	for _, o := range []TestOptions{
		{},
		{Dirs: []string{passDir}, Format: "xml"},
		{Dirs: []string{passDir}, Run: "("},
		{Dirs: []string{passDir}, Timeout: -time.Second},
		{Dirs: []string{filepath.Join(t.TempDir(), "missing")}},
	} {
		r := runTest(t, o)
		r.wantCode(t, ExitError)
	}
}
