// Package tooltest finds the programs that some tests need besides Go
// (redis-server, chromium, node and npm), under one rule: a test whose
// program is not installed is skipped with a message saying how to get
// it, and fails instead when BOLLARD_REQUIRE_TOOLS=1, which .ci/run sets
// once it has installed them, so that CI cannot pass by skipping.
//
// It also holds the small pieces many tests share: a self-signed
// certificate (SelfSigned) and a Buffer safe for concurrent writers.
//
// It imports nothing but the standard library: redistest, which `sidecar
// bench` links, uses it. Package browser starts the headless Chromium.
package tooltest
