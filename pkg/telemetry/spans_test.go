package telemetry_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bollard-dev/bollard/pkg/telemetry"
)

func TestDecideSpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := setup(t, nil, telemetry.WithSpanExporter(exp))
	_, span := tel.Tracer().Start(t.Context(), telemetry.SpanDecide)
	telemetry.SetDecideAttributes(span, telemetry.Decide{
		AgentID:        "agent-7",
		Action:         "users.deactivate",
		Area:           "users",
		Access:         "write",
		Destructive:    true,
		Result:         telemetry.ResultDeny,
		DenyCodes:      []string{"not_granted", "outside_business_hours"},
		Obligations:    []string{"require_confirmation"},
		PolicyRevision: "rev-1",
		DecisionID:     "0190c6e4-0000-7000-8000-000000000000",
		Duration:       1500 * time.Microsecond,
	})
	span.End()

	got := onlySpan(t, exp)
	want := map[attribute.Key]attribute.Value{
		"bollard.agent.id":             attribute.StringValue("agent-7"),
		"bollard.action":               attribute.StringValue("users.deactivate"),
		"bollard.area":                 attribute.StringValue("users"),
		"bollard.access":               attribute.StringValue("write"),
		"bollard.destructive":          attribute.BoolValue(true),
		"bollard.result":               attribute.StringValue("deny"),
		"bollard.deny_codes":           attribute.StringSliceValue([]string{"not_granted", "outside_business_hours"}),
		"bollard.obligations":          attribute.StringSliceValue([]string{"require_confirmation"}),
		"bollard.policy.revision":      attribute.StringValue("rev-1"),
		"bollard.decision.id":          attribute.StringValue("0190c6e4-0000-7000-8000-000000000000"),
		"bollard.decision.duration_us": attribute.Int64Value(1500),
	}
	checkAttrs(t, got.Attributes, want)
	if got.Name != "bollard.decide" || got.Status.Code != codes.Unset {
		t.Errorf("span %q status %v, want bollard.decide with no status: a deny is not an error", got.Name, got.Status.Code)
	}
}

func TestOktaSpan(t *testing.T) {
	tests := []struct {
		name       string
		result     telemetry.OktaResult
		wantAttrs  map[attribute.Key]attribute.Value
		wantStatus codes.Code
	}{
		{
			name:   "ok",
			result: telemetry.OktaResult{Status: 200, RequestID: "req-1", RateLimitRemaining: 0, HasRateLimit: true},
			wantAttrs: map[attribute.Key]attribute.Value{
				"http.response.status_code": attribute.IntValue(200),
				"okta.request_id":           attribute.StringValue("req-1"),
				"okta.rate_limit.remaining": attribute.Int64Value(0),
			},
		},
		{
			name:   "Okta error",
			result: telemetry.OktaResult{Status: 404, RequestID: "req-2"},
			wantAttrs: map[attribute.Key]attribute.Value{
				"http.response.status_code": attribute.IntValue(404),
				"okta.request_id":           attribute.StringValue("req-2"),
				"error.type":                attribute.StringValue("404"),
			},
			wantStatus: codes.Error,
		},
		{
			name:       "no answer",
			result:     telemetry.OktaResult{ErrorType: "okta_timeout"},
			wantAttrs:  map[attribute.Key]attribute.Value{"error.type": attribute.StringValue("okta_timeout")},
			wantStatus: codes.Error,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tel := setup(t, nil, telemetry.WithSpanExporter(exp))
			_, span := telemetry.StartOktaSpan(t.Context(), tel.Tracer(), "GET", "/api/v1/users/{userId}", "example.okta.com")
			telemetry.EndOktaSpan(span, tt.result)

			got := onlySpan(t, exp)
			want := map[attribute.Key]attribute.Value{
				"http.request.method": attribute.StringValue("GET"),
				"url.template":        attribute.StringValue("/api/v1/users/{userId}"),
				"server.address":      attribute.StringValue("example.okta.com"),
			}
			for k, v := range tt.wantAttrs {
				want[k] = v
			}
			checkAttrs(t, got.Attributes, want)
			if got.Name != "okta GET /api/v1/users/{userId}" || got.SpanKind != trace.SpanKindClient {
				t.Errorf("span %q kind %v, want \"okta GET /api/v1/users/{userId}\" client", got.Name, got.SpanKind)
			}
			if got.Status.Code != tt.wantStatus {
				t.Errorf("status %v, want %v", got.Status.Code, tt.wantStatus)
			}
		})
	}
}

func TestLogHandlerAddsTraceID(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := setup(t, nil, telemetry.WithSpanExporter(exp))
	var buf bytes.Buffer
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	ctx, span := tel.Tracer().Start(t.Context(), "s")
	log.InfoContext(ctx, "call")
	span.End()

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	sc := span.SpanContext()
	if line["trace_id"] != sc.TraceID().String() || line["span_id"] != sc.SpanID().String() || line["component"] != "test" {
		t.Errorf("log line %v lacks the span's ids", line)
	}

	buf.Reset()
	log.InfoContext(t.Context(), "no span")
	if bytes.Contains(buf.Bytes(), []byte("trace_id")) {
		t.Errorf("trace_id logged without a span: %s", buf.Bytes())
	}
}

func onlySpan(t *testing.T, exp *tracetest.InMemoryExporter) tracetest.SpanStub {
	t.Helper()
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	return spans[0]
}

// checkAttrs compares a span's attributes with want, exactly.
func checkAttrs(t *testing.T, kvs []attribute.KeyValue, want map[attribute.Key]attribute.Value) {
	t.Helper()
	got := make(map[attribute.Key]attribute.Value, len(kvs))
	for _, kv := range kvs {
		got[kv.Key] = kv.Value
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok || g.Type() != want[k].Type() || g.Emit() != want[k].Emit() {
			t.Errorf("%s = %s (%v), want %s (%v)", k, g.Emit(), g.Type(), want[k].Emit(), want[k].Type())
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected attribute %s = %s", k, v.Emit())
		}
	}
}
