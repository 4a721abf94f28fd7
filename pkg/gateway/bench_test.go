package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"
	"runtime"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// grownPolicies is the test policy set with n extra agents in the grants.
func grownPolicies(b *testing.B, n int) fs.FS {
	mfs := testPolicies(b).(fstest.MapFS)
	var grants map[string]any
	if err := json.Unmarshal(mfs["grants.json"].Data, &grants); err != nil {
		b.Fatal(err)
	}
	agents := grants["bollard"].(map[string]any)["config"].(map[string]any)["grants"].(map[string]any)["agents"].(map[string]any)
	for i := range n {
		agents[fmt.Sprintf("agent-%05d", i)] = map[string]any{"users": "read", "groups": "manage"}
	}
	raw, _ := json.Marshal(grants)
	mfs["grants.json"] = &fstest.MapFile{Data: raw}
	return mfs
}

// BenchmarkDecision is identity plus OPA for one request: the decision
// budget (median under 30µs, p99 under 100µs), with the grants data small
// and grown to 10,000 agents. It reports p50 and p99 alongside ns/op.
func BenchmarkDecision(b *testing.B) {
	for _, n := range []int{0, 10000} {
		b.Run(fmt.Sprintf("agents=%d", n+4), func(b *testing.B) {
			engine, err := decision.New(b.Context(), decision.WithPolicyFS(grownPolicies(b, n)), decision.WithWatch(false))
			if err != nil {
				b.Fatal(err)
			}
			defer engine.Close()
			auth := testAuth(b)
			call, err := catalog.Bind("users.get", map[string]any{"userId": oktasim.SeedUserAlice})
			if err != nil {
				b.Fatal(err)
			}
			cred := devKey("reader-bot")
			// Preallocated so that recording never grows (copies) a slice
			// inside the measured loop, which would show up as p99.
			lat := make([]time.Duration, 0, 1<<22)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				id, err := auth.Authenticate(b.Context(), cred)
				if err != nil {
					b.Fatal(err)
				}
				d := engine.Decide(b.Context(), decision.Input{
					Agent: decision.Agent{ID: id.ID, AuthMethod: id.Method}, Action: call.Action,
					Resource: call.Resource, Params: call.Params, Time: businessHours,
				})
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
				if !d.Allow {
					b.Fatalf("denied: %v", d.Deny)
				}
			}
			reportPercentiles(b, lat)
		})
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkCheckInProcess is the whole Check handler without the network:
// metadata, identity, catalog binding, OPA, response building.
func BenchmarkCheckInProcess(b *testing.B) {
	srv, err := New(testAuth(b), sharedEngine(b), nopForwarder{}, WithClock(func() time.Time { return businessHours }))
	if err != nil {
		b.Fatal(err)
	}
	ctx := metadata.NewIncomingContext(b.Context(), metadata.Pairs("authorization", "Bearer "+devKey("reader-bot")))
	req := &bollardv1.ExecuteRequest{Action: "users.get", Params: params(b, map[string]any{"userId": oktasim.SeedUserAlice})}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := srv.Check(ctx, req)
		if err != nil || !resp.Allow {
			b.Fatalf("check: %v %v", resp, err)
		}
	}
}

// BenchmarkCheckGRPC is Check over loopback gRPC with 32 concurrent callers.
func BenchmarkCheckGRPC(b *testing.B) {
	h := newHarness(b)
	ctx := as(b.Context(), devKey("reader-bot"))
	req := &bollardv1.ExecuteRequest{Action: "users.get", Params: params(b, map[string]any{"userId": oktasim.SeedUserAlice})}
	b.ReportAllocs()
	b.SetParallelism(16) // 2 cores × 16 = 32 callers
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.client.Check(ctx, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkExecuteSimulator is the whole Execute, in process, against the
// Okta simulator over real HTTP on loopback.
func BenchmarkExecuteSimulator(b *testing.B) {
	sim := oktasim.New(oktasim.WithAPIToken("t"), oktasim.WithRateLimit(1<<30, time.Minute))
	okta := httptest.NewServer(sim.Handler())
	defer okta.Close()
	fwd, err := forward.New(okta.URL, forward.WithAPIToken("t"))
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(testAuth(b), sharedEngine(b), fwd, WithClock(func() time.Time { return businessHours }))
	if err != nil {
		b.Fatal(err)
	}
	ctx := metadata.NewIncomingContext(b.Context(), metadata.Pairs("authorization", "Bearer "+devKey("reader-bot")))
	req := &bollardv1.ExecuteRequest{Action: "users.get", Params: params(b, map[string]any{"userId": oktasim.SeedUserAlice})}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := srv.Execute(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

type nopForwarder struct{}

func (nopForwarder) Do(context.Context, *catalog.Call, string) (*forward.Response, error) {
	return nil, fmt.Errorf("no Okta in this benchmark")
}

// BenchmarkExecuteAll100kUsers streams a 100,000-user org through
// ExecuteAll over loopback gRPC. The simulator holds the org in the same
// process, and its ~100 MiB of live data sets the garbage collector's pace,
// so the benchmark measures what streaming retains: every 25 pages it
// collects garbage and reads the live heap, and reports the largest growth
// over the level measured once the org was built. A stream that held its
// pages would grow with the org (about 1 KiB a user); a flat one does not.
//
//	go test ./pkg/gateway -run XXX -bench ExecuteAll100k -benchtime 1x
func BenchmarkExecuteAll100kUsers(b *testing.B) {
	const users = 100_000
	h := newHarness(b, func(o *harnessOption) {
		o.simOpts = append(o.simOpts, oktasim.WithExtraUsers(users), oktasim.WithRateLimit(1<<30, time.Minute))
	})
	ctx := as(b.Context(), devKey("reader-bot"))
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := live()
	var growth uint64
	b.ReportAllocs()
	for b.Loop() {
		stream, err := h.client.ExecuteAll(ctx, &bollardv1.ExecuteRequest{Action: "users.list", Params: params(b, map[string]any{"limit": 200})})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			msg, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += len(msg.Items)
			if msg.Page%25 == 0 {
				b.StopTimer()
				l := live()
				growth = max(growth, l-min(l, base))
				b.StartTimer()
			}
		}
		if n != users+10 {
			b.Fatalf("streamed %d users, want %d", n, users+10)
		}
	}
	b.ReportMetric(float64(growth)/(1<<20), "live-heap-growth-MiB")
	b.ReportMetric(float64(base)/(1<<20), "simulator-heap-MiB")
}
