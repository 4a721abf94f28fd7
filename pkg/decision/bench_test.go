package decision_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

// quarantineRule is the realistic rule of a security team the benchmarks
// load beside the library: agents it quarantines may do nothing. It is
// evaluated on every call, a lookup keyed on the agent's id (the form
// docs/policies.md teaches).
const quarantineRule = `package bollard.rules.quarantine

deny contains {"code": "quarantined", "message": sprintf("agent %q is quarantined: %s", [input.agent.id, why])} if {
	why := data.bollard.config.quarantine[input.agent.id]
}
`

// quarantineData quarantines a hundred agents the benchmarks never use.
func quarantineData() string {
	agents := map[string]string{}
	for i := range 100 {
		agents[fmt.Sprintf("quarantined-%03d", i)] = "under investigation"
	}
	b := `{"bollard": {"config": {"quarantine": {`
	first := true
	for id, why := range agents {
		if !first {
			b += ", "
		}
		first = false
		b += fmt.Sprintf("%q: %q", id, why)
	}
	return b + `}}}}`
}

// benchCase is one kind of call, decided the way the gateway decides it:
// in one stage, or two (grant, then effect with the looked-up facts).
type benchCase struct {
	name  string
	allow bool
	// grant is the first stage's input; effect, when set, the second's.
	grant  decision.Input
	effect *decision.Input
}

// decide runs the case's stages as the gateway does: the second only
// when the first allows.
func (c benchCase) decide(ctx context.Context, e *decision.Engine) decision.Decision {
	d := e.Decide(ctx, c.grant)
	if c.effect == nil || !d.Allow {
		return d
	}
	in := *c.effect
	in.After = &d
	return e.Decide(ctx, in)
}

func benchCases(tb testing.TB) []benchCase {
	at := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC) // Monday noon in New York
	get := func(n string) *catalog.Action {
		a, ok := catalog.Lookup(n)
		if !ok {
			tb.Fatalf("no action %s", n)
		}
		return a
	}
	// What the sidecar passes besides the call: recent counts and, for a
	// call that changes a user, the user's groups and roles.
	counts := map[string]any{"destructive": map[string]any{"hour": 3, "day": 12}}
	user := "00u1abcdEFGH2345ijkl"
	groups := []any{"00gEVERYONE0000000g7", "00gENGINEERING0000g7", "00gSUPPORT00000000g7", "00g1aaaaaaaaaaaaaaa1", "00g1aaaaaaaaaaaaaaa2"}
	deactivate := get("user_lifecycle.deactivate")
	plain := targetFor(deactivate, map[string]any{"id": user, "resolved": true, "admin_roles": []any{}, "groups": groups})
	admin := targetFor(deactivate, map[string]any{"id": user, "resolved": true, "admin_roles": []any{"SUPER_ADMIN"}, "groups": groups})
	helpdesk := decision.Agent{ID: "helpdesk-bot", AuthMethod: "jwt", Claims: map[string]any{"sub": "system:serviceaccount:it:helpdesk"}}
	twoStage := func(agent decision.Agent, a *catalog.Action, target map[string]any, t time.Time) (decision.Input, *decision.Input) {
		grant := decision.Input{Agent: agent, Action: a, Resource: map[string]string{"userId": user},
			Params: map[string]any{"userId": user, "sendEmail": false}, Time: t,
			Context: map[string]any{"counts": counts}, Stage: decision.StageGrant}
		effect := grant
		effect.Stage, effect.Context = decision.StageEffect, map[string]any{"counts": counts, "target": target}
		return grant, &effect
	}
	destructiveGrant, destructiveEffect := twoStage(helpdesk, deactivate, plain, at)
	protectedGrant, protectedEffect := twoStage(helpdesk, deactivate, admin, at)
	strangerGrant, strangerEffect := twoStage(decision.Agent{ID: "reader-bot", AuthMethod: "key"}, get("users.delete"), plain, at.Add(-12*time.Hour))
	return []benchCase{
		{name: "read_allowed", allow: true, grant: decision.Input{
			Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: get("users.list"),
			Params: map[string]any{"limit": float64(50), "q": "smith"}, Time: at,
			Context: map[string]any{"counts": counts},
		}},
		{name: "get_allowed", allow: true, grant: decision.Input{
			Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: get("users.get"),
			Resource: map[string]string{"userId": user}, Params: map[string]any{"userId": user}, Time: at,
			Context: map[string]any{"counts": counts},
		}},
		// Both stages of an allowed deactivation.
		{name: "destructive_allowed", allow: true, grant: destructiveGrant, effect: destructiveEffect},
		// Refused at the first stage: no grant, outside hours; nothing is
		// looked up.
		{name: "denied_first_stage", grant: strangerGrant, effect: strangerEffect},
		// Allowed at the first stage, refused at the second: the user holds
		// a protected admin role.
		{name: "denied_second_stage", grant: protectedGrant, effect: protectedEffect},
	}
}

// scales are the data sizes benchmarked: the samples alone; a realistic org
// (1,000 agents, 500 protected users, 50 protected groups) with one rule of
// the security team's own; and 10,000 agents, to show that cost does not
// grow with the grants.
var scales = []struct {
	name string
	sc   scale
	rule bool
}{
	{"sample", scale{}, false},
	{"realistic", scale{agents: 1_000, protectedUsers: 500, protectedGroups: 50}, true},
	{"agents=10000", scale{agents: 10_000, protectedUsers: 500, protectedGroups: 50}, true},
}

func benchEngine(b *testing.B, sc scale, rule bool) *decision.Engine {
	b.Helper()
	fsys := withData(b, sc)
	if rule {
		fsys = withFiles(fsys, "team/quarantine.rego", quarantineRule, "quarantine.json", quarantineData())
	}
	e, err := decision.New(b.Context(), decision.WithLogger(discard), decision.WithWatch(false), decision.WithPolicyFS(fsys))
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkDecide measures a decision (building the input, evaluating the
// whole shipped policy library, reading the answer; both stages where the
// gateway asks two) at each data scale. cpu-ns/op is process CPU time per
// call, which stays meaningful when other work shares the machine.
func BenchmarkDecide(b *testing.B) {
	for _, sc := range scales {
		e := benchEngine(b, sc.sc, sc.rule)
		for _, c := range benchCases(b) {
			b.Run(sc.name+"/"+c.name, func(b *testing.B) {
				ctx := b.Context()
				if d := c.decide(ctx, e); d.Allow != c.allow {
					b.Fatalf("allow = %v (%v), want %v", d.Allow, d.Deny, c.allow)
				}
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					_ = c.decide(ctx, e)
				}
				reportCPU(b, cpu)
			})
		}
	}
}

// BenchmarkDecideLatency reports the median and p99 of single calls, the
// numbers the sidecar's latency budget is stated in.
func BenchmarkDecideLatency(b *testing.B) {
	for _, sc := range scales {
		e := benchEngine(b, sc.sc, sc.rule)
		for _, c := range benchCases(b) {
			b.Run(sc.name+"/"+c.name, func(b *testing.B) {
				ctx := b.Context()
				// Preallocated so that recording never grows (copies) a slice
				// inside the measured loop, which would show up as p99.
				lat := make([]time.Duration, 0, 1<<22)
				for b.Loop() {
					start := time.Now()
					_ = c.decide(ctx, e)
					if len(lat) < cap(lat) {
						lat = append(lat, time.Since(start))
					}
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
			})
		}
	}
}

// BenchmarkDecideParallel: one engine shared by concurrent requests, as in
// the sidecar.
func BenchmarkDecideParallel(b *testing.B) {
	e := benchEngine(b, scales[1].sc, true)
	c := benchCases(b)[0]
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = c.decide(b.Context(), e)
		}
	})
}

// BenchmarkManyAgents spreads reads over 10,000 agents, each deciding its
// first call without a memoized standing and the later ones with it: the
// cost stays flat because the standing is kept per agent and action.
func BenchmarkManyAgents(b *testing.B) {
	e := benchEngine(b, scales[2].sc, true)
	list, _ := catalog.Lookup("users.list")
	ins := make([]decision.Input, 10_000)
	for i := range ins {
		ins[i] = decision.Input{Agent: decision.Agent{ID: fmt.Sprintf("agent-%05d", i), AuthMethod: "key"}, Action: list,
			Params: map[string]any{"limit": float64(50)}, Time: time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)}
	}
	lat := make([]time.Duration, 0, 1<<22)
	i := 0
	for b.Loop() {
		start := time.Now()
		_ = e.Decide(b.Context(), ins[i%len(ins)])
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(start))
		}
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkLoad measures loading a policy: reading, parsing, compiling
// and preparing, as at start-up and on every reload (the old revision keeps
// deciding meanwhile). Nothing is computed per agent at load: the standing
// of an agent and action is evaluated on its first call.
func BenchmarkLoad(b *testing.B) {
	for _, sc := range scales {
		fsys := withData(b, sc.sc)
		if sc.rule {
			fsys = withFiles(fsys, "team/quarantine.rego", quarantineRule, "quarantine.json", quarantineData())
		}
		b.Run(sc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e, err := decision.New(b.Context(), decision.WithLogger(discard), decision.WithWatch(false), decision.WithPolicyFS(fsys))
				if err != nil {
					b.Fatal(err)
				}
				_ = e.Close()
			}
		})
	}
}
