package decision_test

import (
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/bollard-dev/bollard/pkg/decision"
)

func TestLoadPolicies(t *testing.T) {
	fsys := policyFS(
		"p.rego", regoDecision(ok),
		"p_test.rego", "package bollard.authz_test\n\ntest_ok if true\n",
		"sub/d.json", `{"flag": true}`,
	)
	p, err := decision.LoadPolicies(fsys)
	if err != nil || p.Err() != nil {
		t.Fatal(err, p.Err())
	}
	if _, ok := p.Modules["p_test.rego"]; ok || len(p.Modules) != 1 {
		t.Errorf("modules %v: tests are read only WithTests", slices.Collect(maps.Keys(p.Modules)))
	}
	if p.Data.Get(ast.StringTerm("sub")) == nil || p.Data.Get(ast.StringTerm("bollard")) == nil {
		t.Errorf("data %v: want sub.flag and the catalog", p.Data)
	}

	dir := filepath.Join("some", "dir")
	p, err = decision.LoadPolicies(fsys, decision.WithTests(), decision.WithNamesUnder(dir))
	if err != nil || p.Err() != nil {
		t.Fatal(err, p.Err())
	}
	test := filepath.Join(dir, "p_test.rego")
	if m := p.Modules[test]; m == nil || m.Package.Location.File != test {
		t.Errorf("modules %v, want %s named so", slices.Collect(maps.Keys(p.Modules)), test)
	}
	var names []string
	for _, f := range p.Files {
		names = append(names, f.Name)
		if f.Test != strings.HasSuffix(f.Path, "_test.rego") || (f.Data != nil) != strings.HasSuffix(f.Path, ".json") {
			t.Errorf("file %+v", f)
		}
	}
	if want := []string{filepath.Join(dir, "p.rego"), test, filepath.Join(dir, "sub", "d.json")}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v in path order", names, want)
	}
}

// TestLoadPoliciesProblems: every problem is reported, each with its file
// and line where it has one, and the policy is returned with them.
func TestLoadPoliciesProblems(t *testing.T) {
	fsys := fstest.MapFS{
		"p.rego":         {Data: []byte(regoDecision(ok))},
		"broken.rego":    {Data: []byte("package x\n\ny := {\n")},
		"bad.json":       {Data: []byte("{\n  \"a\": 1,\n}\n")},
		"two.json":       {Data: []byte("{}\n\n{}")},
		"list.json":      {Data: []byte(`[1]`)},
		"a.json":         {Data: []byte(`{"x": {"y": 1}}`)},
		"b.json":         {Data: []byte(`{"x": {"y": 2}}`)},
		"catalog.json":   {Data: []byte(`{"bollard": {"catalog": {}}}`)},
		"r/rules.json":   {Data: []byte(`{"x": {"deny": []}}`)},
		"bollard/x.rego": {Data: []byte("package bollard.catalog\n\nx := 1\n")},
	}
	fsys["bollard/rules/d.json"] = fsys["r/rules.json"]
	delete(fsys, "r/rules.json")
	p, err := decision.LoadPolicies(fsys)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		op   string
		line int
		msg  string
		is   error
	}
	wants := map[string]want{
		"bad.json":             {op: "parse", line: 3, msg: "invalid JSON: invalid character '}'"},
		"two.json":             {op: "parse", line: 3, msg: "more than one JSON value"},
		"list.json":            {op: "load", line: 1, msg: "a data file at the root must hold a JSON object"},
		"b.json":               {op: "load", line: 1, msg: "its data overlaps data from another file"},
		"catalog.json":         {op: "load", line: 1, msg: "data.bollard.catalog is reserved", is: decision.ErrCatalogData},
		"bollard/rules/d.json": {op: "load", line: 1, msg: "data.bollard.rules is reserved", is: decision.ErrRulesData},
		"broken.rego":          {op: "parse", msg: "rego_parse_error"},
	}
	var other []error
	for _, e := range p.Problems {
		fe, ok := errors.AsType[*decision.FileError](e)
		if !ok {
			other = append(other, e)
			continue
		}
		w, ok := wants[fe.File]
		if !ok {
			t.Errorf("unexpected problem %v", fe)
			continue
		}
		delete(wants, fe.File)
		if fe.Op != w.op || fe.Line != w.line || !strings.Contains(fe.Err.Error(), w.msg) || (w.is != nil && !errors.Is(fe, w.is)) {
			t.Errorf("%s: %s line %d %q, want %s line %d %q", fe.File, fe.Op, fe.Line, fe.Err, w.op, w.line, w.msg)
		}
	}
	for f := range wants {
		t.Errorf("no problem reported for %s", f)
	}
	// The rule under data.bollard.catalog: refused like the sidecar does.
	if len(other) != 1 || !errors.Is(other[0], decision.ErrCatalogData) || !strings.Contains(other[0].Error(), "bollard/x.rego:3") {
		t.Errorf("problems of the whole: %v", other)
	}
	if p.Modules["p.rego"] == nil || p.Data.Get(ast.StringTerm("x")) == nil {
		t.Error("what loads is returned with the problems")
	}
	if _, err := decision.LoadPolicies(fstest.MapFS{}); err != nil {
		t.Fatalf("an empty source is a problem, not an error: %v", err)
	}
	if p, _ := decision.LoadPolicies(fstest.MapFS{}); p.Err() == nil || !strings.Contains(p.Err().Error(), "no .rego files") {
		t.Errorf("empty source: %v", p.Err())
	}
}
