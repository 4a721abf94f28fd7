package telemetry_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// echoService stands in for Bollard's services: one unary method, no
// generated code.
var echoService = grpc.ServiceDesc{
	ServiceName: "bollard.test.v1.EchoService",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			return in, nil
		},
	}},
}

func TestGRPCServerContinuesAgentTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := setup(t, nil, telemetry.WithSpanExporter(exp))

	srv := grpc.NewServer(tel.GRPCServerOption())
	srv.RegisterService(&echoService, struct{}{})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
	)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "traceparent", "00-"+traceID+"-"+spanID+"-01")
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("health check: %v", err)
	}
	if err := conn.Invoke(ctx, "/bollard.test.v1.EchoService/Echo", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatalf("echo: %v", err)
	}

	spans := waitSpans(t, exp, "bollard.test.v1.EchoService/Echo")
	for _, s := range spans {
		if strings.Contains(s.Name, "grpc.health") {
			t.Errorf("health check traced: %q", s.Name)
			continue
		}
		if s.SpanKind != trace.SpanKindServer {
			t.Errorf("span %q kind = %v, want server", s.Name, s.SpanKind)
		}
		if got := s.Parent.TraceID().String(); got != traceID {
			t.Errorf("server span trace id = %s, want the agent's %s", got, traceID)
		}
		if got := s.Parent.SpanID().String(); got != spanID || !s.Parent.IsRemote() {
			t.Errorf("server span parent = %s (remote %v), want the agent's span %s", got, s.Parent.IsRemote(), spanID)
		}
	}

	// The RPC metrics reach /metrics too.
	if body := scrape(t, tel.MetricsHandler()); !strings.Contains(body, "rpc_server_call_duration_seconds_count{") {
		t.Errorf("/metrics lacks the gRPC server metrics:\n%s", grep(body, "rpc_"))
	}
}
