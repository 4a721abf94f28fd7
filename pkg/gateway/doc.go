// Package gateway is Bollard's gRPC front: the bollard.v1.GatewayService and
// the typed per-area services of bollard.okta.v1, all ending in one pipeline.
//
// The pipeline (pipeline.go) reads top to bottom as the architecture draws it:
// identity, catalog, decision, confirmation, forward, record. Each step is a
// call into its own package; this package owns only the order of the steps
// and the mapping of their errors to gRPC statuses with google.rpc details.
// At the boundary the full error is logged and the caller gets a clean status:
// no internal error text ever reaches an agent.
//
// The typed services are not hand-written: their gRPC service descriptions
// are built at start from the generated protobuf descriptors and the catalog,
// and every method converts its request into catalog parameters and runs the
// same pipeline as Execute.
package gateway
