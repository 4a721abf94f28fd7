// Package shape applies the policy obligations that change what an agent
// reads: fields of Okta's answer the agent may not see (for example
// profile.mobilePhone) are removed before the answer leaves the sidecar.
//
// Okta's JSON passes through untouched unless an obligation applies. When
// one does, the answer is decoded and encoded again: numbers keep their exact
// spelling, but an object's members come back sorted by name.
package shape
