package policytool

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

// TestSourceIsTheSidecars: policy test and lint load a directory with the
// sidecar's own loader, so they refuse exactly what the sidecar refuses,
// and the tests see the data the sidecar decides with.
func TestSourceIsTheSidecars(t *testing.T) {
	const authz = `package bollard.authz

decision := {"allow": data.sub.dir.flag == true, "deny": [], "obligations": {"require_confirmation": false}}
`
	const test = `package bollard.authz_test

import data.bollard.authz

test_flag if authz.decision.allow

test_catalog if data.bollard.catalog.actions["users.list"].access == "read"
`
	tests := []struct {
		name    string
		files   map[string]string
		refused string // what the sidecar and the tools both say, "" when both load it
	}{
		{name: "nested data", files: map[string]string{"sub/dir/data.json": `{"flag": true}`}},
		{name: "data at the root", files: map[string]string{"d.json": `{"sub": {"dir": {"flag": true}}}`}},
		{name: "hidden files skipped", files: map[string]string{"sub/dir/data.json": `{"flag": true}`, ".git/x.json": "{", ".x.rego": "package {"}},
		{name: "other files ignored", files: map[string]string{"sub/dir/data.json": `{"flag": true}`, "notes.md": "# x", "values.yaml": ": :"}},
		{name: "overlapping data", files: map[string]string{"sub/dir/data.json": `{"flag": true}`, "sub/x.json": `{"dir": {"flag": false}}`},
			refused: "overlaps"},
		{name: "catalog data", files: map[string]string{"sub/dir/data.json": `{"flag": true}`, "c.json": `{"bollard": {"catalog": {}}}`},
			refused: "data.bollard.catalog is reserved"},
		{name: "rules data", files: map[string]string{"sub/dir/data.json": `{"flag": true}`, "bollard/rules/d.json": `{"x": {"deny": []}}`},
			refused: "data.bollard.rules is reserved"},
		{name: "root data not an object", files: map[string]string{"sub/dir/data.json": `{"flag": true}`, "l.json": `[1]`},
			refused: "must hold a JSON object"},
		{name: "bad JSON", files: map[string]string{"sub/dir/data.json": `{"flag": true,}`}, refused: "invalid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"authz.rego": authz, "authz_test.rego": test}
			for k, v := range tc.files {
				files[k] = v
			}
			dir := writeFiles(t, files)
			e, engineErr := decision.New(t.Context(), decision.WithPolicyDir(dir), decision.WithWatch(false), decision.WithLogger(slog.New(slog.DiscardHandler)))
			_, probs, err := loadSource(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			if tc.refused != "" {
				if engineErr == nil || !strings.Contains(engineErr.Error(), tc.refused) {
					t.Errorf("sidecar: %v, want it refused (%s)", engineErr, tc.refused)
				}
				if len(probs) != 1 || !strings.Contains(probs[0].msg, tc.refused) {
					t.Errorf("tools: %v, want it refused (%s)", probs, tc.refused)
				}
				return
			}
			if engineErr != nil || len(probs) > 0 {
				t.Fatalf("sidecar: %v, tools: %v; want both to load it", engineErr, probs)
			}
			defer e.Close()
			list, _ := catalog.Lookup("users.list")
			if d := e.Decide(t.Context(), decision.Input{Action: list}); !d.Allow {
				t.Errorf("the sidecar does not see the data: %v", d.Deny)
			}
			r := runTest(t, TestOptions{Dirs: []string{dir}, Verbose: true})
			r.wantCode(t, 0)
			if strings.Count(r.stdout, "--- PASS") != 2 {
				t.Errorf("policy test does not see the data the sidecar sees:\n%s", r.stdout)
			}
		})
	}
}
