package policytool

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

// docExamples reads the fenced rego and json blocks of one section of a
// Markdown document, in order.
func docExamples(t *testing.T, path, heading string) (rego, data []string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	start := strings.Index(doc, "\n## "+heading+"\n")
	if start < 0 {
		t.Fatalf("%s has no section %q", path, heading)
	}
	section := doc[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	for _, m := range regexp.MustCompile("(?s)```(rego|json)\n(.*?)```").FindAllStringSubmatch(section, -1) {
		if m[1] == "rego" {
			rego = append(rego, m[2])
		} else {
			data = append(data, m[2])
		}
	}
	return rego, data
}

// TestPoliciesDocExamples loads the Rego of docs/policies.md's "Write your
// own rule" with the shipped library, as a security team would: the sidecar
// accepts it, policy lint finds nothing, and the examples' own tests pass.
// An example that stopped working would otherwise be found by its readers.
func TestPoliciesDocExamples(t *testing.T) {
	rego, data := docExamples(t, filepath.Join("..", "..", "docs", "policies.md"), "Write your own rule")
	if len(rego) < 6 || len(data) < 2 {
		t.Fatalf("found %d rego and %d json examples; the section lost its examples", len(rego), len(data))
	}
	files := map[string]string{}
	tests := 0
	for i, src := range rego {
		name := fmt.Sprintf("docs_example_%d.rego", i)
		if strings.Contains(src, "_test\n") {
			name = fmt.Sprintf("docs_example_%d_test.rego", i)
			tests += strings.Count(src, "\ntest_")
		}
		files[name] = src
	}
	for i, src := range data {
		files[fmt.Sprintf("docs_example_%d.json", i)] = src
	}
	dir := shippedWith(t, files)

	r := runLint(t, dir)
	r.wantCode(t, 0)
	if r.stdout != "" {
		t.Errorf("policy lint on the examples:\n%s", r.stdout)
	}
	r = runTest(t, TestOptions{Dirs: []string{dir}, Verbose: true, Run: "docs_example|rules"})
	r.wantCode(t, 0)
	if got := strings.Count(r.stdout, "--- PASS"); got < tests || tests < 5 {
		t.Errorf("%d tests passed, want the examples' %d:\n%s", got, tests, r.stdout)
	}
	// The sidecar loads them, and they deny as the section says.
	e, err := decision.New(t.Context(), decision.WithPolicyDir(dir), decision.WithWatch(false), decision.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	get, _ := catalog.Lookup("users.get")
	d := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: "billing-bot"}, Action: get})
	if d.Allow || len(d.Deny) == 0 || d.Deny[len(d.Deny)-1].Code != "quarantined" {
		t.Errorf("billing-bot users.get: allow %v, deny %v", d.Allow, d.Deny)
	}
}
