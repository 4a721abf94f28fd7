package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/loadgen"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// agent is who the load runs as: the shipped grants let it read users.
const agent = "reader-bot"

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
}

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
	return errors.Join(errs...)
}

// Run starts the simulator and the sidecar, each in a process of its own,
// runs Check, Execute and the baseline from this process at each number of
// callers in turn, stops both and returns the results. A run's failed calls
// are counted in its row, not returned.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.setDefaults()
	if err := o.validate(); err != nil {
		return nil, err
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
	orgURL := "http://" + sim.addr

	key, err := identity.GenerateKey()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bollard-bench-*")
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	sc, err := startSidecar(ctx, o.Command, dir, orgURL, simToken, identity.HashKey(key))
	if err != nil {
		return nil, err
	}
	defer sc.stop()

	rep := &Report{Action: o.Action, Duration: o.Duration, Date: time.Now().UTC()}
	clock := cpuClock{sidecar: sc.pid, simulator: sim.pid}
	for _, callers := range o.Callers {
		for _, load := range Loads {
			lo := loadgen.Options{
				Target: sc.addr, Key: key, RPC: load.RPC, Action: o.Action, Params: o.Params,
				Concurrency: callers, Conns: min(o.Conns, callers), Duration: o.Duration, MaxRequests: 1 << 40,
				OktaURL: orgURL, OktaToken: simToken,
			}
			before := clock.read()
			res, err := loadgen.Run(ctx, lo)
			if err != nil {
				return nil, fmt.Errorf("%s at %d callers: %w", load.Name, callers, err)
			}
			cpu := perCall(before, clock.read(), res.Requests)
			res.Report(o.Progress, lo)
			rep.Rows = append(rep.Rows, Row{Load: load, Callers: callers, Result: res, CPU: cpu})
		}
	}
	// A child that failed under load (a crash, say) is reported beside
	// the table.
	return rep, errors.Join(sc.stop(), sim.stop())
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}
