// Package bench is Bollard's service benchmark, behind `sidecar bench`. It
// starts the Okta simulator on a loopback port and the sidecar binary as a
// child process serving against it (the shipped policies, audit on), then,
// from this process, drives Check and Execute through the sidecar and the
// same action straight at the simulator (package loadgen's baseline) at each
// number of callers, and renders one Markdown table with the ratios of
// issue 14's targets: Execute's added latency at 1 caller, its throughput as
// a share of the baseline at 16, and Check's rate at 32.
//
// The load comes from a separate process than the sidecar's, as a real
// agent's would; the simulator shares the load generator's process, so the
// baseline and the runs through Bollard pay for it alike.
package bench
