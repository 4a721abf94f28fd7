// Package telemetry sets up OpenTelemetry for Bollard and owns its metric
// instruments and span conventions.
//
// Setup is configured only by the standard OTEL_* environment variables, so a
// platform team points every sidecar at its OpenTelemetry Collector the same
// way it does for any other workload: OTEL_TRACES_EXPORTER selects otlp,
// console or none (unset means none, never a failing default), the OTLP
// exporters read OTEL_EXPORTER_OTLP_*, the SDK reads OTEL_TRACES_SAMPLER and
// OTEL_RESOURCE_ATTRIBUTES, and OTEL_SERVICE_NAME overrides the default
// service.name of "bollard". Metrics are always served in the Prometheus text
// format by MetricsHandler, for the admin listener's /metrics, from a registry
// of their own; OTEL_METRICS_EXPORTER adds an OTLP or console push on top.
//
// Instruments records decisions, Okta calls, rate limiting, retries, audit
// writes and policy reloads with low-cardinality labels only: never an agent,
// user or decision id, which belong in spans and audit records. The span
// helpers (SetDecideAttributes, StartOktaSpan, EndOktaSpan) keep the
// attribute names in one place and keep ids and query values out of span
// names and URLs.
//
// The environment is read from the process (the OpenTelemetry SDK and
// autoexport offer no other source), so tests use t.Setenv.
package telemetry
