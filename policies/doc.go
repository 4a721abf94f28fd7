// Package policies holds the Rego policies and data that ship with Bollard.
//
// The files are plain OPA: they run under `opa test policies/` as well as
// under `go test`, and pkg/decision embeds them (through FS) as the default
// policy when no policy directory is configured. package bollard.authz
// defines the entry point data.bollard.authz.decision; the helper packages
// bollard.grants, bollard.business_hours and bollard.confirmation each own
// one rule, and their tunables live in the JSON files beside them, under
// data.bollard.config. docs/policy-contract.md describes the input and the
// decision they exchange with the sidecar.
package policies
