package decision_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

// echoPolicy allows everything and hands the input back as an obligation,
// so tests can see exactly what policies see.
var echoPolicy = regoDecision(`{"allow": true, "deny": [], "obligations": {"require_confirmation": false, "input": input}}`)

func echo(t *testing.T, e *decision.Engine, in decision.Input) map[string]any {
	t.Helper()
	d := e.Decide(t.Context(), in)
	if !d.Allow {
		t.Fatalf("echo policy denied: %v", d.Deny)
	}
	got, ok := d.Obligations.Extra["input"].(map[string]any)
	if !ok {
		t.Fatalf("no input in obligations: %#v", d.Obligations.Extra)
	}
	return got
}

// normal re-decodes a JSON-like value so that numbers compare as json.Number.
func normal(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestInputDocument pins input version 1 as docs/policy-contract.md
// describes it.
func TestInputDocument(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS("echo.rego", echoPolicy)))
	at := time.Date(2026, 11, 28, 8, 0, 0, 500, time.FixedZone("EST", -5*3600))
	got := echo(t, e, decision.Input{
		Agent: decision.Agent{ID: "helpdesk-bot", AuthMethod: "jwt", Claims: map[string]any{
			"sub": "system:serviceaccount:it:helpdesk", "aud": []any{"bollard"}, "exp": float64(1795000000),
		}},
		Action:   action(t, "user_lifecycle.deactivate"),
		Resource: map[string]string{"userId": "00u1abcd"},
		Params:   map[string]any{"userId": "00u1abcd", "sendEmail": false},
		Time:     at,
		Context:  map[string]any{"dry_run": true},
	})
	want := map[string]any{
		"version": 1,
		"agent": map[string]any{
			"id": "helpdesk-bot", "auth_method": "jwt",
			"claims": map[string]any{"sub": "system:serviceaccount:it:helpdesk", "aud": []any{"bollard"}, "exp": 1795000000},
		},
		"action": map[string]any{
			"name": "user_lifecycle.deactivate", "area": "user_lifecycle", "access": "manage",
			"scope": "okta.users.manage", "method": "POST", "path": "/api/v1/users/{userId}/lifecycle/deactivate",
			"destructive": true, "event": "user.lifecycle.deactivate",
			"effects": []any{map[string]any{"kind": "user", "from": "path", "name": "userId", "aspect": "lifecycle"}},
		},
		"resource": map[string]any{"userId": "00u1abcd"},
		"params":   map[string]any{"userId": "00u1abcd", "sendEmail": false},
		"time":     "2026-11-28T13:00:00.0000005Z",
		"context":  map[string]any{"dry_run": true},
		"stage":    "full",
	}
	if !reflect.DeepEqual(normal(t, got), normal(t, want)) {
		t.Errorf("input =\n%v\nwant\n%v", got, want)
	}
}

func TestInputDefaults(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS("echo.rego", echoPolicy)))
	before := time.Now().UTC()
	got := echo(t, e, decision.Input{Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: action(t, "users.list")})
	after := time.Now().UTC()
	for _, k := range []string{"resource", "params", "context"} {
		if m, ok := got[k].(map[string]any); !ok || len(m) != 0 {
			t.Errorf("%s = %#v, want {}", k, got[k])
		}
	}
	if m, ok := got["agent"].(map[string]any)["claims"].(map[string]any); !ok || len(m) != 0 {
		t.Errorf("claims = %#v, want {}", got["agent"])
	}
	if a := got["action"].(map[string]any); a["event"] != "" || a["destructive"] != false {
		t.Errorf("action = %v, want empty event and destructive false", a)
	}
	ts, err := time.Parse(time.RFC3339Nano, got["time"].(string))
	if err != nil {
		t.Fatalf("time %q: %v", got["time"], err)
	}
	if ts.Before(before.Truncate(time.Microsecond)) || ts.After(after) {
		t.Errorf("time %v not between %v and %v", ts, before, after)
	}
}

// TestEveryCatalogAction checks the prebuilt input of every action against
// the catalog, and that an action not from the catalog is built the same way.
func TestEveryCatalogAction(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS("echo.rego", echoPolicy)))
	for _, a := range catalog.Actions() {
		want := map[string]any{
			"name": a.Name, "area": a.Area, "access": string(a.Access), "scope": a.Scope,
			"method": a.Method, "path": a.Path, "destructive": a.Destructive, "event": a.Event,
			"effects": catalog.EffectsData(a),
		}
		clone := *a
		for _, act := range []*catalog.Action{a, &clone} {
			got := echo(t, e, decision.Input{Action: act, Time: saturday})["action"]
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: action = %v, want %v", a.Name, got, want)
			}
		}
	}
}

// TestCustomAction: an action that is not the catalog's own pointer (built
// by a test, or changed) is described as it is, not as the catalog's.
func TestCustomAction(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS("echo.rego", echoPolicy)))
	a := *action(t, "users.list")
	a.Destructive = true
	got := echo(t, e, decision.Input{Action: &a})["action"].(map[string]any)
	if got["destructive"] != true {
		t.Errorf("destructive = %v, want true", got["destructive"])
	}
}

// TestObligationsExtra: the obligations besides require_confirmation that
// the sidecar honours, and those an embedder adds (WithObligations), reach
// the caller as JSON values; any other key makes the decision malformed,
// so that it denies with policy_error: a condition is never skipped.
func TestObligationsExtra(t *testing.T) {
	policy := policyFS("p.rego", regoDecision(
		`{"allow": true, "deny": [], "obligations": {"require_confirmation": true, "max_page_size": 10, "remove_fields": {"ssn", "dob"}, "note": null}}`))
	e, _ := newEngine(t, decision.WithPolicyFS(policy), decision.WithObligations("note"))
	d := e.Decide(t.Context(), decision.Input{Action: action(t, "users.list")})
	if !d.Allow || !d.Obligations.RequireConfirmation {
		t.Fatalf("decision = %+v", d)
	}
	want := map[string]any{"max_page_size": json.Number("10"), "remove_fields": []any{"dob", "ssn"}, "note": nil}
	if !reflect.DeepEqual(d.Obligations.Extra, want) {
		t.Errorf("Extra = %#v, want %#v", d.Obligations.Extra, want)
	}
	// Without the embedder's "note", the same decision denies.
	strict, rec := newEngine(t, decision.WithPolicyFS(policy))
	d = strict.Decide(t.Context(), decision.Input{Action: action(t, "users.list")})
	if d.Allow || len(d.Deny) != 1 || d.Deny[0].Code != decision.CodePolicyError {
		t.Fatalf("a decision with an obligation the sidecar does not honour = %+v, want denied with %s", d, decision.CodePolicyError)
	}
	errs := rec.errors("policy evaluation failed")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "obligations.note is not an obligation this sidecar honours") {
		t.Errorf("logged %v, want the obligation named", errs)
	}
}

// TestContradictions covers answers that are well-formed but inconsistent.
func TestContradictions(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		codes []string
	}{
		{"allow with reasons", `{"allow": true, "deny": [{"code": "nope", "message": "no"}], "obligations": {"require_confirmation": false}}`, []string{"nope"}},
		{"deny without reasons", `{"allow": false, "deny": [], "obligations": {"require_confirmation": false}}`, []string{decision.CodeDenied}},
		{"extra reason keys ignored", `{"allow": false, "deny": [{"code": "a", "message": "m", "hint": 1}], "obligations": {"require_confirmation": false}}`, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := newEngine(t, decision.WithPolicyFS(policyFS("p.rego", regoDecision(tt.expr))))
			d := e.Decide(t.Context(), decision.Input{Action: action(t, "users.list")})
			if d.Allow {
				t.Fatal("allowed")
			}
			if got := codes(d); !slices.Equal(got, tt.codes) {
				t.Errorf("codes = %v, want %v", got, tt.codes)
			}
		})
	}
}
