package grpcguard

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

type panicking struct {
	healthpb.UnimplementedHealthServer
}

func (panicking) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	panic("boom in a unary handler")
}

func (panicking) Watch(*healthpb.HealthCheckRequest, grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	panic("boom in a streaming handler")
}

// A panic in a unary or a streaming handler is the caller's status and a
// log line with its stack; the server goes on serving.
func TestRecovery(t *testing.T) {
	var logs tooltest.Buffer
	unary, stream := Recovery(slog.New(slog.NewTextHandler(&logs, nil)), func() error { return status.Error(codes.Internal, "internal error") })
	gs := grpc.NewServer(append(Keepalive(), grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream))...)
	healthpb.RegisterHealthServer(gs, panicking{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	client := healthpb.NewHealthClient(conn)
	for range 2 { // the second call shows the server survived the first
		if _, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Internal || strings.Contains(err.Error(), "boom") {
			t.Errorf("unary: %v, want a bare INTERNAL", err)
		}
	}
	s, err := client.Watch(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); status.Code(err) != codes.Internal || strings.Contains(err.Error(), "boom") {
		t.Errorf("streaming: %v, want a bare INTERNAL", err)
	}
	if l := logs.String(); !strings.Contains(l, "boom in a unary handler") || !strings.Contains(l, "boom in a streaming handler") || !strings.Contains(l, "stack=") {
		t.Errorf("the panics are not logged with their stacks:\n%s", l)
	}
}
