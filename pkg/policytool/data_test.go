package policytool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// TestDataRunsShippedTestsInPlainOPA: with the file policy data writes,
// OPA's own loader and test runner (what `opa test policies/ catalog.json`
// runs, not the sidecar's engine) pass every shipped policy test.
func TestDataRunsShippedTestsInPlainOPA(t *testing.T) {
	out := filepath.Join(t.TempDir(), "catalog.json")
	run(t, func(stdout, _ io.Writer) error { return Data(t.Context(), DataOptions{Out: out}, stdout) }).wantCode(t, 0)

	// What opa test does (tester.Run), with a time limit for the shipped
	// library's exhaustive tests, as `opa test --timeout` gives it. The
	// matrix tests (95% of the library's evaluation) are left to
	// policies.TestRego, which runs them on the same data (the file is the
	// engine's catalog: TestDataIsTheEnginesCatalog): running them here too
	// made this the suite's longest test for no further check.
	var run []string
	for _, name := range shippedTests(t) {
		if !matrixTests.MatchString(name) {
			run = append(run, regexp.QuoteMeta(name))
		}
	}
	modules, store, err := tester.Load([]string{shipped, out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tester.NewRunner().SetStore(store).SetTimeout(3*time.Minute).Filter("^("+strings.Join(run, "|")+")$").Run(t.Context(), modules)
	if err != nil {
		t.Fatal(err)
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	var failed []string
	for _, r := range results {
		if !r.Pass() {
			failed = append(failed, fmt.Sprintf("%s.%s (error: %v)", r.Package, r.Name, r.Error))
		}
	}
	if len(failed) > 0 {
		t.Errorf("%d of %d shipped tests fail in plain OPA with the data file: %s", len(failed), len(results), strings.Join(failed, ", "))
	}
	if want := shippedTestCount(t); len(results) != len(run) || len(run) >= want || len(run) < 100 {
		t.Errorf("OPA ran %d tests of the %d asked for; the shipped policies have %d", len(results), len(run), want)
	}
}

// shippedTestCount counts the test_ rules of the shipped policies.
func shippedTestCount(t *testing.T) int {
	t.Helper()
	res, err := loader.NewFileLoader().Filtered([]string{shipped}, func(_ string, info os.FileInfo, _ int) bool {
		return !info.IsDir() && !strings.HasSuffix(info.Name(), "_test.rego")
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range res.ParsedModules() {
		names := map[string]bool{}
		for _, r := range m.Rules {
			if name := r.Head.Ref().String(); strings.HasPrefix(name, tester.TestPrefix) {
				names[name] = true
			}
		}
		n += len(names)
	}
	if n == 0 {
		t.Fatal("no shipped tests found")
	}
	return n
}

// TestDataIsTheEnginesCatalog: the file holds exactly what the engine
// mounts, on stdout as in a file.
func TestDataIsTheEnginesCatalog(t *testing.T) {
	r := run(t, func(stdout, _ io.Writer) error { return Data(t.Context(), DataOptions{}, stdout) })
	r.wantCode(t, 0)
	var doc any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	got, err := ast.InterfaceToValue(doc)
	if err != nil {
		t.Fatal(err)
	}
	if got.Compare(decision.CatalogData()) != 0 {
		t.Error("the data file differs from the catalog the engine mounts")
	}
	out := filepath.Join(t.TempDir(), "catalog.json")
	run(t, func(stdout, _ io.Writer) error { return Data(t.Context(), DataOptions{Out: out}, stdout) }).wantCode(t, 0)
	if b, err := os.ReadFile(out); err != nil || !bytes.Equal(b, []byte(r.stdout)) {
		t.Errorf("--out wrote something else than stdout (%v)", err)
	}
	run(t, func(stdout, _ io.Writer) error {
		return Data(t.Context(), DataOptions{Out: filepath.Join(t.TempDir(), "missing", "x.json")}, stdout)
	}).wantCode(t, ExitError)
}
