package decision

import (
	"errors"
	"fmt"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// ErrCatalogData is returned when a policy's own data or rules define
// data.bollard.catalog, which Bollard fills from its action catalog.
var ErrCatalogData = errors.New("policy must not define data.bollard.catalog: Bollard provides it from its action catalog")

var (
	keyBollard = ast.StringTerm("bollard")
	keyCatalog = ast.StringTerm("catalog")
)

// catalogData is {"bollard": {"catalog": catalog.PolicyData()}}, built once:
// the catalog is fixed at build time, so every policy of this process shares
// one immutable value. It is not part of the revision, which hashes only the
// policy source: the catalog is a function of the binary.
var catalogData = sync.OnceValue(func() ast.Object {
	v, err := ast.InterfaceToValue(catalog.PolicyData())
	if err != nil {
		panic(fmt.Sprintf("catalog policy data: %v", err)) // plain strings, booleans and lists: cannot fail
	}
	return ast.NewObject(ast.Item(keyBollard, ast.ObjectTerm(ast.Item(keyCatalog, ast.NewTerm(v)))))
})

// CatalogData returns the document the sidecar merges into every policy's
// data: {"bollard": {"catalog": ...}}, the action catalog at
// data.bollard.catalog. Written out as a JSON data file beside the policy
// directory, it gives plain OPA (opa test, opa eval) the data the sidecar's
// policies see.
func CatalogData() ast.Object { return catalogData().Copy() }

var catalogRef = ast.MustParseRef("data.bollard.catalog")

// checkNoCatalogRules refuses rules under data.bollard.catalog: OPA would
// merge them with the catalog, and a policy could then change what the
// catalog says.
func checkNoCatalogRules(modules map[string]*ast.Module) error {
	for name, m := range modules {
		for _, r := range m.Rules {
			if m.Package.Path.Extend(r.Head.Ref()).HasPrefix(catalogRef) {
				return fmt.Errorf("%s:%d: %w", name, r.Location.Row, ErrCatalogData)
			}
		}
	}
	return nil
}

// WithCatalogData adds the catalog under data.bollard.catalog to a policy's
// data, as the sidecar does; it fails with ErrCatalogData when the data
// already defines it. For tools that load policies outside the sidecar.
func WithCatalogData(data ast.Object) (ast.Object, error) {
	if b, ok := get(data, keyBollard).(ast.Object); ok && b.Get(keyCatalog) != nil {
		return nil, ErrCatalogData
	}
	merged, ok := data.Merge(catalogData())
	if !ok {
		// Only a non-object data.bollard can collide with the catalog.
		return nil, fmt.Errorf("data.bollard is not an object: %w", ErrCatalogData)
	}
	return merged, nil
}
