package chart

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestMergeValues checks that the values flags reach the chart as helm's
// would: files first, then --set, --set-string and --set-file in that order
// whatever their order on the line, --set typed, --set-string a string.
func TestMergeValues(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(file, []byte("a: {b: 1, c: from-file}\nlist: [x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "p.rego")
	if err := os.WriteFile(policy, []byte("package p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := mergeValues([]string{
		"--set-file", `files.p\.rego=` + policy,
		"--set", "a.c=from-set",
		"--set-string", "a.s=true",
		"--set=a.n=2",
		"-f", file,
		"--set", "files.p\\.rego=overwritten-by-set-file",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"a":     map[string]any{"b": float64(1), "c": "from-set", "s": "true", "n": int64(2)},
		"list":  []any{"x"},
		"files": map[string]any{"p.rego": "package p\n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mergeValues:\n got %#v\nwant %#v", got, want)
	}

	for _, args := range [][]string{{"--set-json", "a={}"}, {"--set"}, {"-f", filepath.Join(dir, "missing.yaml")}} {
		if _, err := mergeValues(args); err == nil {
			t.Errorf("mergeValues(%q) accepted", args)
		}
	}
}

// TestTemplateNeedsDependencies checks that a chart whose dependency is not
// in charts/ fails to render, as with helm, rather than rendering without it.
func TestTemplateNeedsDependencies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "parent")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "parent"))); err != nil {
		t.Fatal(err)
	}
	_, err := helmTemplate(t, "team", dir, "agents")
	if err == nil || !strings.Contains(err.Error(), "bollard is not in charts/") {
		t.Fatalf("got %v, want an error naming the missing dependency bollard", err)
	}
}
