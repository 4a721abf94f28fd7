package telemetry_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// clearOTelEnv blanks every OTEL_* variable for the test, which the SDK and
// autoexport treat as unset. The SDK reads only the process environment, so
// tests that call it must not run in parallel.
func clearOTelEnv(t testing.TB) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
		}
	}
}

// setup clears the environment, sets env and calls Setup, shutting down at
// the end of the test.
func setup(t *testing.T, env map[string]string, opts ...telemetry.Option) *telemetry.Telemetry {
	t.Helper()
	clearOTelEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
	tel, err := telemetry.Setup(t.Context(), opts...)
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(t.Context()) })
	return tel
}

// scrape fetches /metrics from the handler over HTTP, as Prometheus would.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read scrape: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("scrape Content-Type = %q, want the Prometheus text format", ct)
	}
	return string(body)
}

// waitSpans polls until the exporter holds a span named name.
func waitSpans(t *testing.T, exp *tracetest.InMemoryExporter, name string) tracetest.SpanStubs {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		spans := exp.GetSpans()
		for _, s := range spans {
			if s.Name == name {
				return spans
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no span %q; have %d spans", name, len(spans))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
