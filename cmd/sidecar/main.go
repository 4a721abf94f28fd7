// Command sidecar runs Bollard: the gateway between AI agents and the Okta
// Management API.
//
//	sidecar serve --config bollard.yaml   serve with a configuration file
//	sidecar dev [--listen ADDR]           serve on the embedded default
//	sidecar load [flags]                  drive a running sidecar and report latency
//	sidecar health [--addr ADDR]          the gRPC health check the liveness probe runs
//	sidecar audit verify FILE...          check audit files' hash chains
//	sidecar policy COMMAND [flags]        test, check, format, lint and replay policies
//	sidecar version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // policies use time zones; scratch images have no zoneinfo

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/loadgen"
	"github.com/bollard-dev/bollard/pkg/policytool"
	"github.com/bollard-dev/bollard/pkg/sidecar"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// A small, latency-sensitive sidecar: fewer GC cycles buy a much lower
	// decision p99 for a few MiB of heap (docs/performance.md). GOGC set in
	// the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		os.Exit(report(os.Stderr, err))
	}
}

// report prints err unless there is nothing to add (a help request, or a
// policy command that has already printed its result) and returns the exit
// code: the policy commands' own (1 for a negative result), 2 otherwise.
func report(stderr io.Writer, err error) int {
	code, quiet := 2, errors.Is(err, flag.ErrHelp)
	if ec, ok := errors.AsType[*policytool.ExitCodeError](err); ok {
		code, quiet = ec.Code, quiet || ec.Err == nil
	}
	if !quiet {
		fmt.Fprintln(stderr, "bollard:", err)
	}
	return code
}

const usage = `usage: sidecar <command> [flags]

commands:
  serve    serve with a configuration file (--config)
  dev      serve on the embedded default: Okta simulator, shipped policies, sample agents
  load     drive a running sidecar over gRPC and report requests per second and latency
  health   ask a running sidecar's gRPC health service (the pod's liveness probe)
  audit    audit verify FILE...: check the hash chain of audit files, oldest first
  policy   policy test|check|fmt|lint|replay: test, explain, format, lint and replay policies
  version  print the version
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	switch cmd {
	case "serve":
		path := fs.String("config", "", "configuration file (YAML)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if *path == "" {
			return errors.New("serve: --config is required")
		}
		cfg, err := config.Load(*path)
		if err != nil {
			return err
		}
		log, err := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
		if err != nil {
			return err
		}
		return sidecar.Run(ctx, cfg, sidecar.WithLogger(log), sidecar.WithVersion(version))
	case "dev":
		var o sidecar.DevOptions
		fs.StringVar(&o.Listen, "listen", "127.0.0.1:8181", "gRPC address")
		fs.StringVar(&o.AdminListen, "admin-listen", "127.0.0.1:8182", "admin HTTP address (/healthz, /readyz)")
		fs.StringVar(&o.SimListen, "okta-sim-listen", "127.0.0.1:0", "address of the built-in Okta simulator")
		fs.StringVar(&o.PolicyDir, "policy-dir", "", "policy directory to use (and watch) instead of the embedded policies")
		level := fs.String("log-level", "info", "debug, info, warn or error")
		if err := fs.Parse(args); err != nil {
			return err
		}
		log, err := newLogger(stderr, *level, "text")
		if err != nil {
			return err
		}
		o.Out, o.Logger = stdout, log
		return sidecar.Dev(ctx, o)
	case "load":
		return loadgen.Main(ctx, args, stdout, stderr)
	case "health":
		return sidecar.HealthMain(ctx, args, stdout, stderr)
	case "audit":
		if len(args) == 0 || args[0] != "verify" {
			return errors.New("usage: sidecar audit verify FILE...")
		}
		return audit.VerifyMain(ctx, args[1:], stdout, stderr)
	case "policy":
		return policy(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "bollard", version)
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	// Log lines carry the trace and span ids of the call they belong to.
	if format == "text" {
		return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts))), nil
	}
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts))), nil
}
