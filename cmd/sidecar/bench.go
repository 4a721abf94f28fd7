package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bollard-dev/bollard/pkg/bench"
)

// benchCmd is `sidecar bench [flags]`: start the Okta simulator and this
// binary's `serve` on it as a child process, drive Check, Execute and the
// same action straight at the simulator from this process, and print one
// Markdown table with the ratios of the performance targets. With --state
// redis or both it also starts a redis-server for the sidecar's shared
// state and measures what the store adds.
// `sidecar bench simulator` is the simulator's own process.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "simulator" {
		return benchSimulator(ctx, args[1:], stderr)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.Options
	callers := fs.String("callers", "1,16,32", "numbers of concurrent callers, comma-separated; Check, Execute and the baseline run at each")
	fs.DurationVar(&o.Duration, "d", 3*time.Second, "duration of each run (at most 5m)")
	fs.IntVar(&o.Conns, "conns", 1, "gRPC connections the callers share")
	fs.IntVar(&o.Rounds, "rounds", 1, "rounds of every run, the state backends' order alternating; a row is all rounds' calls (at most 100)")
	fs.StringVar(&o.Action, "action", "users.get", "catalog action")
	fs.StringVar(&o.State, "state", bench.StateMemory, "the sidecar's state backend: memory, redis (a redis-server of the benchmark's own on loopback; needs redis-server on PATH) or both (memory, then redis, compared)")
	params := fs.String("params", `{"userId":"00uALIactive000000g7"}`, "action parameters (JSON object)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range strings.Split(*callers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return fmt.Errorf("--callers: %w", err)
		}
		o.Callers = append(o.Callers, n)
	}
	if err := json.Unmarshal([]byte(*params), &o.Params); err != nil {
		return fmt.Errorf("--params: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary to start the sidecar: %w", err)
	}
	o.Command, o.Progress = []string{exe}, stderr
	rep, err := bench.Run(ctx, o)
	if rep != nil {
		rep.Markdown(stdout)
	}
	if err != nil {
		return err
	}
	if n := rep.Errors(); n > 0 {
		return errors.New("bench: some calls failed (see the errors column)")
	}
	return nil
}

// benchSimulator is `sidecar bench simulator [--listen ADDR]`: the Okta
// simulator alone, as bench runs it, accepting $OKTA_API_TOKEN with no rate
// limit reached; `sidecar load --rpc okta` can drive it too.
func benchSimulator(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench simulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:0", "loopback address to serve on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(stderr, "info", "json")
	if err != nil {
		return err
	}
	return bench.ServeSimulator(ctx, *listen, os.Getenv("OKTA_API_TOKEN"), log)
}
