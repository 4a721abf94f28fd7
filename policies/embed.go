package policies

import "embed"

// FS holds the shipped policies (*.rego, including the *_test.rego files
// beside them) and their data (*.json). pkg/decision leaves the tests out of
// the runtime policy.
//
//go:embed *.rego *.json
var FS embed.FS
