package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bollard-dev/bollard/pkg/sidecar"
)

// health is `sidecar health [--addr ADDR] [--timeout D]`, the pod's
// liveness probe: exit status 0 when the sidecar is serving.
func health(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "unix:///var/run/bollard/bollard.sock", "the sidecar's gRPC address: unix:///path or host:port")
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("health: unexpected arguments: " + strings.Join(fs.Args(), " "))
	}
	if err := sidecar.HealthCheck(ctx, *addr, *timeout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "SERVING")
	return nil
}
