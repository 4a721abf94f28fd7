// Package budget keeps per-agent request budgets: how many calls each agent
// may send to Okta per minute, so that one runaway agent cannot drain the
// org's shared rate limit for everyone else (people included).
//
// A budget is a bucket that holds a minute's worth of calls and refills
// continuously. Limiter keeps the buckets in memory, per replica; the
// number of buckets is bounded, and idle (full) buckets are the first to
// go. Shared keeps one bucket per agent for the whole fleet in the store
// it shares (pkg/state): a GCRA evaluated in one script on the server, by
// the server's clock, so that replicas together spend the budget once.
// An agent without a budget never touches the store. docs/scaling.md says
// what a call costs and what happens while the store is unreachable.
package budget
