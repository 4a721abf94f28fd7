package decision_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// markerRule denies every call and every event of one agent, the way a
// security team writes a rule of its own.
const markerRule = `package bollard.rules.incident

deny contains {"code": "incident_freeze", "message": "agents under investigation may do nothing"} if {
	input.agent.id == "marker-bot"
}
`

// shippedWith is the shipped library with extra files.
func shippedWith(t testing.TB, kv ...string) fstest.MapFS {
	t.Helper()
	return withFiles(withData(t, scale{}), kv...).(fstest.MapFS)
}

// TestTeamRulesDenyOnEveryPath: a rule under data.bollard.rules denies the
// calls it names whatever branch the shipped policy takes (the fast read
// branches included), at every stage, and the events of that agent too,
// and leaves every other agent alone.
func TestTeamRulesDenyOnEveryPath(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(shippedWith(t, "team/incident.rego", markerRule)))
	for _, stage := range []decision.Stage{decision.StageFull, decision.StageGrant} {
		for _, name := range []string{"users.list", "users.get", "logs.list", "user_lifecycle.deactivate", "groups.create"} {
			d := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: "marker-bot"}, Action: action(t, name), Time: mondayNoon, Stage: stage})
			if d.Allow || !slices.Contains(codes(d), "incident_freeze") {
				t.Errorf("%s at %s: %v, want incident_freeze", name, stage, d.Deny)
			}
		}
	}
	// The shipped fast read branch for an agent that is granted.
	d := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: "reader-bot"}, Action: action(t, "users.list"), Time: mondayNoon})
	if !d.Allow {
		t.Fatalf("reader-bot users.list: %v", d.Deny)
	}
	ev := e.DecideEvent(t.Context(), decision.EventInput{Agent: decision.Agent{ID: "marker-bot"}, Type: "user.lifecycle.create", UUID: "u1"})
	if ev.Allow || !slices.Contains(codes(ev), "incident_freeze") {
		t.Errorf("event: %v, want incident_freeze", ev.Deny)
	}
}

// TestTeamRulesOverrideAnAllow: the marked agent is one the shipped grants
// allow, on the common read path the shipped policy decides inline.
func TestTeamRulesOverrideAnAllow(t *testing.T) {
	rule := strings.ReplaceAll(markerRule, "marker-bot", "reader-bot")
	e, _ := newEngine(t, decision.WithPolicyFS(shippedWith(t, "incident.rego", rule)))
	for _, name := range []string{"users.list", "users.get", "groups.list_members"} {
		d := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: "reader-bot"}, Action: action(t, name), Time: mondayNoon,
			Resource: map[string]string{"userId": "00u1", "groupId": "00g1"}})
		if d.Allow || !slices.Equal(codes(d), []string{"incident_freeze"}) {
			t.Errorf("%s: allow %v, deny %v; want incident_freeze only", name, d.Allow, d.Deny)
		}
	}
	// Another agent is untouched.
	if d := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: "helpdesk-bot"}, Action: action(t, "users.list"), Time: mondayNoon}); !d.Allow {
		t.Errorf("helpdesk-bot: %v", d.Deny)
	}
}

func TestTeamRulesFailClosed(t *testing.T) {
	tests := []struct{ name, rule string }{
		{"reason not an object", `package bollard.rules.x

deny contains "no" if input.agent.id == "reader-bot"
`},
		{"reason without a code", `package bollard.rules.x

deny contains {"message": "no"} if input.agent.id == "reader-bot"
`},
		{"empty code", `package bollard.rules.x

deny contains {"code": "", "message": "no"} if input.agent.id == "reader-bot"
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rec := newEngine(t, decision.WithPolicyFS(shippedWith(t, "x.rego", tt.rule)))
			d := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: "reader-bot"}, Action: action(t, "users.get"), Time: mondayNoon})
			if d.Allow || !slices.Equal(codes(d), []string{decision.CodePolicyError}) {
				t.Errorf("%v, want policy_error", d.Deny)
			}
			if errs := rec.errors("policy evaluation failed"); len(errs) == 0 {
				t.Error("the malformed reason was not logged")
			}
		})
	}
}

// TestRulesThatCannotDenyAreRefused: a rule a security team believes
// protects something, but that no decision reads, is a hole; the sidecar
// refuses the policy instead of running without it.
func TestRulesThatCannotDenyAreRefused(t *testing.T) {
	tests := []struct {
		name, file, src string
		want            string
	}{
		{"deny is a boolean", "x.rego", "package bollard.rules.x\n\ndeny if input.agent.id == \"a\"\n", "must be a set"},
		{"deny is a value", "x.rego", "package bollard.rules.x\n\ndeny := {\"code\": \"a\", \"message\": \"b\"}\n", "must be a set"},
		{"deny is an object", "x.rego", "package bollard.rules.x\n\ndeny[k] := 1 if k := input.agent.id\n", "must be a set"},
		{"deny is a function", "x.rego", "package bollard.rules.x\n\ndeny(x) := x\n", "not a function"},
		{"deny has members", "x.rego", "package bollard.rules.x\n\ndeny.a contains 1 if true\n", "not an object"},
		{"a deny no decision reads", "mine.rego", "package mycompany\n\ndeny contains {\"code\": \"a\", \"message\": \"b\"} if input.agent.id == \"a\"\n", "no decision reads"},
		{"reasons no decision reads", "mine.rego", "package mycompany.checks\n\nreasons contains \"x\" if true\n", "no decision reads"},
		{"a violation no decision reads", "mine.rego", "package mycompany\n\nviolation contains \"x\" if true\n", "no decision reads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decision.New(t.Context(), decision.WithLogger(discard), decision.WithWatch(false),
				decision.WithPolicyFS(shippedWith(t, tt.file, tt.src)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want a refusal saying %q", err, tt.want)
			}
		})
	}
	t.Run("data under data.bollard.rules", func(t *testing.T) {
		_, err := decision.New(t.Context(), decision.WithLogger(discard), decision.WithWatch(false),
			decision.WithPolicyFS(shippedWith(t, "rules.json", `{"bollard": {"rules": {"x": {"deny": [{"code": "a", "message": "b"}]}}}}`)))
		if !errors.Is(err, decision.ErrRulesData) {
			t.Fatalf("New = %v, want ErrRulesData", err)
		}
	})
	t.Run("a helper rule beside a deny is fine", func(t *testing.T) {
		src := "package bollard.rules.x\n\nfrozen := {\"a\"}\n\ndeny contains {\"code\": \"frozen\", \"message\": \"m\"} if input.agent.id in frozen\n"
		if _, err := decision.New(t.Context(), decision.WithLogger(discard), decision.WithWatch(false),
			decision.WithPolicyFS(shippedWith(t, "x.rego", src))); err != nil {
			t.Fatal(err)
		}
	})
}

// TestReasonAddedToTheLibraryIsFlagged: a reason written beside the shipped
// ones, the way they are written, only shows on calls already denied: the
// policy loads (it is not wrong, only useless) but CheckRules flags it and
// the load logs it.
func TestReasonAddedToTheLibraryIsFlagged(t *testing.T) {
	added := `package bollard.authz

reasons contains {"code": "no_marker", "message": "marker-bot may not"} if input.agent.id == "reader-bot"
`
	e, rec := newEngine(t, decision.WithPolicyFS(shippedWith(t, "mine.rego", added)))
	// The hole this flags: the shipped fast path allows the call anyway.
	if d := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: "reader-bot"}, Action: action(t, "users.get"), Time: mondayNoon}); !d.Allow {
		t.Fatalf("the shipped fast path read the added reason: %v", d.Deny)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	found := false
	for _, r := range rec.records {
		if r.Message == "policy rule cannot deny by itself" {
			found = true
		}
	}
	if !found {
		t.Error("the added reason was not logged on load")
	}
}

// TestShippedLibraryHasNoRuleProblems: every deny and reasons rule of the
// shipped library takes part in a decision, and none is flagged as added.
func TestShippedLibraryHasNoRuleProblems(t *testing.T) {
	_, rec := newEngine(t)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, r := range rec.records {
		if r.Message == "policy rule cannot deny by itself" {
			t.Errorf("the shipped library was flagged: %v", r)
		}
	}
}
