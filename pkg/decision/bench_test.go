package decision_test

import (
	"slices"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

type benchCase struct {
	name string
	in   decision.Input
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
	// destructive action on a user, the user's groups and roles.
	counts := map[string]any{"destructive": map[string]any{"hour": 3, "day": 12}}
	user := "00u1abcdEFGH2345ijkl"
	target := map[string]any{"user": map[string]any{
		"id": user, "resolved": true, "admin_roles": []any{},
		"groups": []any{"00gEVERYONE0000000g7", "00gENGINEERING0000g7", "00gSUPPORT00000000g7", "00g1aaaaaaaaaaaaaaa1", "00g1aaaaaaaaaaaaaaa2"},
	}}
	return []benchCase{
		{"read_allowed", decision.Input{
			Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: get("users.list"),
			Params: map[string]any{"limit": float64(50), "q": "smith"}, Time: at,
			Context: map[string]any{"counts": counts},
		}},
		{"get_allowed", decision.Input{
			Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: get("users.get"),
			Resource: map[string]string{"userId": user}, Params: map[string]any{"userId": user}, Time: at,
			Context: map[string]any{"counts": counts},
		}},
		{"destructive_allowed", decision.Input{
			Agent:  decision.Agent{ID: "helpdesk-bot", AuthMethod: "jwt", Claims: map[string]any{"sub": "system:serviceaccount:it:helpdesk"}},
			Action: get("user_lifecycle.deactivate"), Resource: map[string]string{"userId": user},
			Params: map[string]any{"userId": user, "sendEmail": false}, Time: at,
			Context: map[string]any{"counts": counts, "target": target},
		}},
		{"denied", decision.Input{
			Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: get("users.delete"),
			Resource: map[string]string{"userId": user}, Params: map[string]any{"userId": user},
			Time: at.Add(-12 * time.Hour), Context: map[string]any{"counts": counts, "target": target},
		}},
	}
}

// scales are the data sizes benchmarked: the samples alone; a realistic org
// (1,000 agents, 500 protected users, 50 protected groups); and 10,000
// agents, to show that cost does not grow with the grants.
var scales = []struct {
	name string
	sc   scale
}{
	{"sample", scale{}},
	{"realistic", scale{agents: 1_000, protectedUsers: 500, protectedGroups: 50}},
	{"agents=10000", scale{agents: 10_000, protectedUsers: 500, protectedGroups: 50}},
}

// BenchmarkDecide measures Decide (building the input, evaluating the
// whole shipped policy library, reading the answer) at each data scale.
// cpu-ns/op is process CPU time per call, which stays meaningful when other
// work shares the machine.
func BenchmarkDecide(b *testing.B) {
	for _, sc := range scales {
		e, err := decision.New(b.Context(), decision.WithLogger(discard), decision.WithPolicyFS(withData(b, sc.sc)))
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range benchCases(b) {
			b.Run(sc.name+"/"+c.name, func(b *testing.B) {
				ctx := b.Context()
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					_ = e.Decide(ctx, c.in)
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
		e, err := decision.New(b.Context(), decision.WithLogger(discard), decision.WithPolicyFS(withData(b, sc.sc)))
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range benchCases(b) {
			b.Run(sc.name+"/"+c.name, func(b *testing.B) {
				ctx := b.Context()
				// Preallocated so that recording never grows (copies) a slice
				// inside the measured loop, which would show up as p99.
				lat := make([]time.Duration, 0, 1<<22)
				for b.Loop() {
					start := time.Now()
					_ = e.Decide(ctx, c.in)
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
	e, err := decision.New(b.Context(), decision.WithLogger(discard), decision.WithPolicyFS(withData(b, scales[1].sc)))
	if err != nil {
		b.Fatal(err)
	}
	in := benchCases(b)[0].in
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = e.Decide(b.Context(), in)
		}
	})
}
