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
	Name        string // as the table shows it
	RPC         string // loadgen's
	Budgeted    bool   // run as the agent with a request budget
	Destructive bool   // a destructive call (apps.deactivate), as destructiveAgent
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

// LoadBudgeted is Execute as an agent with a request budget: each call
// spends from it, with a shared store one round trip there. Made with
// --state redis or both, after Execute.
var LoadBudgeted = Load{Name: "Execute, budgeted agent", RPC: loadgen.RPCExecute, Budgeted: true}

// LoadDestructive is Execute of a destructive call (apps.deactivate) as an
// agent with a request budget: each call is counted against its impact
// limits and spends from its budget, with a shared store both in one
// script. Made with --state redis or both, after LoadBudgeted.
var LoadDestructive = Load{Name: "Execute apps.deactivate, budgeted agent", RPC: loadgen.RPCExecute, Budgeted: true, Destructive: true}

// The loads the targets are read from.
var (
	loadCheck    = Loads[0]
	loadExecute  = Loads[1]
	loadStraight = Loads[2]
	loadFloor    = Loads[3]
)

// Row is one run.
type Row struct {
	Load    Load
	Callers int
	State   string // the sidecar's state backend; "" is memory
	Result  loadgen.Result
	CPU     CPU // per call, by process
}

// Report is a benchmark's results.
type Report struct {
	Action   string
	Duration time.Duration // of each row: a run times the rounds
	Date     time.Time
	Rows     []Row
}

// Issue 14's targets, on the project's 2-core machine.
const (
	goalAddedP50 = 150 * time.Microsecond // Execute at 1 caller, Bollard minus baseline
	goalAddedP99 = 400 * time.Microsecond
	goalShare    = 0.70 // Execute's rps over the baseline's at 16 callers
	goalCheckRPS = 15000
	// Issue 16's: Execute with redis minus with memory, 1 caller, p50.
	goalSharedAddedP50 = 150 * time.Microsecond
	shareCallers       = 16
	checkRateCallers   = 32
)

// add puts rows in the report: a row of a run already there (the same
// load, callers and state, from an earlier round) is merged into it, so
// that the report keeps the first round's order.
func (r *Report) add(rows []Row) {
	for _, row := range rows {
		i := slices.IndexFunc(r.Rows, func(x Row) bool {
			return x.Load == row.Load && x.Callers == row.Callers && stateOf(x) == stateOf(row)
		})
		if i < 0 {
			r.Rows = append(r.Rows, row)
			continue
		}
		r.Rows[i] = r.Rows[i].merge(row)
	}
}

// merge is the row of two runs of the same load: their calls, errors and
// time added up, their latencies together, and the CPU a call weighed by
// each run's calls.
func (a Row) merge(b Row) Row {
	out := a
	res := loadgen.Result{Requests: a.Result.Requests + b.Result.Requests, Elapsed: a.Result.Elapsed + b.Result.Elapsed}
	if len(a.Result.Errors)+len(b.Result.Errors) > 0 {
		res.Errors = map[string]int64{}
		for _, m := range []map[string]int64{a.Result.Errors, b.Result.Errors} {
			for k, v := range m {
				res.Errors[k] += v
			}
		}
	}
	res.Latencies = slices.Concat(a.Result.Latencies, b.Result.Latencies)
	slices.Sort(res.Latencies)
	out.Result = res
	weigh := func(x, y time.Duration) time.Duration {
		if res.Requests == 0 {
			return 0
		}
		return time.Duration((int64(x)*a.Result.Requests + int64(y)*b.Result.Requests) / res.Requests)
	}
	out.CPU = CPU{Load: weigh(a.CPU.Load, b.CPU.Load), Bollard: weigh(a.CPU.Bollard, b.CPU.Bollard), Okta: weigh(a.CPU.Okta, b.CPU.Okta)}
	return out
}

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

func (r *Report) find(load Load, callers int) (loadgen.Result, bool) {
	row, ok := r.row(load, callers)
	return row.Result, ok
}

func (r *Report) row(load Load, callers int) (Row, bool) {
	for _, row := range r.Rows {
		if row.Load == load && row.Callers == callers {
			return row, true
		}
	}
	return Row{}, false
}

// Markdown writes the results as one Markdown table: a row per run, then
// the rows of the targets, each with its goal and whether it was met. With
// a state backend other than memory, or both, each row names its backend
// and the targets are given for each; with both, the rows comparing redis
// with memory follow.
func (r *Report) Markdown(w io.Writer) {
	states := r.states()
	label := func(name, state string) string {
		if len(states) == 1 && state == StateMemory {
			return name
		}
		return name + " (" + state + ")"
	}
	fmt.Fprintf(w, "| %s | callers | rps | p50 | p99 | errors | CPU µs a call: load / Bollard / Okta |\n", r.Action)
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|---|--:|")
	for _, row := range r.Rows {
		res := row.Result
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s |\n", label(row.Load.Name, stateOf(row)), row.Callers, thousands(res.RPS()),
			millis(res.Percentile(50)), millis(res.Percentile(99)), errorsCell(res.Errors), cpuCell(row.CPU))
	}
	for _, st := range states {
		r.only(st).targets(w, func(name string) string { return label(name, st) })
	}
	if len(states) == 2 {
		r.compare(w)
	}
}

// targets writes the rows of issue 14's targets for a report of one state
// backend; label names a row.
func (r *Report) targets(w io.Writer, label func(string) string) {
	bollard, ok1 := r.find(loadExecute, 1)
	okta, ok2 := r.find(loadStraight, 1)
	if ok1 && ok2 {
		p50 := bollard.Percentile(50) - okta.Percentile(50)
		p99 := bollard.Percentile(99) - okta.Percentile(99)
		fmt.Fprintf(w, "| **%s** | 1 | | %s | %s | | |\n", label("Execute minus straight"),
			goal(added(p50), "< "+micros(goalAddedP50), p50 < goalAddedP50), goal(added(p99), "< "+micros(goalAddedP99), p99 < goalAddedP99))
	} else {
		fmt.Fprintf(w, "| **%s** | 1 | | not run | not run | | |\n", label("Execute minus straight"))
	}
	if floor, ok := r.find(loadFloor, 1); ok {
		// What a gRPC hop alone adds, whatever the sidecar does.
		fmt.Fprintf(w, "| %s | 1 | | %s | %s | | |\n", label("floor: a gRPC call doing no work"),
			added(floor.Percentile(50)), added(floor.Percentile(99)))
	}

	bollard, ok1 = r.find(loadExecute, shareCallers)
	okta, ok2 = r.find(loadStraight, shareCallers)
	if ok1 && ok2 && okta.RPS() > 0 {
		share := bollard.RPS() / okta.RPS()
		fmt.Fprintf(w, "| **%s** | %d | %s | | | | |\n", label("Execute over straight"), shareCallers,
			goal(fmt.Sprintf("%.0f%%", share*100), fmt.Sprintf("≥ %.0f%%", goalShare*100), share >= goalShare))
	} else {
		fmt.Fprintf(w, "| **%s** | %d | not run | | | | |\n", label("Execute over straight"), shareCallers)
	}
	if c, ok := r.ceiling(shareCallers); ok {
		fmt.Fprintf(w, "| %s | %d | %.0f%% | | | | |\n", label("ceiling: a gRPC hop doing no work, from CPU a call"), shareCallers, c*100)
	}

	if check, ok := r.find(loadCheck, checkRateCallers); ok {
		fmt.Fprintf(w, "| **%s** | %d | %s | | | | |\n", label("Check"), checkRateCallers,
			goal(thousands(check.RPS()), "≥ "+thousands(goalCheckRPS), check.RPS() >= goalCheckRPS))
	} else {
		fmt.Fprintf(w, "| **%s** | %d | not run | | | | |\n", label("Check"), checkRateCallers)
	}
}

// compare writes what the shared state adds to Execute at 1 caller, for
// the agent without a budget, the budgeted one and the destructive call:
// issue 16's goal.
func (r *Report) compare(w io.Writer) {
	mem, red := r.only(StateMemory), r.only(StateRedis)
	for _, load := range []Load{loadExecute, LoadBudgeted, LoadDestructive} {
		name := load.Name + " (redis minus memory)"
		m, ok1 := mem.find(load, 1)
		d, ok2 := red.find(load, 1)
		if !ok1 || !ok2 {
			fmt.Fprintf(w, "| **%s** | 1 | | not run | | | |\n", name)
			continue
		}
		p50 := d.Percentile(50) - m.Percentile(50)
		p99 := d.Percentile(99) - m.Percentile(99)
		fmt.Fprintf(w, "| **%s** | 1 | | %s | %s | | |\n", name,
			goal(added(p50), "< "+micros(goalSharedAddedP50), p50 < goalSharedAddedP50), added(p99))
	}
}

// states are the state backends of the rows, in order of first appearance.
func (r *Report) states() []string {
	var states []string
	for _, row := range r.Rows {
		if st := stateOf(row); !slices.Contains(states, st) {
			states = append(states, st)
		}
	}
	if len(states) == 0 {
		states = []string{StateMemory}
	}
	return states
}

// only is the report of one state backend's rows.
func (r *Report) only(state string) *Report {
	o := *r
	o.Rows = nil
	for _, row := range r.Rows {
		if stateOf(row) == state {
			o.Rows = append(o.Rows, row)
		}
	}
	return &o
}

func stateOf(row Row) string {
	if row.State == "" {
		return StateMemory
	}
	return row.State
}

// ceiling is the share of the straight throughput that a sidecar doing
// nothing but answer a gRPC call could keep at the given callers, when the
// runs keep the machine's cores busy: calls per second are cores over the
// CPU all processes spend on a call, so the share is the straight call's
// CPU over that plus the gRPC floor's (its load and sidecar parts).
func (r *Report) ceiling(callers int) (float64, bool) {
	straight, ok1 := r.row(loadStraight, callers)
	floor, ok2 := r.row(loadFloor, callers)
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
