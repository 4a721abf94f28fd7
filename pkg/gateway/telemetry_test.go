package gateway

import (
	"context"
	"slices"
	"testing"

	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// traced gives the gateway and the forwarder one tracer provider exporting
// to memory.
func traced(exp *tracetest.InMemoryExporter) func(*harnessOption) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	return func(o *harnessOption) {
		o.gwOpts = append(o.gwOpts, WithTracerProvider(tp))
		o.fopts = append(o.fopts, forward.WithTracerProvider(tp))
	}
}

func attr(s tracetest.SpanStub, key string) (string, bool) {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit(), true
		}
	}
	return "", false
}

func spansNamed(exp *tracetest.InMemoryExporter, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

func TestSpans(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		req       *bollardv1.ExecuteRequest
		fault     *oktasim.Fault
		result    string
		denyCodes string
		oktaSpans int
		errStatus bool
	}{
		{"allow", devKey("reader-bot"), &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})}, nil, "ok", "[]", 1, false},
		{"deny", devKey("reader-bot"), &bollardv1.ExecuteRequest{Action: "users.delete", Params: params(t, map[string]any{"userId": oktasim.SeedUserHeidi})}, nil, "denied", `["not_granted"]`, 0, false},
		{"confirmation", devKey("helpdesk-bot"), &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})}, nil, "confirmation_required", "[]", 0, false},
		{"okta error", devKey("reader-bot"), &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})},
			&oktasim.Fault{Method: "GET", Status: 500, Count: 1}, "okta_unavailable", "[]", 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			h := newHarness(t, traced(exp))
			if tc.fault != nil {
				h.sim.InjectFault(*tc.fault)
			}
			_, _ = h.client.Execute(as(t.Context(), tc.key), tc.req)
			decide := spansNamed(exp, telemetry.SpanDecide)
			if len(decide) != 1 {
				t.Fatalf("%d %s spans", len(decide), telemetry.SpanDecide)
			}
			d := decide[0]
			for key, want := range map[string]string{
				"bollard.result": tc.result, "bollard.deny_codes": tc.denyCodes, "bollard.action": tc.req.Action,
			} {
				if got, _ := attr(d, key); got != want {
					t.Errorf("%s = %q, want %q", key, got, want)
				}
			}
			for _, key := range []string{"bollard.agent.id", "bollard.decision.id", "bollard.policy.revision", "bollard.area", "bollard.access"} {
				if v, ok := attr(d, key); !ok || v == "" {
					t.Errorf("%s missing", key)
				}
			}
			if (d.Status.Code == otelcodes.Error) != tc.errStatus {
				t.Errorf("decide status %v", d.Status)
			}
			okta := spansNamed(exp, "okta GET /api/v1/users/{userId}")
			if len(okta) != tc.oktaSpans {
				t.Fatalf("%d okta spans, want %d (all: %v)", len(okta), tc.oktaSpans, exp.GetSpans().Snapshots())
			}
			for _, o := range okta {
				if o.Parent.SpanID() != d.SpanContext.SpanID() || o.SpanKind != trace.SpanKindClient {
					t.Errorf("okta span is not a client child of the decision")
				}
				if tmpl, _ := attr(o, "url.template"); tmpl != "/api/v1/users/{userId}" {
					t.Errorf("url.template = %q", tmpl)
				}
				if id, _ := attr(o, "okta.request_id"); id == "" {
					t.Error("no okta.request_id")
				}
				for _, kv := range o.Attributes {
					if slices.Contains([]string{oktasim.SeedUserAlice}, kv.Value.Emit()) {
						t.Errorf("attribute %s carries a user id", kv.Key)
					}
				}
			}
		})
	}
}

// TestSpansContinueTheAgentsTrace: the agent's W3C trace context, sent as
// gRPC metadata, is the parent of Bollard's spans.
func TestSpansContinueTheAgentsTrace(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel, err := telemetry.Setup(t.Context(), telemetry.WithSpanExporter(exp))
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	h := newHarness(t, func(o *harnessOption) {
		o.gwOpts = append(o.gwOpts, WithTracerProvider(tel.TracerProvider()))
		o.grpcOpts = append(o.grpcOpts, tel.GRPCServerOption())
	})
	agentTrace, _ := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	agentSpan, _ := trace.SpanIDFromHex("b7ad6b7169203331")
	parent := trace.ContextWithSpanContext(t.Context(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: agentTrace, SpanID: agentSpan, TraceFlags: trace.FlagsSampled, Remote: true}))
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(parent, carrier)
	ctx := as(t.Context(), devKey("reader-bot"))
	ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", carrier["traceparent"])
	if _, err := h.client.Check(ctx, &bollardv1.ExecuteRequest{Action: "users.list"}); err != nil {
		t.Fatal(err)
	}
	decide := spansNamed(exp, telemetry.SpanDecide)
	if len(decide) != 1 || decide[0].SpanContext.TraceID() != agentTrace {
		t.Fatalf("decide spans %v, want one in the agent's trace %s", decide, agentTrace)
	}
}
