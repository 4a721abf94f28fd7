package bench

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/loadgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fakeSidecarEnv makes the test binary, started as a child (the simulator
// or the sidecar), print a log line and fail, as one with a bad
// configuration does.
const fakeSidecarEnv = "BOLLARD_BENCH_FAKE_SIDECAR"

func TestMain(m *testing.M) {
	if os.Getenv(fakeSidecarEnv) != "" {
		fmt.Fprintln(os.Stderr, `{"level":"ERROR","msg":"fake child: no such config"}`)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// run is a run of n requests taking a second, latencies 1ms..n ms, with
// the given errors.
func run(n int, scale time.Duration, errs map[string]int64) loadgen.Result {
	res := loadgen.Result{Requests: int64(n), Elapsed: time.Second, Errors: errs}
	for i := range n {
		res.Latencies = append(res.Latencies, time.Duration(i+1)*scale)
	}
	return res
}

// TestMarkdown: the table has a row per run and the targets' rows, with
// the ratios computed from the runs (golden file; -update rewrites it).
func TestMarkdown(t *testing.T) {
	full := &Report{Action: "users.get"}
	for _, c := range []int{1, 16, 32} {
		full.Rows = append(full.Rows,
			Row{Load: Loads[0], Callers: c, Result: run(100*c, 100*time.Microsecond, nil)},
			Row{Load: Loads[1], Callers: c, Result: run(80*c, 200*time.Microsecond, map[string]int64{"Unavailable": 2, "Internal": 1})},
			Row{Load: Loads[2], Callers: c, Result: run(100*c, 50*time.Microsecond, nil)},
		)
	}
	full.Rows[6].Result = run(16000, time.Microsecond, nil) // Check at 32 callers meets its goal
	oneCaller := &Report{Action: "users.get", Rows: full.Rows[:3]}
	for name, rep := range map[string]*Report{"full": full, "one-caller": oneCaller} {
		t.Run(name, func(t *testing.T) {
			var out strings.Builder
			rep.Markdown(&out)
			path := "testdata/" + name + ".md"
			if *update {
				if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("table:\n%s\nwant (%s):\n%s", out.String(), path, want)
			}
		})
	}
	if n := full.Errors(); n != 9 {
		t.Errorf("Errors() = %d, want 9", n)
	}
}

// TestChildThatFailsToStart: a child that exits before serving ends the
// benchmark with its log in the error, not a hang.
func TestChildThatFailsToStart(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeSidecarEnv, "1")
	_, err = Run(t.Context(), Options{Command: []string{exe}, Callers: []int{1}, Duration: 10 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "stopped before serving") || !strings.Contains(err.Error(), "fake child: no such config") {
		t.Errorf("err = %v, want the child's exit and its log", err)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	_, err := Run(t.Context(), Options{Callers: []int{0, 2000}, Duration: time.Hour, Conns: -1})
	for _, want := range []string{"command is required", "0 callers", "2000 callers", "duration", "connections"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
	if err := ServeSimulator(t.Context(), "127.0.0.1:0", "", nil); err == nil || !strings.Contains(err.Error(), "token is required") {
		t.Errorf("simulator without a token: %v", err)
	}
}
