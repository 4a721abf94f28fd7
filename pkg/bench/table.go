package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bollard-dev/bollard/pkg/loadgen"
)

// Load is one kind of run.
type Load struct {
	Name string // as the table shows it
	RPC  string // loadgen's
}

// Loads are the runs made at each number of callers, in table order. The
// gRPC floor is the sidecar's health check: a gRPC call that does no work,
// what any call through a gRPC sidecar costs before Bollard does anything.
var Loads = []Load{
	{Name: "Check", RPC: loadgen.RPCCheck},
	{Name: "Execute", RPC: loadgen.RPCExecute},
	{Name: "straight to Okta", RPC: loadgen.RPCOkta},
	{Name: "gRPC floor (health check)", RPC: loadgen.RPCHealth},
}

// Row is one run.
type Row struct {
	Load    Load
	Callers int
	Result  loadgen.Result
	CPU     CPU // per call, by process
}

// Report is a benchmark's results.
type Report struct {
	Action   string
	Duration time.Duration // of each run
	Date     time.Time
	Rows     []Row
}

// Issue 14's targets, on the project's 2-core machine.
const (
	goalAddedP50     = 150 * time.Microsecond // Execute at 1 caller, Bollard minus baseline
	goalAddedP99     = 400 * time.Microsecond
	goalShare        = 0.70 // Execute's rps over the baseline's at 16 callers
	goalCheckRPS     = 15000
	shareCallers     = 16
	checkRateCallers = 32
)

// Errors is the number of failed calls over all runs.
func (r *Report) Errors() int64 {
	var n int64
	for _, row := range r.Rows {
		for _, v := range row.Result.Errors {
			n += v
		}
	}
	return n
}

func (r *Report) find(rpc string, callers int) (loadgen.Result, bool) {
	row, ok := r.row(rpc, callers)
	return row.Result, ok
}

func (r *Report) row(rpc string, callers int) (Row, bool) {
	for _, row := range r.Rows {
		if row.Load.RPC == rpc && row.Callers == callers {
			return row, true
		}
	}
	return Row{}, false
}

// Markdown writes the results as one Markdown table: a row per run, then
// the rows of the targets, each with its goal and whether it was met.
func (r *Report) Markdown(w io.Writer) {
	fmt.Fprintf(w, "| %s | callers | rps | p50 | p99 | errors | CPU µs a call: load / Bollard / Okta |\n", r.Action)
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|---|--:|")
	for _, row := range r.Rows {
		res := row.Result
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s |\n", row.Load.Name, row.Callers, thousands(res.RPS()),
			millis(res.Percentile(50)), millis(res.Percentile(99)), errorsCell(res.Errors), cpuCell(row.CPU))
	}

	bollard, ok1 := r.find(loadgen.RPCExecute, 1)
	okta, ok2 := r.find(loadgen.RPCOkta, 1)
	if ok1 && ok2 {
		p50 := bollard.Percentile(50) - okta.Percentile(50)
		p99 := bollard.Percentile(99) - okta.Percentile(99)
		fmt.Fprintf(w, "| **Execute minus straight** | 1 | | %s | %s | | |\n",
			goal(added(p50), "< "+micros(goalAddedP50), p50 < goalAddedP50), goal(added(p99), "< "+micros(goalAddedP99), p99 < goalAddedP99))
	} else {
		fmt.Fprintln(w, "| **Execute minus straight** | 1 | | not run | not run | | |")
	}
	if floor, ok := r.find(loadgen.RPCHealth, 1); ok {
		// What a gRPC hop alone adds, whatever the sidecar does.
		fmt.Fprintf(w, "| floor: a gRPC call doing no work | 1 | | %s | %s | | |\n",
			added(floor.Percentile(50)), added(floor.Percentile(99)))
	}

	bollard, ok1 = r.find(loadgen.RPCExecute, shareCallers)
	okta, ok2 = r.find(loadgen.RPCOkta, shareCallers)
	if ok1 && ok2 && okta.RPS() > 0 {
		share := bollard.RPS() / okta.RPS()
		fmt.Fprintf(w, "| **Execute over straight** | %d | %s | | | | |\n", shareCallers,
			goal(fmt.Sprintf("%.0f%%", share*100), fmt.Sprintf("≥ %.0f%%", goalShare*100), share >= goalShare))
	} else {
		fmt.Fprintf(w, "| **Execute over straight** | %d | not run | | | | |\n", shareCallers)
	}
	if c, ok := r.ceiling(shareCallers); ok {
		fmt.Fprintf(w, "| ceiling: a gRPC hop doing no work, from CPU a call | %d | %.0f%% | | | | |\n", shareCallers, c*100)
	}

	if check, ok := r.find(loadgen.RPCCheck, checkRateCallers); ok {
		fmt.Fprintf(w, "| **Check** | %d | %s | | | | |\n", checkRateCallers,
			goal(thousands(check.RPS()), "≥ "+thousands(goalCheckRPS), check.RPS() >= goalCheckRPS))
	} else {
		fmt.Fprintf(w, "| **Check** | %d | not run | | | | |\n", checkRateCallers)
	}
}

// ceiling is the share of the straight throughput that a sidecar doing
// nothing but answer a gRPC call could keep at the given callers, when the
// runs keep the machine's cores busy: calls per second are cores over the
// CPU all processes spend on a call, so the share is the straight call's
// CPU over that plus the gRPC floor's (its load and sidecar parts).
func (r *Report) ceiling(callers int) (float64, bool) {
	straight, ok1 := r.row(loadgen.RPCOkta, callers)
	floor, ok2 := r.row(loadgen.RPCHealth, callers)
	if !ok1 || !ok2 || !straight.CPU.Known() || !floor.CPU.Known() || straight.CPU.Total() == 0 {
		return 0, false
	}
	s := float64(straight.CPU.Total())
	return s / (s + float64(floor.CPU.Load+floor.CPU.Bollard)), true
}

// cpuCell is a row's CPU a call, or blank when it was not read.
func cpuCell(c CPU) string {
	if !c.Known() && c.Load == 0 {
		return ""
	}
	us := func(d time.Duration) string { return strconv.FormatInt(d.Round(time.Microsecond).Microseconds(), 10) }
	return us(c.Load) + " / " + us(c.Bollard) + " / " + us(c.Okta)
}

// goal is a target's cell: the measure in bold, then its goal and whether
// it was met.
func goal(measured, want string, met bool) string {
	verdict := "not met"
	if met {
		verdict = "met"
	}
	return fmt.Sprintf("**%s** (goal %s: %s)", measured, want, verdict)
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
}

// added is a difference of latencies, signed.
func added(d time.Duration) string {
	if d >= 0 {
		return "+" + micros(d)
	}
	return micros(d)
}

func micros(d time.Duration) string {
	us := d.Microseconds()
	if us < 0 {
		return "-" + thousands(float64(-us)) + " µs"
	}
	return thousands(float64(us)) + " µs"
}

// thousands rounds f and groups its digits: 21538.4 is "21,538".
func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func errorsCell(errs map[string]int64) string {
	if len(errs) == 0 {
		return "0"
	}
	parts := make([]string, 0, len(errs))
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, errs[k]))
	}
	return strings.Join(parts, ", ")
}
