package main

import (
	"fmt"
	"path"
	"strings"
	"unicode"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// Where the files rendered from the catalog live, relative to the repository
// root (slash-separated).
const (
	// typedProtoDir holds one rendered .proto file per area, and the Go code
	// buf generates beside them.
	typedProtoDir = "api/proto/bollard/okta/v1"
	// docsFile is the rendered reference of every action.
	docsFile = "docs/actions.md"
)

// generatedHeader starts every rendered file. The first line follows the Go
// convention (https://go.dev/s/generatedcode) so tools treat the files as
// generated. protoc-gen-go copies it to the top of the .pb.go files too, where
// it still says where the source of truth is.
var generatedHeader = []string{
	"Code generated from pkg/catalog by go run ./pkg/catalog/gen. DO NOT EDIT.",
	"To change it, edit the catalog (pkg/catalog/actions.go) and run .ci/generate.",
}

// renderedFile is one file derived from the catalog.
type renderedFile struct {
	// Path is relative to the repository root, slash-separated.
	Path    string
	Content []byte
}

// render renders every file derived from the catalog: the typed service of
// each area (see renderProto) and the action reference (see renderDocs), in a
// stable order. Writing them is left to run (main.go), so that the renderers
// stay free of I/O and the tests compare their output directly.
func render() ([]renderedFile, error) {
	var out []renderedFile
	for _, ar := range catalog.Areas() {
		b, err := renderProto(ar.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, renderedFile{Path: protoFile(ar.Name), Content: b})
	}
	b, err := renderDocs()
	if err != nil {
		return nil, err
	}
	out = append(out, renderedFile{Path: docsFile, Content: b})
	return out, nil
}

// protoFile returns the path of an area's typed .proto file relative to the
// repository root.
func protoFile(area string) string {
	return path.Join(typedProtoDir, area+".proto")
}

// sentence turns a catalog description into a sentence: first letter upper
// case, ending with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	s = string(r)
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// kindPhrase states the constraints on a parameter's value in a few words,
// for comments and docs; the kind's meaning is left to the description.
func kindPhrase(p catalog.Param) (string, error) {
	maxLen := ""
	if p.MaxLen > 0 {
		maxLen = fmt.Sprintf("at most %d bytes", p.MaxLen)
	}
	switch p.Kind {
	case catalog.KindID:
		return join(", ", "letters, digits, '-' and '_'", maxLen), nil
	case catalog.KindUserRef, catalog.KindString, catalog.KindCursor:
		return maxLen, nil
	case catalog.KindInt:
		return fmt.Sprintf("an integer from %d to %d", p.Min, p.Max), nil
	case catalog.KindBool:
		return "", nil
	case catalog.KindEnum:
		if len(p.Enum) == 0 {
			return "", fmt.Errorf("enum parameter %s lists no values", p.Name)
		}
		return "one of " + quoteList(p.Enum), nil
	case catalog.KindTime:
		if strings.Contains(p.Description, "RFC 3339") {
			return "", nil
		}
		return "an RFC 3339 timestamp", nil
	case catalog.KindObject:
		return "a JSON object", nil
	default:
		return "", fmt.Errorf("parameter %s has unknown kind %q", p.Name, p.Kind)
	}
}

func join(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

func quoteList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = `"` + v + `"`
	}
	return strings.Join(q, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
