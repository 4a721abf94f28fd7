package policytool

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/decision"
)

var checkDir = filepath.Join("testdata", "check")

func TestCheckShippedAllow(t *testing.T) {
	// provisioner-bot has an action list, so its reads take the general
	// branch of the decision, through the grants rule.
	r := runCheck(t, CheckOptions{Agent: "provisioner-bot", Action: "users.list", Params: map[string]any{"limit": 10.0}, Time: at2026})
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
	r := runCheck(t, CheckOptions{Agent: "reader-bot", Action: "users.delete", Params: map[string]any{"userId": "00u1abcdEFGH2345"}, Time: at2026})
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
	o := CheckOptions{Agent: "helpdesk-bot", Action: "user_lifecycle.deactivate", Params: map[string]any{"userId": "00u1abcdEFGH2345"},
		Time: at2026, Context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 0, "day": 0}}}}
	r := runCheck(t, o)
	r.wantCode(t, ExitFail)
	if !strings.Contains(r.stdout, "target_unresolved") {
		t.Errorf("full: %s", r.stdout)
	}
	o.Stage = decision.StageGrant
	r = runCheck(t, o)
	r.wantCode(t, 0)
	if !strings.HasPrefix(r.stdout, "ALLOW user_lifecycle.deactivate by helpdesk-bot") {
		t.Errorf("grant: %s", r.stdout)
	}
}

// check reads every part of the input from its options.
func TestCheckInput(t *testing.T) {
	tests := []struct {
		name     string
		opts     CheckOptions
		wantCode int
		wantDeny []string
	}{
		{
			name: "allowed",
			opts: CheckOptions{AuthMethod: "jwt", Claims: map[string]any{"team": "it"},
				Context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 2.0}}},
				Time:    at2026, Params: map[string]any{"limit": 5.0}},
		},
		{
			name: "every input denies",
			opts: CheckOptions{AuthMethod: "jwt", Claims: map[string]any{"team": "sales"},
				Context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 3.0}}},
				Time:    time.Date(2026, 11, 28, 15, 0, 0, 0, time.FixedZone("", -5*3600))},
			wantCode: ExitFail,
			wantDeny: []string{"impact_limit", "no_limit", "weekend", "wrong_team"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.PolicyDir, o.Agent, o.Action, o.Format = checkDir, "bot", "users.list", "json"
			r := runCheck(t, o)
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

// Bad options are reported all at once, by the flags that set them (the
// flags' own syntax is cmd/sidecar's: TestPolicyCheckFlags).
func TestCheckBadInput(t *testing.T) {
	tests := []struct {
		name string
		opts CheckOptions
		want []string
	}{
		{name: "unknown action", opts: CheckOptions{Action: "users.lst"}, want: []string{`unknown action "users.lst" (did you mean "users.list"?)`}},
		{
			name: "invalid parameters",
			opts: CheckOptions{Action: "users.get", Params: map[string]any{"userid": "x", "limit": 5.0}},
			want: []string{"invalid parameters for users.get:\n", "  params.limit: unknown parameter for users.get\n", "  params.userId: required"},
		},
		{name: "wrong type", opts: CheckOptions{Action: "users.list", Params: map[string]any{"limit": "ten"}}, want: []string{"params.limit: must be a number"}},
		{name: "auth method and format", opts: CheckOptions{Action: "users.list", AuthMethod: "password", Format: "yaml"},
			want: []string{"--auth-method must be key or jwt", "--format must be text or json"}},
		{name: "policy does not load", opts: CheckOptions{Action: "users.list", PolicyDir: filepath.Join("testdata", "test", "compile")},
			want: []string{"load policy", "assigned var unused unused"}},
		{name: "no action", want: []string{"--action is required"}},
		{name: "stage", opts: CheckOptions{Action: "users.list", Stage: decision.StageEffect}, want: []string{"--stage must be full or grant"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Agent = "reader-bot"
			r := runCheck(t, o)
			r.wantCode(t, ExitError)
			for _, want := range tc.want {
				if !strings.Contains(r.err.Error(), want) {
					t.Errorf("err = %v\nwant %q", r.err, want)
				}
			}
		})
	}
	r := runCheck(t, CheckOptions{Action: "users.list"}) // no agent
	r.wantCode(t, ExitError)
	if !strings.Contains(r.err.Error(), "--agent is required") {
		t.Errorf("err = %v", r.err)
	}
}

// TestCheckDefaultCounts: the sidecar always gives the policy the agent's
// destructive counts, so check does too (zero) unless the context has
// them; without counts the shipped impact limits would deny every
// destructive call.
func TestCheckDefaultCounts(t *testing.T) {
	deactivate := CheckOptions{Agent: "helpdesk-bot", Action: "user_lifecycle.deactivate", Params: map[string]any{"userId": "00u1abcdEFGH2345"},
		Time: at2026, Stage: decision.StageGrant}
	r := runCheck(t, deactivate)
	r.wantCode(t, 0)
	if !strings.HasPrefix(r.stdout, "ALLOW user_lifecycle.deactivate by helpdesk-bot") {
		t.Errorf("without a context: %s", r.stdout)
	}
	// A context without counts gets them too.
	deactivate.Context = map[string]any{"note": "no counts here"}
	runCheck(t, deactivate).wantCode(t, 0)
	// Counts that are given are used as they are, even missing ones.
	deactivate.Context = map[string]any{"counts": map[string]any{}}
	r = runCheck(t, deactivate)
	r.wantCode(t, ExitFail)
	if !strings.Contains(r.stdout, "impact_limit") {
		t.Errorf("with empty counts: %s", r.stdout)
	}
	if deactivate.Context["counts"] == nil || len(deactivate.Context) != 1 {
		t.Errorf("the caller's context was changed: %v", deactivate.Context)
	}
}
