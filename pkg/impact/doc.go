// Package impact counts each agent's destructive calls, so that policy can
// cap the damage a misbehaving agent does in an hour or a day.
//
// Bollard keeps the counts; the policy decides. Before a destructive call is
// decided, Begin returns how many destructive calls the agent sent to Okta in
// the last hour and the last 24 hours, and holds that agent's counter until
// Done: two concurrent calls of one agent cannot both be decided against the
// same count and so overrun a limit together. Done(true) counts the call once
// it is cleared to go to Okta.
//
// Counts live in memory, per replica, in minute buckets for the hour and hour
// buckets for the day. A window may count a little more than its length (up
// to a minute, an hour) but never less: a limit can trip early, not late.
package impact
