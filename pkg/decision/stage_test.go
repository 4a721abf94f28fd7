package decision_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

// stagePolicy allows and says which stage it was asked, and hands back the
// standing it was given.
const stagePolicy = `package bollard.authz

decision := {"allow": input.agent.id != "nobody", "deny": [{"code": "nobody", "message": "m"} | input.agent.id == "nobody"],
	"obligations": {"require_confirmation": false, "stage": input.stage, "standing": object.get(input, "standing", null)}}

standing := {"seen": input, "calls": 1}
`

func TestStages(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS("a.rego", stagePolicy)))
	in := decision.Input{Agent: decision.Agent{ID: "reader-bot"}, Action: action(t, "users.delete"), Time: mondayNoon}
	stage := func(in decision.Input) (string, decision.Decision) {
		t.Helper()
		d := e.Decide(t.Context(), in)
		s, _ := d.Obligations.Extra["stage"].(string)
		return s, d
	}
	if s, d := stage(in); s != "full" || d.Stage() != decision.StageFull {
		t.Errorf("no stage asked: policy saw %q, decision says %q; want full", s, d.Stage())
	}
	in.Stage = decision.StageGrant
	s, grant := stage(in)
	if s != "grant" || !grant.Allow || grant.Stage() != decision.StageGrant {
		t.Fatalf("grant: saw %q, %v", s, grant)
	}
	// StageEffect continues an allowing grant decision of the same policy;
	// anything else is decided in full, so that no caller can skip the
	// first stage.
	in.Stage = decision.StageEffect
	if s, _ := stage(in); s != "full" {
		t.Errorf("effect without a grant decision: policy saw %q, want full", s)
	}
	in.After = &grant
	if s, d := stage(in); s != "effect" || d.Stage() != decision.StageEffect {
		t.Errorf("effect after grant: policy saw %q, want effect", s)
	}
	full := e.Decide(t.Context(), decision.Input{Agent: in.Agent, Action: in.Action})
	in.After = &full
	if s, _ := stage(in); s != "full" {
		t.Errorf("effect after a full decision: policy saw %q, want full", s)
	}
	denied := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: "nobody"}, Action: in.Action, Stage: decision.StageGrant})
	if denied.Allow {
		t.Fatal("nobody allowed")
	}
	in.After = &denied
	if s, _ := stage(in); s != "full" {
		t.Errorf("effect after a denied grant: policy saw %q, want full", s)
	}
	// A grant decision of another engine (or an older revision) proves
	// nothing about this policy.
	other, _ := newEngine(t, decision.WithPolicyFS(policyFS("a.rego", stagePolicy)))
	foreign := other.Decide(t.Context(), decision.Input{Agent: in.Agent, Action: in.Action, Stage: decision.StageGrant})
	in.After = &foreign
	if s, _ := stage(in); s != "full" {
		t.Errorf("effect after another engine's grant: policy saw %q, want full", s)
	}
}

func TestStageAfterReload(t *testing.T) {
	dir := t.TempDir()
	write := func(src string) {
		if err := os.WriteFile(filepath.Join(dir, "a.rego"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(stagePolicy)
	e, _ := newEngine(t, decision.WithPolicyDir(dir), decision.WithWatch(false))
	in := decision.Input{Agent: decision.Agent{ID: "reader-bot"}, Action: action(t, "users.delete"), Stage: decision.StageGrant}
	grant := e.Decide(t.Context(), in)
	write(stagePolicy + "\n# a new revision\n")
	if err := e.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	in.Stage, in.After = decision.StageEffect, &grant
	d := e.Decide(t.Context(), in)
	if d.Revision == grant.Revision || d.Obligations.Extra["stage"] != "full" {
		t.Errorf("after a reload: revision %s (grant %s), stage %v; want the new revision deciding in full", d.Revision, grant.Revision, d.Obligations.Extra["stage"])
	}
}

func TestDecisionIDFromTheCaller(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS("a.rego", stagePolicy)))
	d := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: "reader-bot"}, Action: action(t, "users.get"), DecisionID: "dec-from-gateway"})
	if d.ID != "dec-from-gateway" {
		t.Errorf("ID = %q", d.ID)
	}
	if d := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: "reader-bot"}, Action: action(t, "users.get")}); len(d.ID) != 36 {
		t.Errorf("minted ID = %q, want a UUID", d.ID)
	}
}

// TestStandingSeesOnlyWhoAndWhat: the standing rule is evaluated with the
// version, the agent's id and the action, and nothing of the call, so that
// keeping its answer per revision, agent and action cannot go stale.
func TestStandingSeesOnlyWhoAndWhat(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS("a.rego", stagePolicy)))
	del := action(t, "users.delete")
	in := decision.Input{
		Agent: decision.Agent{ID: "reader-bot", AuthMethod: "jwt", Claims: map[string]any{"sub": "x"}}, Action: del,
		Resource: map[string]string{"userId": "00u1"}, Params: map[string]any{"userId": "00u1"}, Time: mondayNoon,
		Context: map[string]any{"counts": map[string]any{}},
	}
	d := e.Decide(t.Context(), in)
	st, ok := d.Obligations.Extra["standing"].(map[string]any)
	if !ok {
		t.Fatalf("no standing in the input: %v", d.Obligations.Extra)
	}
	want := map[string]any{"version": 1, "agent": map[string]any{"id": "reader-bot"}, "action": map[string]any{
		"name": del.Name, "area": del.Area, "access": string(del.Access), "scope": del.Scope, "method": del.Method,
		"path": del.Path, "destructive": del.Destructive, "event": del.Event, "effects": catalog.EffectsData(del),
	}}
	if !reflect.DeepEqual(normal(t, st["seen"]), normal(t, want)) {
		t.Errorf("standing input = %v\nwant %v", st["seen"], want)
	}
	// Explain evaluates without it, so that its trace shows every rule.
	ed, _ := e.Explain(t.Context(), in)
	if ed.Obligations.Extra["standing"] != nil {
		t.Errorf("Explain passed a standing: %v", ed.Obligations.Extra["standing"])
	}
	// An action that is not the catalog's own is never memoized.
	clone := *del
	in.Action = &clone
	if d := e.Decide(t.Context(), in); d.Obligations.Extra["standing"] != nil {
		t.Errorf("a non-catalog action got a standing: %v", d.Obligations.Extra["standing"])
	}
}

// TestShippedStandingAgrees decides every action for the sample agents with
// the engine (which passes the memoized standing) and with Explain (which
// evaluates it inline): the answers are the same.
func TestShippedStandingAgrees(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(withAgents(t, 20)))
	for _, agent := range []string{"reader-bot", "helpdesk-bot", "provisioner-bot", "stranger", "agent-00010", "agent-00011"} {
		for _, a := range catalog.Actions() {
			for _, stage := range []decision.Stage{decision.StageGrant, decision.StageFull} {
				in := decision.Input{Agent: decision.Agent{ID: agent}, Action: a, Time: mondayNoon, Stage: stage, Context: callContext(a, 1, 1)}
				for range 2 { // the second decision reads the memo
					got := e.Decide(t.Context(), in)
					want, _ := e.Explain(t.Context(), in)
					if got.Allow != want.Allow || !reflect.DeepEqual(got.Deny, want.Deny) || !reflect.DeepEqual(got.Obligations, want.Obligations) {
						t.Fatalf("%s %s at %s: with standing %v %v %v, without %v %v %v", agent, a.Name, stage,
							got.Allow, got.Deny, got.Obligations, want.Allow, want.Deny, want.Obligations)
					}
				}
			}
		}
	}
}

// TestStandingFollowsReload: the standing kept for an agent and action is
// the revision's own; a reload that takes a grant away takes effect on the
// next call.
func TestStandingFollowsReload(t *testing.T) {
	dir := t.TempDir()
	for name, f := range shippedWith(t) {
		if err := os.WriteFile(filepath.Join(dir, name), f.Data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e, _ := newEngine(t, decision.WithPolicyDir(dir), decision.WithWatch(false))
	in := decision.Input{Agent: decision.Agent{ID: "reader-bot"}, Action: action(t, "users.get"), Time: mondayNoon}
	for range 2 {
		if d := e.Decide(t.Context(), in); !d.Allow {
			t.Fatalf("reader-bot users.get: %v", d.Deny)
		}
	}
	grants := `{"bollard": {"config": {"grants": {"agents": {"helpdesk-bot": {"users": "read"}}, "actions": {}}}}}`
	if err := os.WriteFile(filepath.Join(dir, "grants.json"), []byte(grants), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if d := e.Decide(t.Context(), in); d.Allow || !reflect.DeepEqual(codes(d), []string{"not_granted"}) {
		t.Errorf("after the grant was taken away: allow %v, deny %v", d.Allow, d.Deny)
	}
}
