package main

import (
	"bytes"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// runMainEnv makes the test binary run as the sidecar binary itself, so
// `sidecar bench` can start its child `serve` from a test.
const runMainEnv = "BOLLARD_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// `sidecar bench` with a tiny run at one caller starts the simulator and a
// child sidecar, runs all four loads without a failed call and prints the
// table with every row, the CPU each process spent a call read from /proc
// (Linux). It checks correctness only; speed is never asserted.
func TestBenchEndToEnd(t *testing.T) {
	t.Setenv(runMainEnv, "1")
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"bench", "--callers", "1", "-d", "200ms"}, &out, &errOut); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{
		"| users.get | callers | rps | p50 | p99 | errors | CPU µs a call: load / Bollard / Okta |\n|---|--:|--:|--:|--:|---|--:|\n",
		"| Check | 1 | ", "| Execute | 1 | ", "| straight to Okta | 1 | ", "| gRPC floor (health check) | 1 | ",
		"| **Execute minus straight** | 1 | | **", "| floor: a gRPC call doing no work | 1 | | +",
		"| **Execute over straight** | 16 | not run |", "| **Check** | 32 | not run |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	// Each run's row: no errors, and the CPU a call of each process. On
	// Linux the sidecar and the simulator spent some over the runs (they are
	// read in clock ticks, so a short run of one may show none).
	rowRE := regexp.MustCompile(`(?m)^\| (Check|Execute|straight to Okta|gRPC floor \(health check\)) \| 1 \| [\d,]+ \| [\d.]+ ms \| [\d.]+ ms \| 0 \| (\d+) / (\d+) / (\d+) \|$`)
	rows := rowRE.FindAllStringSubmatch(out.String(), -1)
	if len(rows) != 4 {
		t.Fatalf("%d runs without errors and with CPU a call, want 4:\n%s", len(rows), out.String())
	}
	var bollard, okta int
	for _, r := range rows {
		b, _ := strconv.Atoi(r[3])
		o, _ := strconv.Atoi(r[4])
		bollard, okta = bollard+b, okta+o
	}
	if runtime.GOOS == "linux" && (bollard == 0 || okta == 0) {
		t.Errorf("CPU of the sidecar %d µs, of the simulator %d µs over the runs; want both read:\n%s", bollard, okta, out.String())
	}
	for _, want := range []string{"check users.get: 1 callers", "execute users.get: 1 callers", "health users.get: 1 callers", "okta users.get: 1 callers straight to http://127.0.0.1:"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, errOut.String())
		}
	}
	if err := run(t.Context(), []string{"bench", "--callers", "1,x"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--callers") {
		t.Errorf("bad --callers: %v", err)
	}
}

// `sidecar bench --state redis` starts a redis-server of its own and the
// sidecar with the redis backend on it: every run, the budgeted agent's
// too, completes without a failed call, and each row names the backend.
// Skips without redis-server unless
// BOLLARD_REQUIRE_TOOLS=1, as the shared-state tests do.
func TestBenchWithRedis(t *testing.T) {
	tooltest.Find(t, "redis-server is not installed: bench --state redis needs one (Debian: apt-get install redis-server)", "redis-server")
	t.Setenv(runMainEnv, "1")
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"bench", "--state", "redis", "--callers", "1", "-d", "200ms"}, &out, &errOut); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	rowRE := regexp.MustCompile(`(?m)^\| (Check|Execute|Execute, budgeted agent|straight to Okta|gRPC floor \(health check\)) \(redis\) \| 1 \| [\d,]+ \| [\d.]+ ms \| [\d.]+ ms \| 0 \| `)
	if rows := rowRE.FindAllString(out.String(), -1); len(rows) != 5 {
		t.Errorf("%d runs with redis without errors, want 5:\n%s", len(rows), out.String())
	}
	for _, want := range []string{"| **Execute minus straight (redis)** | 1 | | **", "bench: the sidecar with state.backend redis"} {
		if !strings.Contains(out.String()+errOut.String(), want) {
			t.Errorf("output lacks %q:\n%s\n%s", want, out.String(), errOut.String())
		}
	}
	if err := run(t.Context(), []string{"bench", "--state", "etcd"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), `state "etcd"`) {
		t.Errorf("bad --state: %v", err)
	}
}

// Without redis-server on PATH, `sidecar bench --state redis` fails at once
// saying how to get it.
func TestBenchWithoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"bench", "--state", "both", "--callers", "1", "-d", "10ms"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "apt-get install redis-server") {
		t.Errorf("err = %v, want how to install redis-server", err)
	}
}
