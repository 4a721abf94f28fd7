// Package decision decides whether an agent's call may go ahead. It embeds
// OPA: the policy (Rego and JSON data, by default the files shipped in
// policies/) is compiled once in strict Rego v1, the query
// data.bollard.authz.decision is prepared once, and every call evaluates it
// against an input built directly as an AST value. Reloads re-read the
// source, compile and prepare again, and swap the prepared query atomically;
// a policy that does not compile never replaces a working one.
//
// Decide never returns an error: an undefined or malformed decision, an
// evaluation error or a timeout denies the call with the reason code
// policy_error, and the underlying error goes to the log only. The input and
// the decision form a versioned contract with policy authors, described in
// docs/policy-contract.md.
package decision
