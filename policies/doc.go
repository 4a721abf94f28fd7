// Package policies holds the Rego policy library and sample data that ship
// with Bollard.
//
// The files are plain OPA: they run under `go test` and `sidecar policy
// test` (and `opa test` given the catalog as data), and pkg/decision embeds
// them (through FS) as the default policy when no policy directory or
// bundle is configured. package bollard.authz defines the entry point
// data.bollard.authz.decision; bollard.grants, bollard.business_hours,
// bollard.protected, bollard.impact_limits, bollard.read_shaping,
// bollard.confirmation and bollard.approval each own one rule, and their settings live in the
// JSON file beside them, under data.bollard.config. The rules read the
// action catalog the sidecar loads under data.bollard.catalog.
// docs/policies.md describes each rule; docs/policy-contract.md the input
// and the decision they exchange with the sidecar.
package policies
