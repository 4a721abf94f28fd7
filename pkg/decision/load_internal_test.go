package decision

import (
	"io/fs"
	"path"
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
			files, err := readSource(fsys, false)
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

// TestLoadPoliciesIsTheEnginesLoader: what tools load with LoadPolicies is
// what the engine compiles (the same modules, and the same data with the
// catalog), so `policy test` and `policy lint` cannot drift from the
// sidecar.
func TestLoadPoliciesIsTheEnginesLoader(t *testing.T) {
	nested := fstest.MapFS{
		"p.rego":              {Data: []byte("package x\n\ny := 1\n")},
		"p_test.rego":         {Data: []byte("package x_test\n\ntest_y if data.x.y == 1\n")},
		"top.json":            {Data: []byte(`{"a": {"b": 1}}`)},
		"a/more.json":         {Data: []byte(`{"c": [1, 2.5, "x", null, true]}`)},
		".hidden/broken.json": {Data: []byte(`{`)},
		"README.md":           {Data: []byte("# notes")},
	}
	for name, fsys := range map[string]fs.FS{"shipped": policies.FS, "nested": nested} {
		t.Run(name, func(t *testing.T) {
			snap, err := fsSource{fsys: fsys}.read(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			src, err := snap.parse()
			if err != nil {
				t.Fatal(err)
			}
			wantData, err := policyData(src.modules, src.data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := LoadPolicies(fsys)
			if err != nil || got.Err() != nil {
				t.Fatal(err, got.Err())
			}
			if got.Data.Compare(wantData) != 0 {
				t.Errorf("data differs from the engine's")
			}
			if len(got.Modules) != len(src.modules) {
				t.Errorf("%d modules, the engine has %d", len(got.Modules), len(src.modules))
			}
			for name, m := range src.modules {
				if !m.Equal(got.Modules[name]) {
					t.Errorf("module %s differs from the engine's", name)
				}
			}
			// With the tests: the same policy, and the tests beside it.
			withTests, err := LoadPolicies(fsys, WithTests())
			if err != nil || withTests.Err() != nil {
				t.Fatal(err, withTests.Err())
			}
			if withTests.Data.Compare(wantData) != 0 {
				t.Errorf("data with tests differs from the engine's")
			}
			for _, f := range withTests.Files {
				m, ok := withTests.Modules[f.Name]
				switch {
				case f.Test && !ok:
					t.Errorf("test %s not loaded", f.Name)
				case !f.Test && path.Ext(f.Path) == ".rego" && !m.Equal(src.modules[f.Name]):
					t.Errorf("module %s differs with tests", f.Name)
				}
			}
		})
	}
}
