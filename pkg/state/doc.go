// Package state connects a sidecar to the store its fleet shares (Redis,
// or anything that speaks its protocol: Valkey, a managed Redis), from the
// configuration's state section, and keeps track of whether it can be
// reached.
//
// The packages whose state a fleet shares (impact, budget, confirm, the
// forwarder's Okta limits, hooks, approval) take a *Store and keep their keys under
// its prefix; with the memory backend they keep their state in process, as
// one sidecar always did. docs/scaling.md says what is shared and what a
// call costs.
package state
