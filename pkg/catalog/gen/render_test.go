package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// update rewrites the committed rendered files instead of comparing them:
// go test ./pkg/catalog/gen -update (then buf generate, or run .ci/generate).
var update = flag.Bool("update", false, "rewrite the files rendered from the catalog (.proto files, docs/actions.md)")

// repoRoot is the repository root as seen from this package's directory.
var repoRoot = filepath.Join("..", "..", "..")

// TestRenderedFilesUpToDate fails when a committed .proto file or
// docs/actions.md differs from what the catalog renders, or when a .proto file
// of an area that no longer exists is left behind.
func TestRenderedFilesUpToDate(t *testing.T) {
	files, err := render()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, f := range files {
		name := filepath.Join(repoRoot, filepath.FromSlash(f.Path))
		want[filepath.Base(name)] = true
		if *update {
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(name, f.Content, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s: %v; run .ci/generate", f.Path, err)
			continue
		}
		if !bytes.Equal(got, f.Content) {
			t.Errorf("%s differs from what the catalog renders (first difference at line %d); run .ci/generate or go test ./pkg/catalog/gen -update",
				f.Path, firstDiffLine(got, f.Content))
		}
	}
	stale, err := filepath.Glob(filepath.Join(repoRoot, filepath.FromSlash(typedProtoDir), "*.proto"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range stale {
		if !want[filepath.Base(p)] {
			t.Errorf("%s/%s is not rendered from any catalog area; run .ci/generate to remove it", typedProtoDir, filepath.Base(p))
		}
	}
}

func firstDiffLine(a, b []byte) int {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

func TestRenderDeterministic(t *testing.T) {
	first, err := render()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := render()
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(first) {
			t.Fatalf("rendered %d files, then %d", len(first), len(again))
		}
		for i := range first {
			if first[i].Path != again[i].Path || !bytes.Equal(first[i].Content, again[i].Content) {
				t.Fatalf("%s renders differently from one run to the next", first[i].Path)
			}
		}
	}
}

func TestRenderProtoUnknownArea(t *testing.T) {
	if _, err := renderProto("no_such_area"); err == nil {
		t.Fatal("renderProto(no_such_area) succeeded")
	}
}

func TestProtoFieldName(t *testing.T) {
	tests := []struct{ param, field string }{
		{"q", "q"},
		{"userId", "user_id"},
		{"sendEmail", "send_email"},
		{"includeNonDeleted", "include_non_deleted"},
		{"tokenLifetimeSeconds", "token_lifetime_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.param, func(t *testing.T) {
			if got := protoFieldName(tt.param); got != tt.field {
				t.Errorf("protoFieldName(%q) = %q, want %q", tt.param, got, tt.field)
			}
			if got := protoJSONName(tt.field); got != tt.param {
				t.Errorf("protoJSONName(%q) = %q, want %q", tt.field, got, tt.param)
			}
		})
	}
}

func TestCheckParamName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"userId", true},
		{"q", true},
		{"UserId", false},       // would be user_id, JSON name userId
		{"user_id", false},      // not lowerCamelCase
		{"sortBy2", true},       // digits keep their place
		{"confirmation", false}, // the typed requests' own field
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkParamName(tt.name); (err == nil) != tt.ok {
				t.Errorf("checkParamName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			}
		})
	}
}

// TestRenderDocsCoversCatalog checks that the reference names every action,
// its typed RPC and every parameter.
func TestRenderDocsCoversCatalog(t *testing.T) {
	b, err := renderDocs()
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, a := range catalog.Actions() {
		row := "| `" + a.Name + "` | " + a.Area + " | "
		if strings.Count(doc, row) != 1 {
			t.Errorf("docs: no single table row for %s", a.Name)
		}
		if !strings.Contains(doc, "`"+a.TypedRPC()+"`") {
			t.Errorf("docs: %s's typed RPC %s missing", a.Name, a.TypedRPC())
		}
		for _, p := range a.Params {
			if !strings.Contains(doc, "  - `"+p.Name+"` ("+string(p.In)+", "+string(p.Kind)+", ") {
				t.Errorf("docs: %s parameter %s not described", a.Name, p.Name)
			}
		}
	}
}
