// Package redistest runs a real redis-server for tests of the shared
// state: never a fake, because what the tests prove is how Bollard's
// scripts and transactions behave in the server that runs them.
//
// Start skips the test when redis-server is not installed, saying how to
// get it, and fails it instead when BOLLARD_REQUIRE_TOOLS=1 (.ci/run sets
// it, so CI cannot pass by skipping). StartProcess is the same server for
// a program rather than a test: `sidecar bench --state redis` runs one.
package redistest
