package telemetry

import (
	"io"
	"log/slog"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Option configures Setup.
type Option func(*options)

type options struct {
	version       string
	logger        *slog.Logger
	spanExporter  sdktrace.SpanExporter
	processors    []sdktrace.SpanProcessor
	consoleWriter io.Writer
}

var defaultOptions = options{
	logger: slog.New(slog.DiscardHandler),
}

// WithVersion sets the service.version resource attribute.
// OTEL_RESOURCE_ATTRIBUTES still wins when it sets service.version.
func WithVersion(v string) Option {
	return func(o *options) { o.version = v }
}

// WithLogger receives Setup's notes, /metrics errors and, after SetGlobal,
// OpenTelemetry's own errors (an unreachable collector, for example).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithSpanExporter sends every span to e as soon as it ends, instead of the
// exporter OTEL_TRACES_EXPORTER selects. It is meant for tests
// (tracetest.NewInMemoryExporter): export is synchronous.
func WithSpanExporter(e sdktrace.SpanExporter) Option {
	return func(o *options) { o.spanExporter = e }
}

// WithSpanProcessor adds p instead of the exporter OTEL_TRACES_EXPORTER
// selects. It may be given more than once.
func WithSpanProcessor(p sdktrace.SpanProcessor) Option {
	return func(o *options) { o.processors = append(o.processors, p) }
}

// WithConsoleWriter makes OTEL_TRACES_EXPORTER=console write spans to w
// instead of standard output, which may be reserved for logs.
func WithConsoleWriter(w io.Writer) Option {
	return func(o *options) { o.consoleWriter = w }
}
