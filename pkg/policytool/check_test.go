package policytool

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

var checkDir = filepath.Join("testdata", "check")

func TestCheckShippedAllow(t *testing.T) {
	// provisioner-bot has an action list, so its reads take the general
	// branch of the decision, through the grants rule.
	r := runMain(t, "check", "--agent", "provisioner-bot", "--action", "users.list", "--params", `{"limit": 10}`,
		"--time", "2026-11-30T15:00:00Z")
	r.wantCode(t, 0)
	for _, want := range []string{
		"ALLOW users.list by provisioner-bot\n",
		"obligations:\n  ",
		"require_confirmation: false\n",
		"policy: embedded, revision ",
		"time 2026-11-30T15:00:00Z\n",
		"rules that produced a value, in evaluation order:\n",
		"data.bollard.grants.granted ",
		"data.bollard.authz.decision ",
		"authz.rego:",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestCheckShippedDeny(t *testing.T) {
	r := runMain(t, "check", "--agent", "reader-bot", "--action", "users.delete", "--params", `{"userId": "00u1abcdEFGH2345"}`,
		"--time", "2026-11-30T15:00:00Z")
	r.wantCode(t, ExitFail)
	if !strings.HasPrefix(r.stdout, "DENY users.delete by reader-bot\n") ||
		!strings.Contains(r.stdout, "\n  not_granted: agent \"reader-bot\" is not granted manage access") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if r.err.(*ExitCodeError).Err != nil {
		t.Errorf("a denial is printed once, not again as an error: %v", r.err)
	}
}

// TestCheckStages: without the facts of a lookup, the full decision of a
// deactivation is refused (the target is unresolved), while the sidecar's
// first stage, which decides before any lookup, allows it.
func TestCheckStages(t *testing.T) {
	args := []string{"check", "--agent", "helpdesk-bot", "--action", "user_lifecycle.deactivate", "--params", `{"userId": "00u1abcdEFGH2345"}`,
		"--time", "2026-11-30T15:00:00Z", "--context", `{"counts": {"destructive": {"hour": 0, "day": 0}}}`}
	r := runMain(t, args...)
	r.wantCode(t, ExitFail)
	if !strings.Contains(r.stdout, "target_unresolved") {
		t.Errorf("full: %s", r.stdout)
	}
	r = runMain(t, append(args, "--stage", "grant")...)
	r.wantCode(t, 0)
	if !strings.HasPrefix(r.stdout, "ALLOW user_lifecycle.deactivate by helpdesk-bot") {
		t.Errorf("grant: %s", r.stdout)
	}
}

// check reads every part of the input from its flags.
func TestCheckInput(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantDeny []string
	}{
		{
			name: "allowed",
			args: []string{"--auth-method", "jwt", "--claims", `{"team": "it"}`, "--context", `{"counts": {"destructive": {"hour": 2}}}`,
				"--time", "2026-11-30T15:00:00Z", "--params", `{"limit": 5}`},
		},
		{
			name: "every input denies",
			args: []string{"--auth-method", "jwt", "--claims", `{"team": "sales"}`, "--context", `{"counts": {"destructive": {"hour": 3}}}`,
				"--time", "2026-11-28T15:00:00-05:00"},
			wantCode: ExitFail,
			wantDeny: []string{"impact_limit", "no_limit", "weekend", "wrong_team"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"check", "--policy", checkDir, "--agent", "bot", "--action", "users.list", "--format", "json"}, tc.args...)
			r := runMain(t, args...)
			r.wantCode(t, tc.wantCode)
			var got checkResult
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("%v:\n%s", err, r.stdout)
			}
			var codes []string
			for _, d := range got.Deny {
				codes = append(codes, d.Code)
			}
			if got.Allow != (tc.wantCode == 0) || strings.Join(codes, ",") != strings.Join(tc.wantDeny, ",") {
				t.Errorf("allow %v deny %v, want %v", got.Allow, codes, tc.wantDeny)
			}
			if got.Obligations["max_page_size"] != 25.0 || got.Obligations["require_confirmation"] != false {
				t.Errorf("obligations %v", got.Obligations)
			}
			if got.Policy != checkDir || got.Revision == "" {
				t.Errorf("policy %q revision %q", got.Policy, got.Revision)
			}
			rules := map[string]string{}
			for _, h := range got.Rules {
				rules[h.Rule] = h.Location
			}
			if rules["data.bollard.authz.obligations"] != "authz.rego:8" || rules["data.bollard.authz.decision"] == "" {
				t.Errorf("rules %v", got.Rules)
			}
			if _, ok := rules["data.bollard.authz.reasons"]; ok != (tc.wantCode != 0) {
				t.Errorf("reasons listed %v, want %v", ok, tc.wantCode != 0)
			}
		})
	}
}

func TestCheckBadInput(t *testing.T) {
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
		{args: []string{"--action", "users.list", "--policy", filepath.Join("testdata", "test", "compile")}, want: []string{"load policy", "assigned var unused unused"}},
		{args: []string{"extra"}, want: []string{`unexpected argument "extra"`, "--action is required"}},
		{args: []string{"--action", "users.list", "--stage", "effect"}, want: []string{"--stage must be full or grant"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runMain(t, append(base, tc.args...)...)
			r.wantCode(t, ExitError)
			for _, want := range tc.want {
				if !strings.Contains(r.err.Error(), want) {
					t.Errorf("err = %v\nwant %q", r.err, want)
				}
			}
		})
	}
	runMain(t, "check", "--action", "users.list").wantCode(t, ExitError) // no agent
}
