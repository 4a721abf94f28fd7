package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bollard-dev/bollard/pkg/mcpbridge"
)

// defaultCredentialEnv is where `sidecar mcp-stdio` reads the agent's
// credential unless --credential-env names another variable.
const defaultCredentialEnv = "BOLLARD_AGENT_KEY"

// mcpStdio is `sidecar mcp-stdio [flags]`: relay MCP between stdin/stdout
// and a running sidecar's MCP endpoint, for desktop clients that launch a
// command. The credential comes from the environment only: a flag would
// show in `ps` and in the client's configuration file. Logs go to stderr;
// stdout is the protocol.
func mcpStdio(ctx context.Context, args []string, stdin io.ReadCloser, stdout io.WriteCloser, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcp-stdio", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", mcpbridge.DefaultEndpoint, "the sidecar's MCP endpoint: http://127.0.0.1:PORT/PATH, or unix:///path for a socket")
	httpPath := fs.String("http-path", "/mcp", "HTTP path of the endpoint behind a unix:// --url (the sidecar's mcp.path)")
	credEnv := fs.String("credential-env", defaultCredentialEnv, "environment variable holding the agent key or JWT")
	allowRemote := fs.Bool("allow-remote", false, "allow an https endpoint that is not loopback or a unix socket")
	level := fs.String("log-level", "info", "debug, info, warn or error (on stderr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("mcp-stdio: unexpected arguments: " + strings.Join(fs.Args(), " "))
	}
	log, err := newLogger(stderr, *level, "text")
	if err != nil {
		return err
	}
	credential := os.Getenv(*credEnv)
	if *credEnv == "" || credential == "" {
		return fmt.Errorf("mcp-stdio: %w: set $%s to the agent's key or JWT (or name another variable with --credential-env)", mcpbridge.ErrNoCredential, *credEnv)
	}
	b, err := mcpbridge.New(*url, credential,
		mcpbridge.WithAllowRemote(*allowRemote), mcpbridge.WithHTTPPath(*httpPath), mcpbridge.WithLogger(log))
	if err != nil {
		return fmt.Errorf("mcp-stdio: %w", err)
	}
	return b.Run(ctx, stdin, stdout)
}

// nopWriteCloser keeps the process's stdout open when the bridge ends.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
