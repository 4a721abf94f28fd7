// Package sidecar wires Bollard's packages into a running process: it builds
// the identity chain, the decision engine, the Okta client and the gateway from
// a config.Config, serves gRPC (TCP and/or a Unix socket, with reflection and
// grpc.health.v1) and the admin HTTP endpoints (/healthz, /readyz), and stops
// gracefully when its context ends.
//
// Dev runs the same process on an embedded default: the built-in Okta
// simulator on a loopback port, the shipped policies and the sample agents.
package sidecar
