package policies_test

import (
	"fmt"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// realisticLibrary is the shipped library with the data of a large
// deployment: 1,000 agents with grants (every tenth with action lists, its
// own impact limits and its own read shaping), 500 protected users and 50
// protected groups.
func realisticLibrary(tb testing.TB) library {
	l := loadLibrary(tb, false)
	cfg := l.config()
	grants := cfg["grants"].(map[string]any)
	agents := grants["agents"].(map[string]any)
	actions := grants["actions"].(map[string]any)
	limits := cfg["impact_limits"].(map[string]any)["agents"].(map[string]any)
	shaping := cfg["read_shaping"].(map[string]any)
	pageSizes := shaping["page_size"].(map[string]any)["agents"].(map[string]any)
	fields := shaping["remove_fields"].(map[string]any)["agents"].(map[string]any)
	for i := range 1000 {
		id := fmt.Sprintf("agent-%04d", i)
		g := map[string]any{}
		for j, a := range catalog.Areas() {
			g[a.Name] = []string{"read", "manage"}[(i+j)%2]
		}
		agents[id] = g
		if i%10 == 0 {
			actions[id] = map[string]any{"allow": []any{"logs.list"}, "deny": []any{"users.delete", "groups.delete"}}
			limits[id] = map[string]any{"hour": 10, "day": 50}
			pageSizes[id] = map[string]any{"users": 100}
			fields[id] = []any{"profile.mobilePhone", "profile.secondEmail"}
		}
	}
	protected := cfg["protected"].(map[string]any)
	users := protected["users"].(map[string]any)
	for i := range 500 {
		users[fmt.Sprintf("00uPROTECTED%05dg7", i)] = "executive"
	}
	groups := protected["groups"].(map[string]any)
	for i := range 50 {
		groups[fmt.Sprintf("00gPROTECTED%05dg7", i)] = "privileged access"
	}
	return l
}

type benchCase struct {
	name  string
	allow bool
	input map[string]any
}

// benchCases: agent-0500 has action lists and its own settings, agent-0502
// and agent-0501 have only area grants (users read and users manage, user
// lifecycle manage for agent-0500).
func benchCases() []benchCase {
	act := func(name string) map[string]any {
		a := catalog.PolicyData()["actions"].(map[string]any)[name].(map[string]any)
		delete(a, "paginated") // not part of input.action
		return a
	}
	counts := map[string]any{"destructive": map[string]any{"hour": 3, "day": 12}}
	target := map[string]any{"resolved": true, "groups": []any{}, "apps": []any{}, "policies": []any{},
		"users": []any{map[string]any{
			"id": "00uALIactive000000g7", "resolved": true,
			"groups":      []any{"00gEVERYONE0000000g7", "00gENGINEERING0000g7"},
			"admin_roles": []any{},
		}}}
	in := func(agent, action string, resource, params, context map[string]any) map[string]any {
		return map[string]any{
			"version":  1,
			"agent":    map[string]any{"id": agent, "auth_method": "key", "claims": map[string]any{}},
			"action":   act(action),
			"resource": resource,
			"params":   params,
			"time":     "2026-11-30T17:00:00Z", // Monday noon in New York
			"context":  context,
		}
	}
	user := map[string]any{"userId": "00uALIactive000000g7"}
	list := map[string]any{"limit": 50, "q": "smith"}
	return []benchCase{
		{"get_allowed", true, in("agent-0501", "users.get", user, user, map[string]any{"counts": counts})},
		{"list_allowed", true, in("agent-0502", "users.list", map[string]any{}, list, map[string]any{"counts": counts})},
		{"list_by_agent_with_action_lists_allowed", true, in("agent-0500", "users.list", map[string]any{}, list, map[string]any{"counts": counts})},
		{"destructive_allowed", true, in("agent-0500", "user_lifecycle.deactivate", user,
			map[string]any{"userId": "00uALIactive000000g7", "sendEmail": false}, map[string]any{"counts": counts, "target": target})},
		{"denied", false, in("agent-0500", "users.delete", user, user, map[string]any{"counts": counts, "target": target})},
	}
}

// BenchmarkDecision evaluates data.bollard.authz.decision with realistic
// data and the input already built, without input.standing (as opa eval
// would): the policy's share of a decision when nothing is memoized. The
// sidecar's own benchmark (pkg/decision) measures what it runs: both
// stages, the standing memoized, a rule of the team's beside it.
func BenchmarkDecision(b *testing.B) {
	l := realisticLibrary(b)
	compiler, store := l.compile(b)
	pq, err := rego.New(rego.Query("data.bollard.authz.decision"), rego.Compiler(compiler), rego.Store(store)).
		PrepareForEval(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range benchCases() {
		input, err := ast.InterfaceToValue(c.input)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			ctx := b.Context()
			rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
			if err != nil || len(rs) != 1 {
				b.Fatalf("eval: %v %v", rs, err)
			}
			if d := rs[0].Expressions[0].Value.(map[string]any); d["allow"] != c.allow {
				b.Fatalf("decision %v, want allow %v", d, c.allow)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = pq.Eval(ctx, rego.EvalParsedInput(input), rego.EvalMetrics(metrics.NoOp()))
			}
		})
	}
}
