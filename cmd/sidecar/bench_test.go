package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
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
// child sidecar, runs all three loads without a failed call and prints the
// table with every row. It checks correctness only; speed is never asserted.
func TestBenchEndToEnd(t *testing.T) {
	t.Setenv(runMainEnv, "1")
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"bench", "--callers", "1", "-d", "200ms"}, &out, &errOut); err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{
		"| users.get | callers | rps | p50 | p99 | errors |\n|---|--:|--:|--:|--:|---|\n",
		"| Check | 1 | ", "| Execute | 1 | ", "| straight to Okta | 1 | ",
		"| **Execute minus straight** | 1 | | **", "| **Execute over straight** | 16 | not run |", "| **Check** | 32 | not run |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if got := strings.Count(out.String(), " | 0 |\n"); got != 3 {
		t.Errorf("%d runs without errors, want 3:\n%s", got, out.String())
	}
	for _, want := range []string{"check users.get: 1 callers", "execute users.get: 1 callers", "okta users.get: 1 callers straight to http://127.0.0.1:"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, errOut.String())
		}
	}
	if err := run(t.Context(), []string{"bench", "--callers", "1,x"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--callers") {
		t.Errorf("bad --callers: %v", err)
	}
}
