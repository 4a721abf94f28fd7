package bench

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
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
	us := time.Microsecond
	for _, c := range []int{1, 16, 32} {
		full.Rows = append(full.Rows,
			Row{Load: Loads[0], Callers: c, Result: run(100*c, 100*us, nil), CPU: CPU{Load: 35 * us, Bollard: 89 * us}},
			Row{Load: Loads[1], Callers: c, Result: run(80*c, 200*us, map[string]int64{"Unavailable": 2, "Internal": 1}), CPU: CPU{Load: 88 * us, Bollard: 240 * us, Okta: 70 * us}},
			Row{Load: Loads[2], Callers: c, Result: run(100*c, 50*us, nil), CPU: CPU{Load: 28 * us, Okta: 34 * us}},
			Row{Load: Loads[3], Callers: c, Result: run(100*c, 40*us, nil), CPU: CPU{Load: 21 * us, Bollard: 21 * us}},
		)
	}
	full.Rows[8].Result = run(16000, time.Microsecond, nil) // Check at 32 callers meets its goal
	// One caller, CPU not read (no /proc): no ceiling, blank cells.
	oneCaller := &Report{Action: "users.get", Rows: slices.Clone(full.Rows[:3])}
	for i := range oneCaller.Rows {
		oneCaller.Rows[i].CPU = CPU{}
	}
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
	_, err := Run(t.Context(), Options{Callers: []int{0, 2000}, Duration: time.Hour, Conns: -1, State: "etcd"})
	for _, want := range []string{"command is required", "0 callers", "2000 callers", "duration", "connections", `state "etcd"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
	if err := ServeSimulator(t.Context(), "127.0.0.1:0", "", nil); err == nil || !strings.Contains(err.Error(), "token is required") {
		t.Errorf("simulator without a token: %v", err)
	}
}

// TestCeiling: with the CPU a call of the straight run (62 µs) and of the
// gRPC floor (42 µs), a sidecar doing no work keeps at most 62/104 of the
// straight throughput.
func TestCeiling(t *testing.T) {
	us := time.Microsecond
	rep := &Report{Rows: []Row{
		{Load: Loads[2], Callers: 16, CPU: CPU{Load: 28 * us, Okta: 34 * us}},
		{Load: Loads[3], Callers: 16, CPU: CPU{Load: 21 * us, Bollard: 21 * us}},
	}}
	got, ok := rep.ceiling(16)
	if want := 62.0 / 104; !ok || got < want-1e-9 || got > want+1e-9 {
		t.Errorf("ceiling = %v, %v; want %v", got, ok, want)
	}
	if _, ok := rep.ceiling(1); ok {
		t.Error("ceiling without the runs at 1 caller reported")
	}
	rep.Rows[0].CPU = CPU{}
	if _, ok := rep.ceiling(16); ok {
		t.Error("ceiling reported without the straight run's CPU")
	}
}

// TestParseStatCPU: utime and stime are fields 14 and 15, counted after
// the command name, which may hold spaces and parentheses.
func TestParseStatCPU(t *testing.T) {
	for stat, want := range map[string]time.Duration{
		"4242 (sidecar) S 1 4242 4242 0 -1 4194560 2000 0 0 0 150 25 0 0 20 0 9 0 100 0 0": 175 * clockTick,
		"4242 (a (b) c) R 1 4242 4242 0 -1 4194560 2000 0 0 0 7 3 0 0 20 0 9 0 100 0 0":    10 * clockTick,
		"4242 (idle) S 1 4242 4242 0 -1 4194560 2000 0 0 0 0 0 0 0 20 0 9 0 100 0 0":       0,
		"4242 (short) S 1 2":                                 unknown,
		"no parenthesis at all":                              unknown,
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 a b 0 0 0 0 0 0 0 0 0": unknown,
	} {
		if got := parseStatCPU(stat); got != want {
			t.Errorf("parseStatCPU(%q) = %v, want %v", stat, got, want)
		}
	}
	if runtime.GOOS == "linux" && procCPU(os.Getpid()) == unknown || procCPU(-1) != unknown {
		t.Error("procCPU of this process or of no process")
	}
}

// TestPerCall: each process's time between two readings over the calls,
// from 0 (a process that had not run a tick yet) too; a process not read,
// or a clock that went back, counts as 0.
func TestPerCall(t *testing.T) {
	ms := time.Millisecond
	got := perCall(cpuReading{self: 10 * ms, sidecar: 0, simulator: unknown}, cpuReading{self: 30 * ms, sidecar: 400 * ms, simulator: 50 * ms}, 1000)
	if want := (CPU{Load: 20 * time.Microsecond, Bollard: 400 * time.Microsecond}); got != want {
		t.Errorf("perCall = %+v, want %+v", got, want)
	}
	if got := perCall(cpuReading{self: 10 * ms}, cpuReading{self: 20 * ms}, 0); got != (CPU{}) {
		t.Errorf("perCall over no calls = %+v", got)
	}
}

// TestMarkdownBothStates: with rows for memory and redis, each row names
// its backend, the targets are given for each, and the last rows compare
// Execute with redis to Execute with memory at 1 caller, for the agent
// without a budget (met: +40 µs), the budgeted one (not met: +200 µs) and
// the destructive call (met: +125 µs) (golden file; -update rewrites it).
func TestMarkdownBothStates(t *testing.T) {
	us := time.Microsecond
	rep := &Report{Action: "users.get"}
	for _, st := range []struct {
		name                          string
		execute, budgetd, destructive time.Duration // latency scale: p50 is 50 times it
	}{{StateMemory, 10 * us, 10 * us, 12 * us}, {StateRedis, 10*us + 800*time.Nanosecond, 14 * us, 14*us + 500*time.Nanosecond}} {
		rep.Rows = append(rep.Rows,
			Row{Load: Loads[0], Callers: 1, State: st.name, Result: run(100, 5*us, nil)},
			Row{Load: Loads[1], Callers: 1, State: st.name, Result: run(100, st.execute, nil)},
			Row{Load: LoadBudgeted, Callers: 1, State: st.name, Result: run(100, st.budgetd, nil)},
			Row{Load: LoadDestructive, Callers: 1, State: st.name, Result: run(100, st.destructive, nil)},
			Row{Load: Loads[2], Callers: 1, State: st.name, Result: run(100, 4*us, nil)},
			Row{Load: Loads[3], Callers: 1, State: st.name, Result: run(100, 3*us, nil)},
		)
	}
	var out strings.Builder
	rep.Markdown(&out)
	const path = "testdata/both.md"
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
}

// TestRoundsMerge: a report of several rounds has one row per run, in the
// first round's order, each with every round's calls, errors and
// latencies, and the CPU a call weighed by calls; the backends alternate
// their order from round to round.
func TestRoundsMerge(t *testing.T) {
	us := time.Microsecond
	var rep Report
	rep.add([]Row{
		{Load: Loads[1], Callers: 1, State: StateMemory, Result: run(100, 10*us, map[string]int64{"Unavailable": 1}), CPU: CPU{Load: 100 * us, Bollard: 400 * us}},
		{Load: Loads[2], Callers: 1, State: StateMemory, Result: run(10, us, nil)},
	})
	rep.add([]Row{{Load: Loads[1], Callers: 1, State: StateRedis, Result: run(50, 10*us, nil)}})
	rep.add([]Row{{Load: Loads[1], Callers: 1, State: StateMemory, Result: run(300, 2*us, map[string]int64{"Unavailable": 2, "Internal": 1}), CPU: CPU{Load: 200 * us, Bollard: 800 * us}}})
	if len(rep.Rows) != 3 || rep.Rows[0].Load != Loads[1] || rep.Rows[1].Load != Loads[2] || rep.Rows[2].State != StateRedis {
		t.Fatalf("rows %+v, want the first round's three", rep.Rows)
	}
	m := rep.Rows[0]
	if m.Result.Requests != 400 || m.Result.Elapsed != 2*time.Second || len(m.Result.Latencies) != 400 {
		t.Errorf("merged %d calls over %v, %d latencies; want 400 over 2s", m.Result.Requests, m.Result.Elapsed, len(m.Result.Latencies))
	}
	if !slices.IsSorted(m.Result.Latencies) || m.Result.Percentile(50) != 334*us { // the 200th of both runs
		t.Errorf("merged latencies sorted=%v p50=%v, want sorted and 334µs", slices.IsSorted(m.Result.Latencies), m.Result.Percentile(50))
	}
	if m.Result.Errors["Unavailable"] != 3 || m.Result.Errors["Internal"] != 1 {
		t.Errorf("merged errors %v", m.Result.Errors)
	}
	if m.CPU != (CPU{Load: 175 * us, Bollard: 700 * us}) {
		t.Errorf("merged CPU %+v, want weighed by calls: 175µs / 700µs", m.CPU)
	}
	o := Options{State: StateBoth}
	if a, b := o.roundStates(0), o.roundStates(1); !slices.Equal(a, []string{StateMemory, StateRedis}) || !slices.Equal(b, []string{StateRedis, StateMemory}) {
		t.Errorf("rounds' order %v then %v, want memory first, then redis first", a, b)
	}
}
