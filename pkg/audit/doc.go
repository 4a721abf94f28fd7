// Package audit writes Bollard's audit log: one JSON record per agent call,
// allowed or not, written before the reply leaves.
//
// A record names who called, what they asked for, what policy decided and
// what Okta answered. Credential-bearing parameters are never written in
// clear: they are replaced by an HMAC under a per-deployment key, so an
// investigator holding the key can test whether a given value was sent
// without the log ever holding it (the approach of Vault's audit devices).
// Each sink (stdout for the cluster's log pipeline, a size-rotated file)
// keeps its own hash chain: every record carries the hash of the one before
// it, so an edited, deleted or reordered record is caught by Verify. With
// WithCheckpointInterval, each sink also seals its chain head with an HMAC
// every interval and at Close (a checkpoint record), so that VerifyWith can
// tell a file whose last records were cut from one that is complete.
// NewReader reads records back, one bounded line at a time, for the tools
// that look at a log (intent pairing, `policy replay`).
//
// Writing is synchronous because the gateway must not answer a call that
// left no record (fail-closed), yet a stuck sink must never hang a call:
// each sink has one writer goroutine, which batches concurrent records into
// one write(2), and Write returns as soon as one sink has the record, or
// after the write timeout when none could take it. See docs/audit.md for
// the record format and the operator's view.
package audit
