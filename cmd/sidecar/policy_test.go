package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// policyRun is one run of `sidecar policy ARGS...`: what it printed and
// the exit code the binary would use.
type policyRun struct {
	stdout, stderr string
	code           int
	err            error
}

func runPolicy(t *testing.T, args ...string) policyRun {
	t.Helper()
	var out, errOut bytes.Buffer
	err := policy(t.Context(), args, &out, &errOut)
	code := 0
	if err != nil {
		code = report(&bytes.Buffer{}, err)
	}
	return policyRun{stdout: out.String(), stderr: errOut.String(), code: code, err: err}
}

func (r policyRun) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d (err %v)\nstdout:\n%s\nstderr:\n%s", r.code, code, r.err, r.stdout, r.stderr)
	}
}

// writePolicy writes name -> content under a new temporary directory.
func writePolicy(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readOnly is a small policy that allows read actions, with its tests.
var readOnly = map[string]string{
	"authz.rego": `package bollard.authz

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false}} if {
	data.bollard.catalog.actions[input.action.name].access == "read"
} else := {"allow": false, "deny": [{"code": "read_only", "message": "only reads"}], "obligations": {"require_confirmation": false}}
`,
	"authz_test.rego": `package bollard.authz_test

import data.bollard.authz

test_read_allowed if authz.decision.allow with input.action.name as "users.list"

test_manage_denied if not authz.decision.allow with input.action.name as "users.delete"
`,
}

// TestPolicyHelp: each command's help text goes to stderr on -h, which is
// not an error worth a message.
func TestPolicyHelp(t *testing.T) {
	for cmd, want := range map[string]string{
		"test":   "usage: sidecar policy test [-v] [--format text|json|junit] [--run REGEX] DIR...\n",
		"check":  "usage: sidecar policy check --agent ID --action NAME [--params JSON] [flags]\n",
		"fmt":    "usage: sidecar policy fmt [-w] [-l] [--fail] PATH...\n",
		"lint":   "usage: sidecar policy lint DIR...\n",
		"replay": "usage: sidecar policy replay --audit FILE [--audit FILE...] --policy DIR [--format text|json]\n",
		"data":   "usage: sidecar policy data [--out FILE]\n",
	} {
		t.Run(cmd, func(t *testing.T) {
			r := runPolicy(t, cmd, "-h")
			r.wantCode(t, 2)
			if !strings.HasPrefix(r.stderr, want) {
				t.Errorf("stderr = %q, want %q", r.stderr, want)
			}
			var quiet bytes.Buffer
			report(&quiet, r.err)
			if quiet.Len() > 0 {
				t.Errorf("-h printed %q as an error", quiet.String())
			}
		})
	}
	r := runPolicy(t, "help")
	r.wantCode(t, 0)
	for _, cmd := range []string{"test", "check", "fmt", "lint", "replay", "data"} {
		if !strings.Contains(r.stdout, "\n  "+cmd+" ") {
			t.Errorf("policy help does not list %s:\n%s", cmd, r.stdout)
		}
	}
}

// TestPolicyFlags: flags go before or after the arguments, and a command
// without what it needs prints its usage and exits 2.
func TestPolicyFlags(t *testing.T) {
	dir := writePolicy(t, readOnly)
	r := runPolicy(t, "test", dir, "-v", "--run", "read")
	r.wantCode(t, 0)
	if strings.Count(r.stdout, "--- PASS") != 1 || !strings.Contains(r.stdout, "--- PASS: data.bollard.authz_test.test_read_allowed") {
		t.Errorf("flags after the directory:\n%s", r.stdout)
	}
	if r := runPolicy(t, "test", "-v", "--", dir); !strings.Contains(r.stdout, "ok  \t"+dir) {
		t.Errorf("arguments after --:\n%s", r.stdout)
	}
	for _, tc := range []struct {
		args  []string
		usage string // printed to stderr, "" for none
		err   string
	}{
		{args: []string{"test"}, usage: "usage: sidecar policy test", err: "no directory given"},
		{args: []string{"test", "--bogus", dir}, usage: "usage: sidecar policy test", err: "flag provided but not defined: -bogus"},
		{args: []string{"test", "--timeout", "0", dir}, err: "--timeout must be positive"},
		{args: []string{"fmt"}, usage: "usage: sidecar policy fmt", err: "no path given"},
		{args: []string{"lint"}, usage: "usage: sidecar policy lint", err: "no directory given"},
		{args: []string{"replay", "--policy", dir}, usage: "usage: sidecar policy replay", err: "--audit is required"},
		{args: []string{"replay", "--audit", "a.log"}, usage: "usage: sidecar policy replay", err: "--policy is required"},
		{args: []string{"replay", "--audit", "a.log", "--policy", dir, "stray"}, err: `unexpected argument "stray" (audit files go with --audit)`},
		{args: []string{"data", "stray"}, err: `unexpected argument "stray"`},
		{args: []string{"launch"}, usage: "usage: sidecar policy <command>", err: `unknown policy command "launch"`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runPolicy(t, tc.args...)
			r.wantCode(t, 2)
			if !strings.Contains(r.err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", r.err, tc.err)
			}
			if tc.usage == "" && r.stderr != "" || !strings.Contains(r.stderr, tc.usage) {
				t.Errorf("stderr = %q, want usage %q", r.stderr, tc.usage)
			}
		})
	}
}

// TestPolicyCheckFlags: every problem with check's flags is reported at
// once, the flags' syntax and the options' meaning alike.
func TestPolicyCheckFlags(t *testing.T) {
	compile := writePolicy(t, map[string]string{"authz.rego": `package bollard.authz

decision := {"allow": false, "deny": [{"code": "x", "message": "x"}], "obligations": {"require_confirmation": false}} if {
	unused := input.agent.id
}
`})
	base := []string{"check", "--agent", "reader-bot"}
	tests := []struct {
		args []string
		want []string
	}{
		{args: []string{"--action", "users.lst"}, want: []string{`unknown action "users.lst" (did you mean "users.list"?)`}},
		{
			args: []string{"--action", "users.get", "--params", `{"userid": "x", "limit": 5}`},
			want: []string{"invalid parameters for users.get:\n", "  params.limit: unknown parameter for users.get\n", "  params.userId: required"},
		},
		{args: []string{"--action", "users.list", "--params", `{"limit": "ten"}`}, want: []string{"params.limit: must be a number"}},
		{args: []string{"--action", "users.list", "--params", `[1]`}, want: []string{"--params must be a JSON object"}},
		{args: []string{"--action", "users.list", "--context", `{`}, want: []string{"--context must be a JSON object"}},
		{args: []string{"--action", "users.list", "--claims", `null`}, want: []string{"--claims must be a JSON object"}},
		{args: []string{"--action", "users.list", "--time", "yesterday"}, want: []string{"--time must be RFC 3339"}},
		{args: []string{"--action", "users.list", "--auth-method", "password", "--format", "yaml"}, want: []string{"--auth-method must be key or jwt", "--format must be text or json"}},
		{args: []string{"--action", "users.list", "--policy", compile}, want: []string{"load policy", "assigned var unused unused"}},
		{args: []string{"extra"}, want: []string{`unexpected argument "extra"`, "--action is required"}},
		{args: []string{"--action", "users.list", "--stage", "effect"}, want: []string{"--stage must be full or grant"}},
		{args: []string{"--action", "users.list", "--time", "yesterday", "--stage", "effect"}, want: []string{"--time must be RFC 3339", "--stage must be full or grant"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runPolicy(t, append(base, tc.args...)...)
			r.wantCode(t, 2)
			for _, want := range tc.want {
				if !strings.Contains(r.err.Error(), want) {
					t.Errorf("err = %v\nwant %q", r.err, want)
				}
			}
		})
	}
	runPolicy(t, "check", "--action", "users.list").wantCode(t, 2) // no agent
}

// TestPolicyCheckWithoutContext: without --context the destructive counts
// are zero, as the sidecar always sends them, so the shipped impact limits
// allow a destructive call in business hours (they used to deny every one
// with impact_limit).
func TestPolicyCheckWithoutContext(t *testing.T) {
	r := runPolicy(t, "check", "--agent", "helpdesk-bot", "--action", "user_lifecycle.deactivate",
		"--params", `{"userId": "00u1abcdEFGH2345"}`, "--time", "2026-11-30T15:00:00Z", "--stage", "grant")
	r.wantCode(t, 0)
	if !strings.HasPrefix(r.stdout, "ALLOW user_lifecycle.deactivate by helpdesk-bot\n") || strings.Contains(r.stdout, "impact_limit:") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

// TestPolicyData: the catalog as an OPA data file, on stdout or in a file.
func TestPolicyData(t *testing.T) {
	r := runPolicy(t, "data")
	r.wantCode(t, 0)
	var doc struct {
		Bollard struct {
			Catalog struct {
				Actions map[string]struct {
					Access string `json:"access"`
				} `json:"actions"`
			} `json:"catalog"`
		} `json:"bollard"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v:\n%.300s", err, r.stdout)
	}
	if doc.Bollard.Catalog.Actions["users.list"].Access != "read" {
		t.Errorf("data.bollard.catalog.actions[\"users.list\"] = %+v", doc.Bollard.Catalog.Actions["users.list"])
	}
	out := filepath.Join(t.TempDir(), "catalog.json")
	f := runPolicy(t, "data", "--out", out)
	f.wantCode(t, 0)
	if b, err := os.ReadFile(out); err != nil || string(b) != r.stdout || f.stdout != "" {
		t.Errorf("--out: file %d bytes (%v), stdout %q; want the same document as on stdout", len(b), err, f.stdout)
	}
	runPolicy(t, "data", "--out", filepath.Join(t.TempDir(), "missing", "catalog.json")).wantCode(t, 2)
}
