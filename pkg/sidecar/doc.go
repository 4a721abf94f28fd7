// Package sidecar wires Bollard's packages into a running process. Run
// builds the parts from a config.Config in small named steps (build.go:
// telemetry, identity, policy, the Okta client, the audit log, the event
// hook receiver, the gateway, the gRPC server), binds every address
// (listen), then serves gRPC (TCP and/or a Unix socket, with reflection and
// grpc.health.v1), the event hook receiver and the admin HTTP endpoints
// (/healthz, /readyz, /metrics) until its context ends, and stops
// gracefully in order.
//
// Dev runs the same process on an embedded default: the built-in Okta
// simulator on a loopback port, the shipped policies and the sample agents.
// HealthCheck is the client side of the liveness probe. Flags belong to
// cmd/sidecar, not here.
package sidecar
