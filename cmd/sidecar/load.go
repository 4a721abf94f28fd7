package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/loadgen"
)

// load is `sidecar load [flags]`: drive a running sidecar, or with --rpc
// okta the Okta org straight, and report requests per second and latency.
func load(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadgen.Options
	var params string
	fs.StringVar(&o.Target, "addr", "127.0.0.1:8181", "sidecar gRPC address (host:port or unix:///path)")
	fs.StringVar(&o.Key, "key", "", "agent key (default: the dev reader-bot key)")
	fs.StringVar(&o.RPC, "rpc", loadgen.RPCCheck, "check, execute, okta (the same action straight to --okta-url, the baseline) or health (the sidecar's gRPC health check: the floor of any call)")
	fs.StringVar(&o.Action, "action", "users.get", "catalog action")
	fs.StringVar(&params, "params", `{"userId":"00uALIactive000000g7"}`, "action parameters (JSON object)")
	fs.IntVar(&o.Concurrency, "c", 32, "concurrent callers")
	fs.IntVar(&o.Conns, "conns", 1, "gRPC connections shared by the callers")
	fs.DurationVar(&o.Duration, "d", 10*time.Second, "duration (at most 5m)")
	fs.Int64Var(&o.MaxRequests, "n", 5_000_000, "stop after this many requests")
	fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a target (or Okta URL) that is not loopback or a unix socket")
	fs.StringVar(&o.OktaURL, "okta-url", "", "Okta org URL for --rpc okta (the simulator: http://127.0.0.1:PORT)")
	fs.StringVar(&o.OktaToken, "okta-token", "", "SSWS API token for --rpc okta (default: $OKTA_API_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(params), &o.Params); err != nil {
		return fmt.Errorf("--params: %w", err)
	}
	if o.OktaToken == "" {
		o.OktaToken = os.Getenv("OKTA_API_TOKEN")
	}
	if o.Key == "" {
		o.Key = identity.DevKeys()["reader-bot"]
	}
	res, err := loadgen.Run(ctx, o)
	if err != nil {
		return err
	}
	res.Report(stdout, o)
	return nil
}
