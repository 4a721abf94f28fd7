// Package impact counts each agent's destructive calls, so that policy can
// cap the damage a misbehaving agent does in an hour or a day.
//
// Bollard keeps the counts; the policy decides. Before a destructive call is
// decided, Hold returns how many destructive calls the agent sent to Okta in
// the last hour and the last 24 hours, and holds that agent in the process
// until the call is counted or released: two concurrent calls of one agent
// are decided one after the other, never against the same count. Count
// counts the call once it is cleared to go to Okta.
//
// Counter keeps the counts in memory, per replica, in minute buckets for the
// hour and hour buckets for the day. A window may count a little more than
// its length (up to a minute, an hour) but never less: a limit can trip
// early, not late.
//
// Shared keeps the same buckets in the store a fleet shares (pkg/state).
// A call is decided against the replica's view of them (no round trip);
// Count counts it in one script only if the store's counts are still the
// ones decided against, and otherwise answers ErrCountsMoved with the
// store's, for the call to be decided again. The decision is a function of
// the counts, so every call counted was decided against the fleet's exact
// counts, and N replicas never exceed a limit between them, with nothing
// locked in the store. A call it cannot count there is refused
// (state.ErrUnavailable), never counted alone. Its holds can also spend the
// agent's budget in the same script (ChargingHold). Both are Trackers,
// which is what the gateway uses.
package impact
