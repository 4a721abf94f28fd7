// Package bench is Bollard's service benchmark, behind `sidecar bench`. It
// starts the Okta simulator and the sidecar binary, each as a child process
// (`sidecar bench simulator` and `sidecar serve` with the shipped policies
// and audit on), then, from its own process, drives Check and Execute
// through the sidecar and the same action straight at the simulator
// (package loadgen's baseline) at each number of callers, and renders one
// Markdown table with the ratios of issue 14's targets: Execute's added
// latency at 1 caller, its throughput as a share of the baseline at 16, and
// Check's rate at 32.
//
// With Options.State redis (or both, after memory) the sidecar keeps its
// state in a redis-server the benchmark starts on a free loopback port
// (pkg/state/redistest's, no persistence), each run is also made as an
// agent with a request budget, and the table compares Execute with redis
// to Execute with memory: issue 16's goal.
//
// Three processes, as in production: the agents, Bollard and Okta are
// apart, so the calls through Bollard and the baseline pay the same
// hand-offs between processes.
package bench
