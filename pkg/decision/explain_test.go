package decision_test

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// hit is a RuleHit with its value as JSON, for comparing.
type hit struct{ rule, location, value string }

func hitsOf(t *testing.T, hits []decision.RuleHit) []hit {
	t.Helper()
	out := make([]hit, len(hits))
	for i, h := range hits {
		b, err := json.Marshal(h.Value)
		if err != nil {
			t.Fatalf("value of %s is not JSON: %v", h.Rule, err)
		}
		out[i] = hit{h.Rule, h.Location, string(b)}
	}
	return out
}

func TestExplain(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyDir("testdata/explain"), decision.WithWatch(false))
	tests := []struct {
		name   string
		agent  string
		action string
		allow  bool
		hits   []hit
	}{
		{name: "allowed", agent: "reader-bot", action: "users.list", allow: true, hits: []hit{
			{"data.bollard.grants.level", "grants.rego:3", `{"users":"read"}`},
			{"data.bollard.grants.granted", "grants.rego:9", `true`},
			{"data.bollard.authz.confirm", "authz.rego:5", `false`}, // the default
			{"data.bollard.authz.decision", "authz.rego:9", `{"allow":true,"deny":[],"obligations":{"require_confirmation":false}}`},
		}},
		{name: "denied, by the else branch", agent: "reader-bot", action: "users.delete", hits: []hit{
			{"data.bollard.grants.level", "grants.rego:3", `{"users":"read"}`},
			{"data.bollard.grants.message", "grants.rego:14", `[{"args":["reader-bot"],"value":"agent \"reader-bot\" is not granted users.delete"}]`},
			{"data.bollard.authz.reasons", "authz.rego:14", `[{"code":"not_granted","message":"agent \"reader-bot\" is not granted users.delete"}]`},
			{"data.bollard.authz.confirm", "authz.rego:7", `true`}, // from the catalog data
			{"data.bollard.authz.decision", "authz.rego:12", `{"allow":false,"deny":[{"code":"not_granted","message":"agent \"reader-bot\" is not granted users.delete"}],"obligations":{"require_confirmation":true}}`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := decision.Input{Agent: decision.Agent{ID: tt.agent, AuthMethod: "key"}, Action: action(t, tt.action)}
			d, hits := e.Explain(t.Context(), in)
			if d.Allow != tt.allow || d.Revision != e.Revision() || !uuidv7.MatchString(d.ID) {
				t.Errorf("decision = %+v", d)
			}
			if got := hitsOf(t, hits); !reflect.DeepEqual(got, tt.hits) {
				t.Errorf("hits:\n%s\nwant:\n%s", fmtHits(got), fmtHits(tt.hits))
			}
		})
	}
}

func fmtHits(hs []hit) string {
	var b strings.Builder
	for _, h := range hs {
		b.WriteString("  " + h.rule + " " + h.location + " " + h.value + "\n")
	}
	return b.String()
}

// TestExplainDecidesLikeDecide: Explain's decision is Decide's, the
// fail-closed cases included.
func TestExplainDecidesLikeDecide(t *testing.T) {
	policies := map[string]string{
		"conflict": `package bollard.authz

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false}} if input.version == 1

decision := {"allow": false, "deny": [], "obligations": {"require_confirmation": false}} if input.agent.id == "reader-bot"
`,
		"malformed": regoDecision(`{"allow": "yes", "deny": [], "obligations": {"require_confirmation": false}}`),
		"undefined": regoDecision(`input.nothing`),
		"nan":       regoDecision(`{"allow": true, "deny": [], "obligations": {"require_confirmation": input.params.x > 1}}`),
		"silent":    regoDecision(`{"allow": false, "deny": [], "obligations": {"require_confirmation": false, "n": 1}}`),
	}
	engines := map[string]*decision.Engine{}
	for name, p := range policies {
		engines[name], _ = newEngine(t, decision.WithPolicyFS(policyFS("p.rego", p)))
	}
	engines["shipped"], _ = newEngine(t)
	inputs := []decision.Input{
		{Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: action(t, "users.list"), Time: mondayNoon},
		{Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: action(t, "users.delete"), Time: saturday},
		{Agent: decision.Agent{ID: "provisioner-bot", AuthMethod: "key"}, Action: action(t, "users.delete"), Time: mondayNoon},
		{Agent: decision.Agent{ID: "x"}, Action: action(t, "users.list"), Params: map[string]any{"x": math.NaN()}},
		{Agent: decision.Agent{ID: "x"}},
	}
	for name, e := range engines {
		for i, in := range inputs {
			want := e.Decide(t.Context(), in)
			got, _ := e.Explain(t.Context(), in)
			want.ID, want.Duration, got.ID, got.Duration = "", 0, "", 0
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, input %d: Explain decided %+v, Decide %+v", name, i, got, want)
			}
		}
	}
}

// TestExplainLeavesOut: rules of test packages are not the policy's.
func TestExplainLeavesOut(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS(
		"p.rego", regoDecision(ok)+"\nx := data.bollard.fixtures_test.value\n\ny := x\n",
		"fixtures.rego", "package bollard.fixtures_test\n\nvalue := 1\n",
	)))
	_, hits := e.Explain(t.Context(), decision.Input{Action: action(t, "users.list")})
	got := hitsOf(t, hits)
	want := []hit{{"data.bollard.authz.decision", "p.rego:3", `{"allow":true,"deny":[],"obligations":{"require_confirmation":false}}`}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hits:\n%s\nwant:\n%s", fmtHits(got), fmtHits(want))
	}
	// Unused rules are not evaluated; here is one that is.
	e2, _ := newEngine(t, decision.WithPolicyFS(policyFS(
		"p.rego", "package bollard.authz\n\ndecision := {\"allow\": y == 1, \"deny\": [], \"obligations\": {\"require_confirmation\": false}}\n\ny := data.bollard.fixtures_test.value\n",
		"fixtures.rego", "package bollard.fixtures_test\n\nvalue := 1\n",
	)))
	_, hits = e2.Explain(t.Context(), decision.Input{Action: action(t, "users.list")})
	for _, h := range hits {
		if strings.Contains(h.Rule, "fixtures_test") {
			t.Errorf("hit %+v from a test package", h)
		}
	}
	if len(hits) != 2 {
		t.Errorf("hits = %+v, want y and decision", hits)
	}
}

// TestExplainLargeValue: a rule holding a large document is listed without
// its value.
func TestExplainLargeValue(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS("p.rego", `package bollard.authz

big := numbers.range(1, 10000)

decision := {"allow": count(big) > 0, "deny": [], "obligations": {"require_confirmation": false}}
`)))
	d, hits := e.Explain(t.Context(), decision.Input{Action: action(t, "users.list")})
	if !d.Allow || len(hits) != 2 || hits[0].Rule != "data.bollard.authz.big" || hits[0].Value != nil {
		t.Errorf("decision %+v, hits %+v", d, hits)
	}
}
