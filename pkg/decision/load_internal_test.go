package decision

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"

	"github.com/bollard-dev/bollard/policies"
)

// TestDataMatchesOPALoader: the runtime mounts data where OPA's own loader
// (and so `opa test policies/`) does, so Rego tests see the data production sees.
func TestDataMatchesOPALoader(t *testing.T) {
	nested := fstest.MapFS{
		"p.rego":            {Data: []byte("package x\n\ny := 1\n")},
		"top.json":          {Data: []byte(`{"a": {"b": 1}}`)},
		"a/more.json":       {Data: []byte(`{"c": [1, 2.5, "x", null, true]}`)},
		"a/b2/deep/d.json":  {Data: []byte(`{"e": {}}`)},
		"other/values.json": {Data: []byte(`{"f": 10000000000000000000000}`)},
	}
	for name, fsys := range map[string]fs.FS{"shipped": policies.FS, "nested": nested} {
		t.Run(name, func(t *testing.T) {
			files, err := readSource(fsys)
			if err != nil {
				t.Fatal(err)
			}
			_, got, err := parseFiles(files)
			if err != nil {
				t.Fatal(err)
			}
			res, err := loader.NewFileLoader().WithFS(fsys).All([]string{"."})
			if err != nil {
				t.Fatal(err)
			}
			want, err := ast.InterfaceToValue(res.Documents)
			if err != nil {
				t.Fatal(err)
			}
			if got.Compare(want) != 0 {
				t.Errorf("data =\n%v\nOPA loader:\n%v", got, want)
			}
		})
	}
}
