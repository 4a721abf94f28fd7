package catalog

import (
	"fmt"
	"path"
	"strings"
	"unicode"
)

// Where the files rendered from the catalog live, relative to the repository
// root (slash-separated).
const (
	// TypedProtoDir holds one rendered .proto file per area, and the Go code
	// buf generates beside them.
	TypedProtoDir = "api/proto/bollard/okta/v1"
	// DocsFile is the rendered reference of every action.
	DocsFile = "docs/actions.md"
)

// generatedHeader starts every rendered file. The first line follows the Go
// convention (https://go.dev/s/generatedcode) so tools treat the files as
// generated. protoc-gen-go copies it to the top of the .pb.go files too, where
// it still says where the source of truth is.
var generatedHeader = []string{
	"Code generated from pkg/catalog by go run ./pkg/catalog/gen. DO NOT EDIT.",
	"To change it, edit the catalog (pkg/catalog/actions.go) and run .ci/generate.",
}

// RenderedFile is one file derived from the catalog.
type RenderedFile struct {
	// Path is relative to the repository root, slash-separated.
	Path    string
	Content []byte
}

// Render renders every file derived from the catalog: the typed service of
// each area (see RenderProto) and the action reference (see RenderDocs), in a
// stable order. Writing them is left to the caller (pkg/catalog/gen), so the
// package stays free of I/O.
func Render() ([]RenderedFile, error) {
	var out []RenderedFile
	for _, ar := range areas {
		b, err := RenderProto(ar.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, RenderedFile{Path: ProtoFile(ar.Name), Content: b})
	}
	b, err := RenderDocs()
	if err != nil {
		return nil, err
	}
	out = append(out, RenderedFile{Path: DocsFile, Content: b})
	return out, nil
}

// ProtoFile returns the path of an area's typed .proto file relative to the
// repository root.
func ProtoFile(area string) string {
	return path.Join(TypedProtoDir, area+".proto")
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
func kindPhrase(p Param) (string, error) {
	maxLen := ""
	if p.MaxLen > 0 {
		maxLen = fmt.Sprintf("at most %d bytes", p.MaxLen)
	}
	switch p.Kind {
	case KindID:
		return join(", ", "letters, digits, '-' and '_'", maxLen), nil
	case KindUserRef, KindString, KindCursor:
		return maxLen, nil
	case KindInt:
		return fmt.Sprintf("an integer from %d to %d", p.Min, p.Max), nil
	case KindBool:
		return "", nil
	case KindEnum:
		if len(p.Enum) == 0 {
			return "", fmt.Errorf("enum parameter %s lists no values", p.Name)
		}
		return "one of " + quoteList(p.Enum), nil
	case KindTime:
		if strings.Contains(p.Description, "RFC 3339") {
			return "", nil
		}
		return "an RFC 3339 timestamp", nil
	case KindObject:
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
