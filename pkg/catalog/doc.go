// Package catalog is the single source of truth for the Okta actions Bollard
// exposes to agents.
//
// Each Action names one Okta Management API operation: its area, whether it
// reads or manages, the least-privilege OAuth scope Okta requires for it, the
// HTTP method and path template, its parameters, whether it is destructive and
// the event hook it fires. Everything else in Bollard derives from this table:
// the policy input, the request sent to Okta, the ListActions answer, the typed
// per-area gRPC services and docs/actions.md, which pkg/catalog/gen renders
// (the renderers are not linked into the sidecar).
//
// Bind turns the untrusted parameters an agent sends into a Call: every
// parameter is checked against its declaration (unknown parameters are refused,
// not ignored), path parameters are validated and escaped, and the body is
// re-encoded within a size bound. The package imports nothing else of Bollard's
// and does no I/O.
package catalog
