package sidecar

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// HealthCheck asks the sidecar's gRPC health service (grpc.health.v1) at
// addr whether it is serving: "unix:///path/to.sock" or "host:port". It is
// what the pod's liveness probe runs (`sidecar health`), because the gRPC
// listener is a socket or loopback the kubelet cannot reach from outside
// the pod, and the image has no shell or other client.
func HealthCheck(ctx context.Context, addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	if s := resp.GetStatus(); s != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("health: %s", s)
	}
	return nil
}

// HealthMain is `sidecar health [--addr ADDR] [--timeout D]`: exit status 0
// when the sidecar is serving.
func HealthMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
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
	if err := HealthCheck(ctx, *addr, *timeout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "SERVING")
	return nil
}
