// Package budget keeps per-agent request budgets: how many calls each agent
// may send to Okta per minute, so that one runaway agent cannot drain the
// org's shared rate limit for everyone else (people included).
//
// A budget is a token bucket that holds a minute's worth of calls and refills
// continuously. Budgets live in memory, per replica; the number of buckets is
// bounded, and idle (full) buckets are the first to go.
package budget
