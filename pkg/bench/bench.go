package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/loadgen"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// agent is who the load runs as: the shipped grants let it read users,
// and it has no request budget, so with a shared store its reads need no
// counter. budgetedAgent may read users too and has a budget (in
// limits.agents) so high that no run is refused: each of its calls spends
// from it, one round trip to the store with redis.
const (
	agent           = "reader-bot"
	budgetedAgent   = "helpdesk-bot"
	budgetPerMinute = 6_000_000
)

// State backends a benchmark can run the sidecar with.
const (
	StateMemory = "memory" // the default
	StateRedis  = "redis"  // a redis-server of the benchmark's own
	StateBoth   = "both"   // memory, then redis, in one report
)

// Options is one benchmark.
type Options struct {
	// Command runs the sidecar binary; "serve --config FILE" is appended to
	// start the sidecar, "bench simulator" to start the Okta simulator.
	Command []string
	// Callers lists the numbers of concurrent callers, one set of runs each
	// (default 1, 16, 32).
	Callers []int
	// Duration is the length of each run (default 3s).
	Duration time.Duration
	// Conns is the number of gRPC connections the callers share (default 1,
	// as `sidecar load`).
	Conns int
	// Action and Params are the call (default users.get on a seeded user).
	Action string
	Params map[string]any
	// Progress receives one report per run as it ends (default: none).
	Progress io.Writer
	// State is the sidecar's state backend: StateMemory (default),
	// StateRedis (a redis-server the benchmark starts on a free loopback
	// port, with no persistence, killed at the end) or StateBoth. With
	// redis each run is also made as an agent with a request budget, and
	// as an agent making a destructive call.
	State string
	// Rounds repeats every run (default 1), each state backend's in turn,
	// the order of the backends alternating from round to round; a row is
	// the runs of all rounds together. A machine whose speed drifts over
	// minutes (shared cores) then drifts for both backends alike, and the
	// rows comparing them stay steady.
	Rounds int
}

// states are the backends to run, in order.
func (o *Options) states() []string {
	if o.State == StateBoth {
		return []string{StateMemory, StateRedis}
	}
	return []string{o.State}
}

// roundStates are the backends of round i (from 0), in the order they run:
// with two, reversed every other round.
func (o *Options) roundStates(i int) []string {
	st := o.states()
	if i%2 == 1 {
		slices.Reverse(st)
	}
	return st
}

// budgeted reports whether the runs include a budgeted agent's Execute
// and a destructive call: what calls that need shared counters cost.
func (o *Options) budgeted() bool { return o.State != StateMemory }

func (o *Options) setDefaults() {
	if len(o.Callers) == 0 {
		o.Callers = []int{1, 16, 32}
	}
	if o.Duration == 0 {
		o.Duration = 3 * time.Second
	}
	if o.Conns == 0 {
		o.Conns = 1
	}
	if o.Action == "" {
		o.Action = "users.get"
		if o.Params == nil {
			o.Params = map[string]any{"userId": oktasim.SeedUserAlice}
		}
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.State == "" {
		o.State = StateMemory
	}
	if o.Rounds == 0 {
		o.Rounds = 1
	}
}

func (o *Options) validate() error {
	var errs []error
	if len(o.Command) == 0 {
		errs = append(errs, errors.New("bench: the sidecar command is required"))
	}
	for _, c := range o.Callers {
		if c < 1 || c > 1024 {
			errs = append(errs, fmt.Errorf("bench: %d callers: must be between 1 and 1024", c))
		}
	}
	if o.Duration < 0 || o.Duration > 5*time.Minute {
		errs = append(errs, errors.New("bench: the duration of a run must be between 0 and 5m"))
	}
	if o.Conns < 0 {
		errs = append(errs, errors.New("bench: connections must be positive"))
	}
	if o.Rounds < 1 || o.Rounds > 100 {
		errs = append(errs, fmt.Errorf("bench: %d rounds: must be between 1 and 100", o.Rounds))
	}
	switch o.State {
	case StateMemory, StateRedis, StateBoth:
	default:
		errs = append(errs, fmt.Errorf("bench: state %q is not memory, redis or both", o.State))
	}
	return errors.Join(errs...)
}

// Run starts the simulator and the sidecar, each in a process of its own,
// and with redis a redis-server for the sidecar, runs Check, Execute and
// the baseline from this process at each number of callers in turn, once
// per state backend, stops them all and returns the results. A run's
// failed calls are counted in its row, not returned.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.setDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bollard-bench-*")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	var store *redistest.Process // first: without redis-server, fail at once
	if slices.Contains(o.states(), StateRedis) {
		if store, err = startStore(dir); err != nil {
			return nil, err
		}
		defer store.Stop()
	}
	simToken, err := randomHex(24)
	if err != nil {
		return nil, err
	}
	sim, err := startSimulator(ctx, o.Command, simToken)
	if err != nil {
		return nil, err
	}
	defer sim.stop()
	e := env{o: o, orgURL: "http://" + sim.addr, oktaToken: simToken, dir: dir, simPid: sim.pid, store: store}
	if e.keys.agent, err = identity.GenerateKey(); err != nil {
		return nil, err
	}
	if e.keys.budgeted, err = identity.GenerateKey(); err != nil {
		return nil, err
	}
	if e.keys.destructive, err = identity.GenerateKey(); err != nil {
		return nil, err
	}
	if e.policyDir, err = writePolicies(filepath.Join(dir, "policies")); err != nil {
		return nil, err
	}

	rep := &Report{Action: o.Action, Duration: time.Duration(o.Rounds) * o.Duration, Date: time.Now().UTC()}
	for i := range o.Rounds {
		for _, st := range o.roundStates(i) {
			rows, err := e.runState(ctx, st)
			if err != nil {
				return nil, err
			}
			rep.add(rows)
		}
	}
	// A child that failed under load (a crash, say) is reported beside
	// the table.
	return rep, errors.Join(append(e.stopErrs, sim.stop())...)
}

// env is what the runs of every state backend share.
type env struct {
	o                 Options
	orgURL, oktaToken string
	dir               string
	simPid            int
	keys              struct{ agent, budgeted, destructive string }
	policyDir         string
	store             *redistest.Process // nil without redis
	stopErrs          []error            // of sidecars that failed under load
}

// runState starts the sidecar with the state backend st, makes every run
// at each number of callers, and stops it.
func (e *env) runState(ctx context.Context, st string) ([]Row, error) {
	o := e.o
	cfg := sidecarConfig{orgURL: e.orgURL, oktaToken: e.oktaToken, policyDir: e.policyDir,
		agents: map[string]string{agent: identity.HashKey(e.keys.agent), budgetedAgent: identity.HashKey(e.keys.budgeted),
			destructiveAgent: identity.HashKey(e.keys.destructive)}}
	clock := cpuClock{simulator: e.simPid}
	if st == StateRedis {
		cfg.redisAddr = e.store.Addr()
		clock.store = e.store.Pid()
	}
	fmt.Fprintf(o.Progress, "bench: the sidecar with state.backend %s\n", st)
	sc, err := startSidecar(ctx, o.Command, filepath.Join(e.dir, st), cfg)
	if err != nil {
		return nil, err
	}
	defer sc.stop()
	clock.sidecar = sc.pid
	loads := slices.Clone(Loads)
	if o.budgeted() {
		loads = slices.Insert(loads, 2, LoadBudgeted, LoadDestructive)
	}
	var rows []Row
	for _, callers := range o.Callers {
		for _, load := range loads {
			key, action, params := e.keys.agent, o.Action, o.Params
			switch {
			case load.Destructive:
				key, action, params = e.keys.destructive, destructiveAction, destructiveParams
			case load.Budgeted:
				key = e.keys.budgeted
			}
			lo := loadgen.Options{
				Target: sc.addr, Key: key, RPC: load.RPC, Action: action, Params: params,
				Concurrency: callers, Conns: min(o.Conns, callers), Duration: o.Duration, MaxRequests: 1 << 40,
				OktaURL: e.orgURL, OktaToken: e.oktaToken,
			}
			before := clock.read()
			res, err := loadgen.Run(ctx, lo)
			if err != nil {
				return rows, fmt.Errorf("%s at %d callers with %s: %w", load.Name, callers, st, err)
			}
			cpu := perCall(before, clock.read(), res.Requests)
			res.Report(o.Progress, lo)
			rows = append(rows, Row{Load: load, Callers: callers, State: st, Result: res, CPU: cpu})
		}
	}
	e.stopErrs = append(e.stopErrs, sc.stop())
	return rows, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}
