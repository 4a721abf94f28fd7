// Package decision decides whether an agent's call may go ahead. It embeds
// OPA: the policy (Rego and JSON data) comes from the files shipped in
// policies/, a directory, an OPA bundle file or a bundle server, and is
// compiled once in strict Rego v1 with the action catalog mounted at
// data.bollard.catalog; the query data.bollard.authz.decision is prepared
// once, and every call evaluates it against an input built directly as an
// AST value. Reloads (on a change to the directory or file, or a new bundle
// on the server) read the source again, compile and prepare, and swap the
// prepared query atomically; a policy that does not compile, or a bundle
// whose signature does not verify, never replaces a working one.
//
// Decide never returns an error: an undefined or malformed decision, an
// evaluation error or a timeout denies the call with the reason code
// policy_error, and the underlying error goes to the log only. Explain
// decides the same way and also lists the rules that produced a value, for
// `sidecar policy check`. The input and the decision form a versioned
// contract with policy authors, described in docs/policy-contract.md.
package decision
