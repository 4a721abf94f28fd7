// Package oktasim is an in-memory Okta org served over real HTTP, so that
// Bollard's tests and its dev mode talk to something that behaves like the
// Okta Management API without a network or a real tenant.
//
// The simulator implements every endpoint in Bollard's action catalog (users
// and their lifecycle, groups and memberships, applications and their users,
// sessions, policies and rules, MFA factors and the System Log) with Okta's
// rules rather than a generic CRUD store: a user must be deactivated before a
// DELETE removes it, only an ACTIVE user can be suspended, only an INACTIVE app
// can be deleted, built-in and app groups are read-only, default policies
// cannot be deleted. Responses copy Okta's wire format: JSON shaped like Okta's
// objects (including fields Okta's typed SDKs do not model, so pass-through can
// be checked), Okta's error bodies and codes, cursor pagination with Link
// headers, X-Okta-Request-Id and X-Rate-Limit-* headers and 429s from
// per-endpoint-family buckets. Every change is recorded as a System Log event.
//
// Tests reach it through Handler behind httptest; dev mode uses Serve on a
// loopback address. Ids and timestamps are deterministic given the clock
// (WithClock), the seed data has exported ids (SeedUserAlice, SeedGroupEngineering,
// ...), and InjectFault makes Okta fail, stall or reject on demand. All state
// sits behind one mutex: the simulator favours obvious correctness over
// throughput.
package oktasim
