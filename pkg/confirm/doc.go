// Package confirm issues and redeems confirmation tokens.
//
// When a decision carries the require_confirmation obligation, Bollard does
// not execute the call: it answers with a token bound to the agent, the action
// and a hash of the exact validated parameters. Sending the same request again
// with that token executes it. Tokens are single-use (any attempt to redeem one
// consumes it, so a token cannot be probed with variations), expire after a few
// minutes, and are kept only as SHA-256 hashes in a bounded in-memory store:
// a replica restart forgets pending confirmations, which fails closed.
package confirm
