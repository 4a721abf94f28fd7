// Package forward performs an allowed action against the Okta Management API.
//
// A Client turns a catalog.Call (validated, path already escaped) into one
// HTTP request to the org, authenticated with Bollard's own credential, and
// returns Okta's body byte for byte together with the call information agents
// need: status, Okta request id, the three rate-limit headers and the cursor of
// the next page, read from Okta's Link header (never built by hand).
//
// Okta's errors become *Error values that carry the status, the E0000xxx code,
// Okta's summary and causes, and a Kind the gateway maps to a gRPC status. The
// credential never appears in an error, a log line or a span; redirects are not
// followed, so it is never sent to another host.
package forward
