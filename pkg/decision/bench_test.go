package decision_test

import (
	"fmt"
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
	return []benchCase{
		{"read_allowed", decision.Input{
			Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: get("users.list"),
			Params: map[string]any{"limit": float64(50), "q": "smith"}, Time: at,
		}},
		{"destructive_allowed", decision.Input{
			Agent:  decision.Agent{ID: "helpdesk-bot", AuthMethod: "jwt", Claims: map[string]any{"sub": "system:serviceaccount:it:helpdesk"}},
			Action: get("user_lifecycle.deactivate"), Resource: map[string]string{"userId": "00u1abcd"},
			Params: map[string]any{"userId": "00u1abcd", "sendEmail": false}, Time: at,
		}},
		{"denied", decision.Input{
			Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: get("users.delete"),
			Resource: map[string]string{"userId": "00u1abcd"}, Params: map[string]any{"userId": "00u1abcd"},
			Time: at.Add(-12 * time.Hour),
		}},
	}
}

// BenchmarkDecide measures Decide (building the input, evaluating the
// shipped policies, reading the answer) with the sample grants and with
// 10,000 more agents in the grants data. cpu-ns/op is process CPU time per
// call, which stays meaningful when other work shares the machine.
func BenchmarkDecide(b *testing.B) {
	for _, agents := range []int{0, 10_000} {
		e, err := decision.New(b.Context(), decision.WithLogger(discard), decision.WithPolicyFS(withAgents(b, agents)))
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range benchCases(b) {
			b.Run(fmt.Sprintf("agents=%d/%s", agents, c.name), func(b *testing.B) {
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
	for _, agents := range []int{0, 10_000} {
		e, err := decision.New(b.Context(), decision.WithLogger(discard), decision.WithPolicyFS(withAgents(b, agents)))
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range benchCases(b) {
			b.Run(fmt.Sprintf("agents=%d/%s", agents, c.name), func(b *testing.B) {
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
	e, err := decision.New(b.Context(), decision.WithLogger(discard), decision.WithPolicyFS(withAgents(b, 10_000)))
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
