// Package config is Bollard's configuration: one YAML file, defaults for
// everything that has a sensible one, and a Validate that reports every
// problem at once.
//
// Secrets are never values in this file: the Okta API token and the agent
// keys are read from files (Kubernetes Secrets) or, for the token, from a
// named environment variable. Tracing is configured only by the standard
// OTEL_* environment variables, not here.
package config
