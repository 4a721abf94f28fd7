package approvers

import (
	"context"
	"net"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// panicking is a service whose every handler panics.
type panicking struct {
	healthpb.UnimplementedHealthServer
}

func (panicking) Check(context.Context, *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	panic("boom in a unary handler")
}

func (panicking) Watch(*healthpb.HealthCheckRequest, grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error {
	panic("boom in a streaming handler")
}

// TestServerOptionsRecoverPanics: on a server of its own (approver mode),
// a panic in a unary or streaming handler is INTERNAL with ErrorInfo
// INTERNAL and a log line with the stack, and the server goes on serving.
func TestServerOptionsRecoverPanics(t *testing.T) {
	h := newHarness(t)
	gs := grpc.NewServer(h.srv.ServerOptions(8)...)
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
	internal := func(what string, err error) {
		t.Helper()
		st := status.Convert(err)
		reason := ""
		for _, d := range st.Details() {
			if ei, ok := d.(*errdetails.ErrorInfo); ok {
				reason = ei.GetReason()
			}
		}
		if st.Code() != codes.Internal || reason != ReasonInternal || strings.Contains(st.Message(), "boom") {
			t.Errorf("%s: %v (reason %q), want a bare INTERNAL", what, err, reason)
		}
	}
	for range 2 { // the second call shows the server survived the first
		_, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{})
		internal("unary", err)
	}
	stream, err := client.Watch(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	internal("streaming", err)
	if logs := h.logs.String(); !strings.Contains(logs, "boom in a unary handler") || !strings.Contains(logs, "boom in a streaming handler") {
		t.Errorf("the panics are not logged:\n%s", logs)
	}
}
