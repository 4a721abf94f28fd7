package telemetry_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"google.golang.org/grpc"

	"github.com/bollard-dev/bollard/pkg/telemetry"
)

func Example() {
	ctx := context.Background()
	// Configured by OTEL_* only; with none set nothing is exported.
	tel, err := telemetry.Setup(ctx, telemetry.WithVersion("v0.1.0"))
	if err != nil {
		log.Fatal(err)
	}
	defer tel.Shutdown(context.WithoutCancel(ctx))

	in, err := telemetry.NewInstruments(tel.MeterProvider(), telemetry.Observed{
		PolicyRevision: func() string { return "rev-1" },
	})
	if err != nil {
		log.Fatal(err)
	}

	srv := grpc.NewServer(tel.GRPCServerOption()) // continues the agent's trace
	defer srv.Stop()
	admin := http.NewServeMux()
	admin.Handle("GET /metrics", tel.MetricsHandler())

	ctx, span := tel.Tracer().Start(ctx, telemetry.SpanDecide)
	in.Decision(ctx, telemetry.ResultAllow, "users", "users.get", "", 40*time.Microsecond)
	telemetry.SetDecideAttributes(span, telemetry.Decide{Action: "users.get", Result: telemetry.ResultAllow})
	span.End()

	fmt.Println(telemetry.OktaSpanName("GET", "/api/v1/users/{userId}"))
	// Output: okta GET /api/v1/users/{userId}
}
