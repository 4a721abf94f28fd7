package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
)

// ScopeName is the instrumentation scope of Bollard's own spans and metrics.
const ScopeName = "github.com/bollard-dev/bollard"

// DefaultServiceName is service.name unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES says otherwise.
const DefaultServiceName = "bollard"

const (
	envTracesExporter  = "OTEL_TRACES_EXPORTER"
	envMetricsExporter = "OTEL_METRICS_EXPORTER"
)

// Telemetry holds the providers built by Setup. Call Shutdown before exit so
// buffered spans and metrics are flushed.
type Telemetry struct {
	tp      *sdktrace.TracerProvider
	mp      *sdkmetric.MeterProvider
	prop    propagation.TextMapPropagator
	metrics http.Handler
	log     *slog.Logger
	version string

	shutdownOnce sync.Once
	shutdownErr  error
}

// Setup builds the trace and metric pipelines from the OTEL_* environment
// variables. With none set it exports nothing, but spans still get trace ids
// (so logs can carry them) and /metrics still works.
func Setup(ctx context.Context, opts ...Option) (*Telemetry, error) {
	o := defaultOptions
	for _, opt := range opts {
		opt(&o)
	}
	res, err := newResource(ctx, o.version)
	if err != nil {
		return nil, err
	}
	tp, tracesTo, err := newTracerProvider(ctx, res, o)
	if err != nil {
		return nil, err
	}
	mp, metrics, metricsTo, err := newMeterProvider(ctx, res, o.logger)
	if err != nil {
		return nil, errors.Join(err, tp.Shutdown(ctx))
	}
	o.logger.LogAttrs(ctx, slog.LevelInfo, "telemetry configured",
		slog.String("traces", tracesTo), slog.String("metrics", metricsTo))
	return &Telemetry{
		tp:      tp,
		mp:      mp,
		prop:    propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		metrics: metrics,
		log:     o.logger,
		version: o.version,
	}, nil
}

// newResource puts the defaults first so that OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES, detected later, override them.
func newResource(ctx context.Context, version string) (*resource.Resource, error) {
	defaults := []attribute.KeyValue{semconv.ServiceName(DefaultServiceName)}
	if version != "" {
		defaults = append(defaults, semconv.ServiceVersion(version))
	}
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(defaults...),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry resource (check OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	return res, nil
}

// newTracerProvider returns the provider and a word for the log saying where
// spans go.
func newTracerProvider(ctx context.Context, res *resource.Resource, o options) (*sdktrace.TracerProvider, string, error) {
	tpOpts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if o.spanExporter != nil || len(o.processors) > 0 {
		if o.spanExporter != nil {
			tpOpts = append(tpOpts, sdktrace.WithSyncer(o.spanExporter))
		}
		for _, p := range o.processors {
			tpOpts = append(tpOpts, sdktrace.WithSpanProcessor(p))
		}
		return sdktrace.NewTracerProvider(tpOpts...), "option", nil
	}
	exp, err := newSpanExporter(ctx, o)
	if err != nil {
		return nil, "", fmt.Errorf("traces exporter (check %s and OTEL_EXPORTER_OTLP_*): %w", envTracesExporter, err)
	}
	if exp == nil {
		if os.Getenv(envTracesExporter) == "" && os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" {
			o.logger.LogAttrs(ctx, slog.LevelWarn, "OTEL_EXPORTER_OTLP_ENDPOINT is set but OTEL_TRACES_EXPORTER is not: no spans are exported; set OTEL_TRACES_EXPORTER=otlp")
		}
		// Nothing to export to: sample nothing, so spans cost almost nothing
		// but still carry a trace id (the agent's, when it sent one).
		tpOpts = append(tpOpts, sdktrace.WithSampler(sdktrace.NeverSample()))
		return sdktrace.NewTracerProvider(tpOpts...), "none", nil
	}
	// The sampler is left to the SDK, which reads OTEL_TRACES_SAMPLER.
	tpOpts = append(tpOpts, sdktrace.WithBatcher(exp))
	return sdktrace.NewTracerProvider(tpOpts...), os.Getenv(envTracesExporter), nil
}

// newSpanExporter returns nil when spans go nowhere: OTEL_TRACES_EXPORTER
// unset (autoexport would otherwise default to OTLP and fail on every export
// where no collector listens) or "none".
func newSpanExporter(ctx context.Context, o options) (sdktrace.SpanExporter, error) {
	if o.consoleWriter != nil && os.Getenv(envTracesExporter) == "console" {
		return stdouttrace.New(stdouttrace.WithWriter(o.consoleWriter))
	}
	exp, err := autoexport.NewSpanExporter(ctx, autoexport.WithFallbackSpanExporter(
		func(context.Context) (sdktrace.SpanExporter, error) { return nil, nil }))
	if err != nil {
		return nil, err
	}
	if exp == nil || autoexport.IsNoneSpanExporter(exp) {
		return nil, nil
	}
	return exp, nil
}

// newMeterProvider always has a Prometheus reader on a registry of its own
// (not the process-wide default, which other libraries write to), and an
// OTLP or console reader when OTEL_METRICS_EXPORTER asks for one.
func newMeterProvider(ctx context.Context, res *resource.Resource, log *slog.Logger) (*sdkmetric.MeterProvider, http.Handler, string, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, nil, "", fmt.Errorf("register Go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, nil, "", fmt.Errorf("register process collector: %w", err)
	}
	// Scope labels are left off: every series would repeat the scope name,
	// and Bollard's metric names are unique without them.
	prom, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, nil, "", fmt.Errorf("prometheus exporter: %w", err)
	}
	mpOpts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(prom)}
	to := "prometheus"
	switch name := os.Getenv(envMetricsExporter); name {
	case "", "none":
	case "prometheus":
		// autoexport would start a second HTTP server on :9464; /metrics on
		// the admin listener already serves the same series.
		log.LogAttrs(ctx, slog.LevelInfo, "OTEL_METRICS_EXPORTER=prometheus: metrics are served on the admin listener's /metrics")
	default:
		r, err := autoexport.NewMetricReader(ctx)
		if err != nil {
			return nil, nil, "", errors.Join(
				fmt.Errorf("metrics exporter (check %s and OTEL_EXPORTER_OTLP_*): %w", envMetricsExporter, err),
				prom.Shutdown(ctx))
		}
		mpOpts = append(mpOpts, sdkmetric.WithReader(r))
		to += "+" + name
	}
	handler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
	})
	return sdkmetric.NewMeterProvider(mpOpts...), handler, to, nil
}

// TracerProvider is where Bollard's spans go.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tp }

// Tracer is the tracer for Bollard's own spans (bollard.decide, okta ...).
func (t *Telemetry) Tracer() trace.Tracer {
	return t.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(t.version))
}

// MeterProvider is where Bollard's metrics go; pass it to NewInstruments.
func (t *Telemetry) MeterProvider() metric.MeterProvider { return t.mp }

// Propagator reads and writes W3C trace context and baggage.
func (t *Telemetry) Propagator() propagation.TextMapPropagator { return t.prop }

// MetricsHandler serves every metric in the Prometheus text format, for the
// admin listener's /metrics.
func (t *Telemetry) MetricsHandler() http.Handler { return t.metrics }

// GRPCServerOption instruments a gRPC server: one server span and the RPC
// metrics per call, continuing the trace context an agent sends in its
// metadata. Health checks are left out: a kubelet probe every few seconds
// would otherwise fill traces and metrics with noise.
func (t *Telemetry) GRPCServerOption() grpc.ServerOption {
	return grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(t.tp),
		otelgrpc.WithMeterProvider(t.mp),
		otelgrpc.WithPropagators(t.prop),
		otelgrpc.WithFilter(filters.Not(filters.HealthCheck())),
	))
}

// SetGlobal installs the providers and propagator as OpenTelemetry's globals,
// for libraries that use them, and sends OpenTelemetry's internal errors to
// the logger given to Setup.
func (t *Telemetry) SetGlobal() {
	otel.SetTracerProvider(t.tp)
	otel.SetMeterProvider(t.mp)
	otel.SetTextMapPropagator(t.prop)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		t.log.LogAttrs(context.Background(), slog.LevelWarn, "opentelemetry error", slog.String("error", err.Error()))
	}))
}

// Shutdown flushes and stops the exporters. Later calls return the first
// call's result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.shutdownOnce.Do(func() {
		t.shutdownErr = errors.Join(t.tp.Shutdown(ctx), t.mp.Shutdown(ctx))
	})
	return t.shutdownErr
}

// promLogger sends promhttp's errors (a collector failing mid-scrape) to slog.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.LogAttrs(context.Background(), slog.LevelWarn, "metrics scrape error", slog.String("error", fmt.Sprint(v...)))
}
