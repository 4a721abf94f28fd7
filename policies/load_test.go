package policies_test

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/policies"
)

// library is the shipped policy set loaded the way `opa test policies/`
// loads it. The catalog is added under data.bollard.catalog when the store
// is made, as the sidecar adds it.
type library struct {
	modules map[string]*ast.Module
	data    map[string]any
}

// loadLibrary reads policies.FS. tests says whether the *_test.rego files
// are kept (to run them) or left out (as the sidecar leaves them out).
func loadLibrary(tb testing.TB, tests bool) library {
	tb.Helper()
	res, err := loader.NewFileLoader().WithFS(policies.FS).WithRegoVersion(ast.RegoV1).
		Filtered([]string{"."}, func(_ string, info fs.FileInfo, _ int) bool {
			return !tests && strings.HasSuffix(info.Name(), "_test.rego")
		})
	if err != nil {
		tb.Fatalf("load policies: %v", err)
	}
	modules := map[string]*ast.Module{}
	for name, m := range res.Modules {
		modules[name] = m.Parsed
	}
	return library{modules: modules, data: res.Documents}
}

// config returns data.bollard.config, for tests that grow it.
func (l library) config() map[string]any {
	return l.data["bollard"].(map[string]any)["config"].(map[string]any)
}

// compiler is set up as the sidecar sets up its own: strict Rego v1, with
// the builtins the sidecar allows.
func compiler() *ast.Compiler {
	return ast.NewCompiler().WithStrict(true).WithDefaultRegoVersion(ast.RegoV1).WithCapabilities(decision.Capabilities())
}

// store holds the data with the catalog merged in, as AST values, as the
// sidecar holds it.
func (l library) store(tb testing.TB) storage.Store {
	tb.Helper()
	v, err := ast.InterfaceToValue(l.data)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := decision.WithCatalogData(v.(ast.Object))
	if err != nil {
		tb.Fatalf("policy data: %v", err)
	}
	return inmem.NewFromASTObject(data)
}

// compile compiles the modules and returns them with the store.
func (l library) compile(tb testing.TB) (*ast.Compiler, storage.Store) {
	tb.Helper()
	c := compiler()
	if c.Compile(l.modules); c.Failed() {
		tb.Fatalf("compile: %v", c.Errors)
	}
	return c, l.store(tb)
}
