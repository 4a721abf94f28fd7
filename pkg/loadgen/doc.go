// Package loadgen drives a running Bollard sidecar over gRPC with concurrent
// callers and reports requests per second and latency percentiles. It is the
// whole-service load tool behind `sidecar load`; its runs are bounded in
// time and in requests, and it refuses non-loopback targets unless told
// otherwise, so it cannot be pointed at someone else's server by accident.
//
// Its baseline (RPCOkta) sends the same catalog action straight to the Okta
// org with Bollard's credential, bound by package catalog and built by
// forward.NewRequest, over keep-alive connections, one per caller: what the
// same calls cost without Bollard, measured the same way.
package loadgen
