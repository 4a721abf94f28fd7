package decision_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/decision"
)

const ok = `{"allow": true, "deny": [], "obligations": {"require_confirmation": false}}`

// TestFailClosed: every way a policy can fail to answer denies the call with
// policy_error, keeps the cause out of the message and logs it.
func TestFailClosed(t *testing.T) {
	tests := []struct {
		name   string
		policy string
		params map[string]any
		noAct  bool
		cause  string // expected in the logged error
	}{
		{name: "undefined", policy: `package bollard.authz

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false}} if input.agent.id == "nobody"
`, cause: "undefined"},
		{name: "not an object", policy: regoDecision(`true`), cause: "not an object"},
		{name: "allow not a boolean", policy: regoDecision(`{"allow": "yes", "deny": [], "obligations": {"require_confirmation": false}}`), cause: "allow"},
		{name: "allow missing", policy: regoDecision(`{"deny": [], "obligations": {"require_confirmation": false}}`), cause: "allow"},
		{name: "deny a set", policy: regoDecision(`{"allow": false, "deny": {{"code": "a", "message": "b"}}, "obligations": {"require_confirmation": false}}`), cause: "deny"},
		{name: "deny missing", policy: regoDecision(`{"allow": true, "obligations": {"require_confirmation": false}}`), cause: "deny"},
		{name: "reason not an object", policy: regoDecision(`{"allow": false, "deny": ["nope"], "obligations": {"require_confirmation": false}}`), cause: "deny[0]"},
		{name: "code not a string", policy: regoDecision(`{"allow": false, "deny": [{"code": 1, "message": "m"}], "obligations": {"require_confirmation": false}}`), cause: "deny[0]"},
		{name: "empty code", policy: regoDecision(`{"allow": false, "deny": [{"code": "", "message": "m"}], "obligations": {"require_confirmation": false}}`), cause: "deny[0]"},
		{name: "message missing", policy: regoDecision(`{"allow": true, "deny": [{"code": "a"}, {"code": "b", "message": "m"}], "obligations": {"require_confirmation": false}}`), cause: "deny[0]"},
		{name: "obligations not an object", policy: regoDecision(`{"allow": true, "deny": [], "obligations": []}`), cause: "obligations"},
		{name: "obligations missing", policy: regoDecision(`{"allow": true, "deny": []}`), cause: "obligations"},
		{name: "require_confirmation missing", policy: regoDecision(`{"allow": true, "deny": [], "obligations": {}}`), cause: "require_confirmation"},
		{name: "require_confirmation not a boolean", policy: regoDecision(`{"allow": true, "deny": [], "obligations": {"require_confirmation": "no"}}`), cause: "require_confirmation"},
		{name: "runtime conflict", policy: `package bollard.authz

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false}} if input.version == 1

decision := {"allow": false, "deny": [], "obligations": {"require_confirmation": false}} if input.agent.id == "reader-bot"
`, cause: "conflict"},
		{name: "builtin error leaves the decision undefined", policy: `package bollard.authz

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false}} if {
	x := to_number(input.agent.id)
	x > 0
}
`, cause: "undefined"},
		{name: "param JSON cannot hold", policy: regoDecision(ok), params: map[string]any{"bad": make(chan int)}, cause: "params"},
		// OPA panics comparing NaN; the panic must deny, not crash the sidecar.
		{name: "panic in evaluation", policy: regoDecision(`{"allow": true, "deny": [], "obligations": {"require_confirmation": input.params.x > 1}}`),
			params: map[string]any{"x": math.NaN()}, cause: "panicked"},
		{name: "no action", policy: regoDecision(ok), noAct: true, cause: "no action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rec := newEngine(t, decision.WithPolicyFS(policyFS("p.rego", tt.policy)))
			in := decision.Input{Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Params: tt.params, Time: saturday}
			if !tt.noAct {
				in.Action = action(t, "users.list")
			}
			d := e.Decide(t.Context(), in)
			assertPolicyError(t, d)
			errs := rec.errors("policy evaluation failed")
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.cause) {
				t.Errorf("logged errors = %v, want one mentioning %q", errs, tt.cause)
			}
		})
	}
}

func assertPolicyError(t *testing.T, d decision.Decision) {
	t.Helper()
	if d.Allow {
		t.Fatal("allowed")
	}
	if len(d.Deny) != 1 || d.Deny[0].Code != decision.CodePolicyError {
		t.Fatalf("deny = %v, want one %s", d.Deny, decision.CodePolicyError)
	}
	if m := d.Deny[0].Message; m == "" || strings.ContainsAny(m, "{}:") {
		t.Errorf("message %q is empty or looks like an internal error", m)
	}
	if d.Obligations.RequireConfirmation || d.Obligations.Extra != nil {
		t.Errorf("obligations = %+v, want none", d.Obligations)
	}
	if d.ID == "" || d.Revision == "" {
		t.Errorf("ID %q, Revision %q: want both set", d.ID, d.Revision)
	}
}

// slowPolicy runs about 10^8 steps; only cancellation stops it early.
const slowPolicy = `package bollard.authz

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false}} if {
	r := numbers.range(1, 10000)
	some i in r
	some j in r
	i + j == 0
}
`

func TestTimeout(t *testing.T) {
	e, rec := newEngine(t, decision.WithPolicyFS(policyFS("p.rego", slowPolicy)), decision.WithEvalTimeout(20*time.Millisecond))
	start := time.Now()
	d := e.Decide(t.Context(), decision.Input{Action: action(t, "users.list")})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Decide took %v with a 20ms timeout", took)
	}
	assertPolicyError(t, d)
	errs := rec.errors("policy evaluation failed")
	if len(errs) != 1 || !errors.Is(errs[0], context.DeadlineExceeded) {
		t.Errorf("logged errors = %v, want a deadline exceeded", errs)
	}
}

func TestCallerCancel(t *testing.T) {
	e, rec := newEngine(t, decision.WithPolicyFS(policyFS("p.rego", slowPolicy)), decision.WithEvalTimeout(time.Hour))
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	d := e.Decide(ctx, decision.Input{Action: action(t, "users.list")})
	assertPolicyError(t, d)
	errs := rec.errors("policy evaluation failed")
	if len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
		t.Errorf("logged errors = %v, want context canceled", errs)
	}
}
