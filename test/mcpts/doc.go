// Package mcpts runs the TypeScript MCP agent in examples/mcp-agent-ts,
// written with the official TypeScript SDK, against a real `sidecar dev`:
// Bollard's MCP front as an external client sees it, so that `go test ./...`
// checks what CI's step does.
//
// It needs Node.js 20+ and npm. Without them the test skips and says how to
// get them, unless BOLLARD_REQUIRE_TOOLS=1 (CI sets it), when it fails: a
// machine that should run every check must not pass by skipping one.
package mcpts
