// Package loopback is Bollard's one answer to "is this loopback?", for the
// URLs it sends credentials to or takes keys and policy from, and for the
// addresses it listens on.
//
// Only a literal loopback IP counts: 127.0.0.0/8, ::1, or an IPv4-mapped
// ::ffff:127.x.y.z, parsed with net/netip. A name never counts, not even
// "localhost": a name is resolved when it is used, through /etc/hosts,
// nsswitch and DNS, so "http://localhost" or "http://127.attacker.example"
// can lead to another machine, and an org token or a JWKS fetch would cross
// the network in cleartext. Shorthand IPv4 such as "127.1" is not a literal
// to net/netip and some resolvers treat it as a name, so it is refused too.
// Write 127.0.0.1 or [::1].
package loopback
