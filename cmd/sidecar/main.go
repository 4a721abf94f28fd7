// Command sidecar runs Bollard: the gateway between AI agents and the Okta
// Management API.
//
//	sidecar serve --config bollard.yaml   serve with a configuration file
//	sidecar dev [flags]                   serve on the embedded default (--listen, --admin-listen, ...)
//	sidecar approver --config bollard.yaml serve the approvers of a fleet: ApprovalService, console, notifications
//	sidecar load [flags]                  drive a running sidecar and report latency
//	sidecar mcp-stdio [flags]             relay MCP between stdio and a running sidecar (key from $BOLLARD_AGENT_KEY)
//	sidecar bench [flags]                 benchmark the service on the simulator, against Okta straight
//	sidecar health [--addr ADDR]          the gRPC health check the liveness probe runs
//	sidecar audit verify FILE...          check audit files' hash chains
//	sidecar policy COMMAND [flags]        test, check, format, lint and replay policies; write the catalog as OPA data
//	sidecar version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	_ "time/tzdata" // policies use time zones; scratch images have no zoneinfo

	"github.com/bollard-dev/bollard/pkg/approvalcli"
	"github.com/bollard-dev/bollard/pkg/policytool"
)

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
  approver serve a fleet's approvers (--config): ApprovalService over TLS, the web console, notifications;
           no agent calls; needs state.backend redis (docs/approvals.md#approver-mode)
  load     drive a running sidecar over gRPC and report requests per second and latency
  mcp-stdio relay MCP between stdin/stdout and a running sidecar's MCP endpoint (--url), for desktop clients;
           the agent key or JWT comes from $BOLLARD_AGENT_KEY (--credential-env names another variable)
  bench    start the simulator and the sidecar, run Check, Execute and Okta straight at 1, 16, 32 callers; print a Markdown table
           (bench simulator: the simulator alone, accepting $OKTA_API_TOKEN, for load --rpc okta)
  health   ask a running sidecar's gRPC health service (the pod's liveness probe)
  audit    audit verify FILE...: check the hash chain of audit files, oldest first
  policy   policy test|check|fmt|lint|replay|data: test, explain, format, lint and replay policies; the catalog as OPA data
  approvals approvals list|show|approve|deny: decide agents' calls as an approver (--token-file: your identity provider's token)
  version  print the version
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, args, stderr)
	case "dev":
		return dev(ctx, args, stdout, stderr)
	case "approver":
		return approver(ctx, args, stderr)
	case "load":
		return load(ctx, args, stdout, stderr)
	case "mcp-stdio":
		return mcpStdio(ctx, args, os.Stdin, nopWriteCloser{stdout}, stderr)
	case "bench":
		return benchCmd(ctx, args, stdout, stderr)
	case "health":
		return health(ctx, args, stdout, stderr)
	case "audit":
		return auditCmd(ctx, args, stdout, stderr)
	case "policy":
		return policy(ctx, args, stdout, stderr)
	case "approvals":
		return approvalcli.Run(ctx, args, os.Stdin, stdout, stderr)
	case "version":
		return printVersion(stdout)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
