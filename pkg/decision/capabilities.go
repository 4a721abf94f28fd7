package decision

import (
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
)

// forbiddenBuiltins reach outside the decision: the network, or the process
// environment (where Bollard's own Okta token may live). A policy that calls
// one is rejected when it is loaded, so a policy cannot leak what it sees or
// hang on a remote call, whoever wrote it.
var forbiddenBuiltins = []string{"http.send", "net.lookup_ip_addr", "opa.runtime"}

// Capabilities is what the policy compiler accepts: this OPA's builtins
// without the forbidden ones. Tools that compile policies outside the
// sidecar (`sidecar policy test` and `lint`) use it so that they accept exactly
// what the sidecar does.
func Capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool {
		return slices.Contains(forbiddenBuiltins, b.Name)
	})
	return caps
}
