// Package policytool is the policy author's tool kit behind
// `sidecar policy`: Test, Check, Fmt, Lint, Replay and Data, each a
// function taking its options (cmd/sidecar parses the flags into them).
//
// Each loads policies with the sidecar's own loader
// (decision.LoadPolicies, or the engine itself: Rego v1, strict
// compilation, the same built-ins, the action catalog as data under
// data.bollard.catalog), so that what passes here behaves the same at run
// time. test runs the *_test.rego files with OPA's tester and prints like
// `go test`; check decides one call with pkg/decision and lists the rules
// that contributed; fmt is OPA's formatter; lint adds checks the compiler
// cannot make: every action and area named in the library's data or
// compared with input.action must exist in the catalog; replay re-decides
// the calls of an audit log (read with audit.NewReader) with a candidate
// policy and lists what would change, so a policy change can be reviewed
// before rollout; data writes the catalog as an OPA data file, for plain
// `opa test` and `opa eval`. Exit codes are
// meant for scripts and CI: 0 for success, 1 for a negative result (a
// failing test, a denied call, a lint problem, a changed decision), 2 for
// bad input or a policy that does not load. docs/policies.md is the user's
// guide.
package policytool
