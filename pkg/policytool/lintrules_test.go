package policytool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shippedWith copies the shipped policies (tests included) to a new
// directory with extra files.
func shippedWith(t *testing.T, extra map[string]string) string {
	t.Helper()
	files := map[string]string{}
	entries, err := os.ReadDir(shipped)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".rego") || strings.HasSuffix(n, ".json") {
			b, err := os.ReadFile(filepath.Join(shipped, n))
			if err != nil {
				t.Fatal(err)
			}
			files[n] = string(b)
		}
	}
	for k, v := range extra {
		files[k] = v
	}
	return writeFiles(t, files)
}

// addedReason is a rule written the way the shipped reasons are, beside
// them: it only shows on calls the shipped rules already deny.
const addedReason = `package bollard.authz

reasons contains {"code": "no_contractors", "message": "contractors may not"} if {
	startswith(input.agent.id, "contractor-")
}
`

func TestLintFindsRulesThatCannotDeny(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
		code  int
	}{
		{
			name:  "a reason added beside the shipped ones",
			files: map[string]string{"contractors.rego": addedReason},
			want:  []string{"contractors.rego:3: data.bollard.authz.reasons: this is not one of the shipped library's rules"},
			code:  ExitFail,
		},
		{
			name:  "a deny no decision reads",
			files: map[string]string{"mine.rego": "package mycompany\n\ndeny contains {\"code\": \"a\", \"message\": \"b\"} if input.agent.id == \"x\"\n"},
			want:  []string{"mine.rego:3: data.mycompany.deny: no decision reads this rule"},
			code:  ExitFail,
		},
		{
			name:  "a deny under data.bollard.rules that is not a set",
			files: map[string]string{"mine.rego": "package bollard.rules.mine\n\ndeny if input.agent.id == \"x\"\n"},
			want:  []string{"mine.rego:3: data.bollard.rules.mine.deny: deny under data.bollard.rules must be a set"},
			code:  ExitFail,
		},
		{
			name:  "data under data.bollard.rules",
			files: map[string]string{"rules.json": `{"bollard": {"rules": {"x": {"deny": []}}}}`},
			want:  []string{"rules.json:1: data.bollard.rules is reserved for the security team's deny rules"},
			code:  ExitFail,
		},
		{
			name: "a scan is a warning",
			files: map[string]string{"mine.rego": `package bollard.rules.mine

deny contains {"code": "blocked", "message": "m"} if {
	some a in data.bollard.config.blocked_agents
	a == input.agent.id
}
`, "blocked.json": `{"bollard": {"config": {"blocked_agents": ["x"]}}}`},
			want: []string{"mine.rego:4: warning: iterates over data.bollard.config.blocked_agents on every call"},
			code: 0,
		},
		{
			name: "the indexed form is clean",
			files: map[string]string{"mine.rego": `package bollard.rules.mine

deny contains {"code": "blocked", "message": why} if {
	why := data.bollard.config.blocked_agents[input.agent.id]
}
`, "blocked.json": `{"bollard": {"config": {"blocked_agents": {"x": "investigation"}}}}`},
			code: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := shippedWith(t, tc.files)
			r := runLint(t, dir)
			r.wantCode(t, tc.code)
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, filepath.Join(dir, w)) && !strings.Contains(r.stdout, dir+"/"+w) {
					t.Errorf("lint output lacks %q:\n%s", w, r.stdout)
				}
			}
			if len(tc.want) == 0 && r.stdout != "" {
				t.Errorf("lint said:\n%s", r.stdout)
			}
		})
	}
}

// TestPolicyTestFailsOnRulesThatCannotDeny: the policy's own tests may
// pass, but a rule that never denies by itself fails the run.
func TestPolicyTestFailsOnRulesThatCannotDeny(t *testing.T) {
	dir := shippedWith(t, map[string]string{"contractors.rego": addedReason})
	r := runTest(t, TestOptions{Dirs: []string{dir}, Run: "test_read_allowed"})
	r.wantCode(t, ExitFail)
	if !strings.Contains(r.stderr, "data.bollard.authz.reasons: this is not one of the shipped library's rules") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	refused := shippedWith(t, map[string]string{"mine.rego": "package mycompany\n\ndeny contains \"x\" if true\n"})
	r = runTest(t, TestOptions{Dirs: []string{refused}, Run: "test_read_allowed"})
	r.wantCode(t, ExitError)
	if !strings.Contains(r.stderr, "(the sidecar refuses this policy)") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}
