// Package forward performs an allowed action against the Okta Management API.
//
// A Client turns a catalog.Call (validated, path already escaped) into one
// HTTP request to the org, authenticated with Bollard's own credential, and
// returns Okta's body byte for byte together with the call information agents
// need: status, Okta request id, the three rate-limit headers and the cursor of
// the next page, read from Okta's Link header (never built by hand).
//
// Bollard's credential is an SSWS API token or an OAuth 2.0 service app
// authenticating with Private Key JWT (oauth.go): each call then uses an
// access token carrying only the scope its action needs, one cached token
// per scope, fetched once for all concurrent callers and refreshed before it
// expires, optionally DPoP-bound. okta-sdk-golang's authorizers are not used;
// oktasdk_test.go pins down why.
//
// Okta's errors become *Error values that carry the status, the E0000xxx code,
// Okta's summary and causes, and a Kind the gateway maps to a gRPC status. The
// credential never appears in an error, a log line or a span; redirects are not
// followed, so it is never sent to another host.
package forward
