package loadgen_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/loadgen"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/sidecar"
	"github.com/bollard-dev/bollard/pkg/sidecar/sidecartest"
)

func TestRunAgainstDevMode(t *testing.T) {
	addrs := sidecartest.Dev(t, sidecar.DevOptions{})

	res, err := loadgen.Run(t.Context(), loadgen.Options{
		Target: addrs.GRPC.String(), Key: identity.DevKeys()["reader-bot"], RPC: "check", Action: "users.get",
		Params: map[string]any{"userId": oktasim.SeedUserAlice}, Concurrency: 4, Conns: 2, Duration: 300 * time.Millisecond, MaxRequests: 1e6,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || len(res.Errors) != 0 {
		t.Fatalf("requests %d, errors %v", res.Requests, res.Errors)
	}
	if !(res.Percentile(50) <= res.Percentile(99) && res.Percentile(99) <= res.Percentile(100) && res.RPS() > 0) {
		t.Errorf("percentiles out of order: %v %v %v", res.Percentile(50), res.Percentile(99), res.Percentile(100))
	}

	// A bounded count stops the run early.
	res, err = loadgen.Run(t.Context(), loadgen.Options{
		Target: addrs.GRPC.String(), Key: identity.DevKeys()["reader-bot"], RPC: "check", Action: "users.list",
		Concurrency: 2, Conns: 1, Duration: time.Minute, MaxRequests: 50,
	})
	if err != nil || res.Requests != 50 {
		t.Errorf("bounded run: %d requests, %v", res.Requests, err)
	}

	// A wrong key fails on the first call, with no load sent.
	_, err = loadgen.Run(t.Context(), loadgen.Options{Target: addrs.GRPC.String(), Key: "bk_wrong", RPC: "check", Action: "users.list",
		Concurrency: 1, Conns: 1, Duration: time.Second, MaxRequests: 10})
	if err == nil || !strings.Contains(err.Error(), "first call") {
		t.Errorf("wrong key: %v", err)
	}
}

func TestOptionsAreBounded(t *testing.T) {
	_, err := loadgen.Run(t.Context(), loadgen.Options{Target: "10.0.0.1:8181", RPC: "stream", Concurrency: 0, Conns: 5, Duration: time.Hour})
	for _, want := range []string{"rpc must be", "concurrency", "connections", "duration", "max requests", "not loopback"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

// TestTargetMustBeLoopbackIP: the agent key goes to the target, so a name
// that merely looks local is refused without --allow-remote.
func TestTargetMustBeLoopbackIP(t *testing.T) {
	for _, target := range []string{"localhost:8181", "127.attacker.example:8181", "0.0.0.0:8181", ":8181"} {
		_, err := loadgen.Run(t.Context(), loadgen.Options{Target: target, Key: "bk_x", RPC: "check", Action: "users.list",
			Concurrency: 1, Conns: 1, Duration: time.Second, MaxRequests: 1})
		if err == nil || !strings.Contains(err.Error(), "not loopback") {
			t.Errorf("target %q: err = %v, want it refused as not loopback", target, err)
		}
	}
}

// TestReport: the two lines `sidecar load` prints, and the errors by code
// only when there were some.
func TestReport(t *testing.T) {
	o := loadgen.Options{RPC: "check", Action: "users.get", Concurrency: 4, Conns: 2}
	res := loadgen.Result{Requests: 4, Elapsed: 2 * time.Second, Errors: map[string]int64{},
		Latencies: []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond}}
	var out strings.Builder
	res.Report(&out, o)
	want := "check users.get: 4 callers on 2 connections for 2s\n" +
		"requests 4  rps 2  p50 2ms  p90 4ms  p99 4ms  max 4ms\n"
	if out.String() != want {
		t.Errorf("report:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	res.Errors["Unavailable"] = 1
	res.Report(&out, o)
	if !strings.HasSuffix(out.String(), "errors map[Unavailable:1]\n") {
		t.Errorf("report with errors:\n%s", out.String())
	}
}
