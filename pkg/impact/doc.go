// Package impact counts each agent's destructive calls, so that policy can
// cap the damage a misbehaving agent does in an hour or a day.
//
// Bollard keeps the counts; the policy decides. Before a destructive call is
// decided, Begin (Hold) returns how many destructive calls the agent sent to
// Okta in the last hour and the last 24 hours, and holds that agent until
// Done: two concurrent calls of one agent cannot both be decided against the
// same count and so overrun a limit together. Done(true) counts the call once
// it is cleared to go to Okta.
//
// Counter keeps the counts in memory, per replica, in minute buckets for the
// hour and hour buckets for the day. A window may count a little more than
// its length (up to a minute, an hour) but never less: a limit can trip
// early, not late. Shared keeps the same buckets in the store a fleet shares
// (pkg/state), and holds an agent for the whole fleet with a lease, so that
// N replicas never exceed a limit between them; a call it cannot hold or
// count there is refused (state.ErrUnavailable), never counted alone.
// Both are Trackers, which is what the gateway uses.
package impact
