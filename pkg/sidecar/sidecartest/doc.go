// Package sidecartest starts a whole Bollard in dev mode for tests in other
// packages, the way net/http/httptest starts a server: on free loopback
// ports, stopped when the test ends.
package sidecartest
