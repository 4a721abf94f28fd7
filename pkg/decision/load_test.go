package decision_test

import (
	"errors"
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/policies"
)

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name  string
		fsys  fs.FS
		opts  []decision.Option
		match string
		is    error
	}{
		{name: "parse error", fsys: policyFS("p.rego", "package bollard.authz\n\ndecision := {"), match: "parse p.rego"},
		{name: "rego v0 syntax", fsys: policyFS("p.rego", "package bollard.authz\n\ndecision = x { x := 1 }\n"), match: "parse p.rego"},
		{name: "strict mode", fsys: policyFS("p.rego", "package bollard.authz\n\nimport data.unused\n\n"+
			"decision := "+ok+"\n"), match: "unused"},
		{name: "unsafe variable", fsys: policyFS("p.rego", "package bollard.authz\n\ndecision := x\n"), match: "compile"},
		{name: "no decision", fsys: policyFS("p.rego", "package bollard.authz\n\nallow := true\n"), is: decision.ErrNoDecision},
		{name: "decision in another package", fsys: policyFS("p.rego", "package bollard\n\ndecision := "+ok+"\n"), is: decision.ErrNoDecision},
		{name: "no rego files", fsys: policyFS("d.json", `{}`), match: "no .rego files"},
		{name: "network call", fsys: policyFS("p.rego", "package bollard.authz\n\ndecision := "+ok+" if {\n\thttp.send({\"method\": \"GET\", \"url\": \"https://x\"})\n}\n"),
			match: "undefined function http.send"},
		{name: "process environment", fsys: policyFS("p.rego", "package bollard.authz\n\ndecision := "+ok+" if {\n\topa.runtime().env\n}\n"),
			match: "undefined function opa.runtime"},
		{name: "only tests", fsys: policyFS("p_test.rego", "package bollard.authz\n\ndecision := "+ok+"\n"), match: "no .rego files"},
		{name: "bad json", fsys: policyFS("p.rego", regoDecision(ok), "d.json", `{"a":`), match: "parse d.json"},
		{name: "two json values", fsys: policyFS("p.rego", regoDecision(ok), "d.json", `{} {}`), match: "more than one"},
		{name: "root data not an object", fsys: policyFS("p.rego", regoDecision(ok), "d.json", `[1]`), match: "must hold a JSON object"},
		{name: "overlapping data", fsys: policyFS("p.rego", regoDecision(ok), "a.json", `{"x": {"y": 1}}`, "b.json", `{"x": {"y": 2}}`),
			match: "overlaps"},
		{name: "data under a rule", fsys: policyFS("p.rego", regoDecision(ok), "d.json", `{"bollard": {"authz": {"decision": 1}}}`),
			match: "conflict"},
		{name: "all problems at once", fsys: policyFS("a.rego", "package", "b.json", "{"), match: "parse b.json"},
		{name: "zero timeout", fsys: policyFS("p.rego", regoDecision(ok)), opts: []decision.Option{decision.WithEvalTimeout(0)}, match: "eval timeout"},
		{name: "empty dir", opts: []decision.Option{decision.WithPolicyDir("")}, match: "policy directory is empty"},
		{name: "missing dir", opts: []decision.Option{decision.WithPolicyDir("/nonexistent/bollard")}, match: "read policy files"},
		{name: "nil fs", opts: []decision.Option{decision.WithPolicyFS(nil)}, match: "policy source is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if tt.fsys != nil {
				opts = append([]decision.Option{decision.WithPolicyFS(tt.fsys)}, opts...)
			}
			e, err := decision.New(t.Context(), append(opts, decision.WithLogger(discard))...)
			if err == nil {
				_ = e.Close()
				t.Fatal("New succeeded")
			}
			if tt.match != "" && !strings.Contains(err.Error(), tt.match) {
				t.Errorf("error %q does not mention %q", err, tt.match)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
	t.Run("reports every file", func(t *testing.T) {
		_, err := decision.New(t.Context(), decision.WithLogger(discard), decision.WithPolicyFS(policyFS("a.rego", "package", "b.json", "{")))
		if err == nil || !strings.Contains(err.Error(), "a.rego") || !strings.Contains(err.Error(), "b.json") {
			t.Errorf("error %v should name a.rego and b.json", err)
		}
	})
}

func TestSourceSelection(t *testing.T) {
	good := regoDecision(ok)
	tests := []struct {
		name string
		fsys fstest.MapFS
	}{
		// A broken test file is not part of the runtime policy.
		{"tests excluded", policyFS("p.rego", good, "p_test.rego", "package broken {")},
		{"hidden files skipped", policyFS("p.rego", good, ".p.rego", "package broken {", ".git/x.json", "{")},
		{"other files ignored", policyFS("p.rego", good, "README.md", "# notes", "values.yaml", ": :", "embed.go", "package x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEngine(t, decision.WithPolicyFS(tt.fsys))
			if d := e.Decide(t.Context(), decision.Input{Action: action(t, "users.list")}); !d.Allow {
				t.Errorf("denied: %v", d.Deny)
			}
			// The revision covers only the files that make up the policy.
			only, _ := newEngine(t, decision.WithPolicyFS(policyFS("p.rego", good)))
			if e.Revision() != only.Revision() {
				t.Errorf("revision %s differs from the policy alone %s", e.Revision(), only.Revision())
			}
		})
	}
}

// TestDataLayout: data files mount where `opa test` mounts them, a file in
// directory a/b under data.a.b.
func TestDataLayout(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS(
		"p.rego", `package bollard.authz

decision := {"allow": data.sub.dir.flag, "deny": [], "obligations": {"require_confirmation": data.root.flag}}
`,
		"root.json", `{"root": {"flag": true}}`,
		"sub/dir/data.json", `{"flag": true}`,
	)))
	d := e.Decide(t.Context(), decision.Input{Action: action(t, "users.list")})
	if !d.Allow || !d.Obligations.RequireConfirmation {
		t.Errorf("decision = %+v, want data from both files", d)
	}
}

var revisionRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestRevision(t *testing.T) {
	base := func() fstest.MapFS { return withAgents(t, 0).(fstest.MapFS) }
	rev := func(fsys fs.FS) string {
		e, _ := newEngine(t, decision.WithPolicyFS(fsys))
		return e.Revision()
	}
	r0 := rev(base())
	if !revisionRE.MatchString(r0) {
		t.Fatalf("revision %q is not 16 hex digits", r0)
	}
	if r := rev(policies.FS); r != r0 {
		t.Errorf("embedded revision %s differs from a copy %s", r, r0)
	}

	data := base()
	data["grants.json"].Data = []byte(strings.Replace(string(data["grants.json"].Data), `"apps": "read"`, `"apps": "manage"`, 1))
	if rev(data) == r0 {
		t.Error("changing data kept the revision")
	}
	tests := base()
	tests["grants_test.rego"].Data = append(tests["grants_test.rego"].Data, "\n# a comment\n"...)
	if rev(tests) != r0 {
		t.Error("changing a test file changed the revision")
	}
	moved := base()
	moved["sub/grants.json"] = moved["grants.json"]
	delete(moved, "grants.json")
	if r, err := decision.New(t.Context(), decision.WithLogger(discard), decision.WithPolicyFS(moved)); err == nil && r.Revision() == r0 {
		t.Error("moving a file kept the revision")
	}
}
