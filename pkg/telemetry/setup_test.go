package telemetry_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/bollard-dev/bollard/pkg/telemetry"
)

func TestSetupWithoutEnvIsNoop(t *testing.T) {
	tel := setup(t, nil)
	ctx, span := tel.Tracer().Start(t.Context(), "noop")
	sc := span.SpanContext()
	span.End()
	if !sc.IsValid() {
		t.Error("span has no trace id; logs could not be joined to the agent's trace")
	}
	if span.IsRecording() || sc.IsSampled() {
		t.Error("span recorded with no exporter configured")
	}

	// The agent's trace id is kept even though nothing is exported.
	carrier := propagation.MapCarrier{}
	tel.Propagator().Inject(ctx, carrier)
	if !strings.Contains(carrier["traceparent"], sc.TraceID().String()) {
		t.Errorf("traceparent %q does not carry trace id %s", carrier["traceparent"], sc.TraceID())
	}

	body := scrape(t, tel.MetricsHandler())
	for _, want := range []string{"target_info{", `service_name="bollard"`, "go_goroutines "} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if err := tel.Shutdown(t.Context()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := tel.Shutdown(t.Context()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

func TestConsoleExporter(t *testing.T) {
	var buf bytes.Buffer
	tel := setup(t, map[string]string{"OTEL_TRACES_EXPORTER": "console"}, telemetry.WithConsoleWriter(&buf))
	_, span := tel.Tracer().Start(t.Context(), "console-span")
	span.End()
	if err := tel.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if !strings.Contains(buf.String(), `"Name":"console-span"`) {
		t.Errorf("console output lacks the span:\n%s", buf.String())
	}
}

func TestServiceName(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		wantName    string
		wantVersion string
	}{
		{name: "default", wantName: "bollard", wantVersion: "1.2.3"},
		{name: "OTEL_SERVICE_NAME", env: map[string]string{"OTEL_SERVICE_NAME": "bollard-payroll"}, wantName: "bollard-payroll", wantVersion: "1.2.3"},
		{
			name:     "OTEL_RESOURCE_ATTRIBUTES",
			env:      map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs,service.version=9,deployment.environment.name=prod"},
			wantName: "from-attrs", wantVersion: "9",
		},
		{
			name:     "OTEL_SERVICE_NAME wins",
			env:      map[string]string{"OTEL_SERVICE_NAME": "named", "OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attrs"},
			wantName: "named", wantVersion: "1.2.3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tel := setup(t, tt.env, telemetry.WithVersion("1.2.3"), telemetry.WithSpanExporter(exp))
			_, span := tel.Tracer().Start(t.Context(), "s")
			span.End()
			spans := exp.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("got %d spans, want 1", len(spans))
			}
			res := spans[0].Resource.Set()
			if v, _ := res.Value(semconv.ServiceNameKey); v.AsString() != tt.wantName {
				t.Errorf("service.name = %q, want %q", v.AsString(), tt.wantName)
			}
			if v, _ := res.Value(semconv.ServiceVersionKey); v.AsString() != tt.wantVersion {
				t.Errorf("service.version = %q, want %q", v.AsString(), tt.wantVersion)
			}
			if body := scrape(t, tel.MetricsHandler()); !strings.Contains(body, `service_name="`+tt.wantName+`"`) {
				t.Errorf("target_info lacks service_name=%q", tt.wantName)
			}
		})
	}
}

func TestSamplerFromEnv(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := setup(t, map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, telemetry.WithSpanExporter(exp))
	_, span := tel.Tracer().Start(t.Context(), "s")
	span.End()
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("OTEL_TRACES_SAMPLER=always_off: %d spans exported", n)
	}
}

// TestOTLPExport sends both signals over OTLP/HTTP to a fake collector, all
// configured by environment variables as in a pod spec.
func TestOTLPExport(t *testing.T) {
	var (
		mu    sync.Mutex
		paths = map[string]int{}
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()

	tel := setup(t, map[string]string{
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_METRICS_EXPORTER":       "otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL,
	})
	in, err := telemetry.NewInstruments(tel.MeterProvider(), telemetry.Observed{})
	if err != nil {
		t.Fatal(err)
	}
	in.PolicyReload(t.Context(), true)
	_, span := tel.Tracer().Start(t.Context(), "exported")
	span.End()
	if err := tel.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if paths["/v1/traces"] == 0 || paths["/v1/metrics"] == 0 {
		t.Errorf("collector received %v, want /v1/traces and /v1/metrics", paths)
	}
}

func TestSetupRejectsBadEnv(t *testing.T) {
	for _, env := range []map[string]string{
		{"OTEL_TRACES_EXPORTER": "zipkin-typo"},
		{"OTEL_METRICS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"},
	} {
		clearOTelEnv(t)
		for k, v := range env {
			t.Setenv(k, v)
		}
		if tel, err := telemetry.Setup(t.Context()); err == nil {
			_ = tel.Shutdown(t.Context())
			t.Errorf("Setup with %v: no error", env)
		}
	}
}
