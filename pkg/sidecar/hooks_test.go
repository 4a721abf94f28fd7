package sidecar

import (
	"net/http"
	"net/http/httptest"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Each request to the receiver is a span, and the handler sees it in its
// context: the events it brings carry it, and their send spans link to it.
func TestTracedDelivery(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	var seen trace.SpanContext
	h := tracedDelivery(tp.Tracer("test"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = trace.SpanContextFromContext(r.Context())
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/okta/event-hooks", nil))
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != SpanHookDelivery || spans[0].SpanContext.SpanID() != seen.SpanID() {
		t.Fatalf("spans = %v, handler saw %v", spans, seen)
	}
	if spans[0].Status.Code.String() != "Error" {
		t.Errorf("a 503 is not marked as an error: %v", spans[0].Status)
	}
}
