// Package approval keeps the approvals a person gives an agent's risky
// call before it reaches Okta: the two-person rule of issue 17.
//
// Policy decides which calls need one, with the obligation require_approval
// (Requirement, read by ParseRequirement): who may approve (sets of groups
// and users, a person qualifying only when in every set), how many distinct
// people (one or two), why, and for how long. The gateway asks the Store to
// Create a pending approval bound to the exact call (agent, action, a hash
// of the validated parameters); people Vote on it; the agent's call runs
// once, when it Redeems an approved approval with the same binding, and is
// decided again by policy at that moment.
//
// The Store enforces what no policy may loosen: an agent identity never
// approves, nobody approves a request they made, one person votes once, a
// denial by any qualified person is final, silence expires into a denial,
// and an approval is used at most once. It is safe for concurrent use and
// bounded. Every change wakes Changed's watchers.
//
// By default a Store keeps its approvals in this process. WithShared keeps
// them in the store a fleet of sidecars shares (Redis, package state): each
// change is one server-side script that applies the same rules to the
// approval as the store holds it (shared.go, sharedscripts.go), and a
// reader of the store's change stream wakes this Store's watchers for
// changes made through other replicas (sharedwatch.go). Close stops that
// reader.
package approval
