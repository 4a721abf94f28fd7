package main

import (
	"context"
	"flag"
	"io"

	"github.com/bollard-dev/bollard/pkg/sidecar"
)

// dev is `sidecar dev [flags]`: serve on the embedded default (the Okta
// simulator, the shipped policies, the sample agents) until signalled.
func dev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o sidecar.DevOptions
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8181", "gRPC address")
	fs.StringVar(&o.AdminListen, "admin-listen", "127.0.0.1:8182", "admin HTTP address (/healthz, /readyz, the approvers' web console at /approvals/)")
	fs.StringVar(&o.MCPListen, "mcp-listen", "127.0.0.1:8183", "MCP (Streamable HTTP) address, or unix:///path")
	fs.StringVar(&o.SimListen, "okta-sim-listen", "127.0.0.1:0", "address of the built-in Okta simulator")
	fs.StringVar(&o.PolicyDir, "policy-dir", "", "policy directory to use (and watch) instead of the embedded policies")
	fs.BoolVar(&o.Pprof, "pprof", false, "serve Go's profiles at /debug/pprof/ on the admin address (loopback peers only)")
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
}
