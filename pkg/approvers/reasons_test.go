package approvers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/errdocs"
)

// The reasons ApprovalService returns are its contract: every Reason
// constant of this package is returned by some row of the error table, and
// named in approval.proto (as "reason X", where an RPC says when) and in
// docs/approvals.md's error table with its row's code. A new reason that
// is not documented fails here, and so does a documented one that is gone.
func TestReasonsDocumented(t *testing.T) {
	consts := reasonConstants(t)
	if len(consts) == 0 {
		t.Fatal("no Reason constant found in the package")
	}
	codeOf := map[string]string{}
	for _, k := range errorTable {
		if k.reason == "" {
			continue
		}
		if !slices.Contains(consts, k.reason) {
			t.Errorf("row %q returns reason %s, which is not a Reason constant", k.result, k.reason)
		}
		codeOf[k.reason] = errdocs.Code(k.code)
	}

	raw, err := os.ReadFile("../../api/proto/bollard/v1/approval.proto")
	if err != nil {
		t.Fatal(err)
	}
	// Comments are wrapped: "reason" and the name may be a line apart.
	proto := strings.Join(strings.Fields(strings.ReplaceAll(string(raw), "//", " ")), " ")
	documented, err := errdocs.Reasons("../../docs/approvals.md", "| Code | `ErrorInfo.reason` | RPCs | when |", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range consts {
		if _, ok := codeOf[r]; !ok {
			t.Errorf("reason %s: no row of the error table returns it", r)
			continue
		}
		if !regexp.MustCompile(`\breason ` + r + `\b`).MatchString(proto) {
			t.Errorf("reason %s is not named in approval.proto (as \"reason %s\")", r, r)
		}
		if codes, ok := documented[r]; !ok {
			t.Errorf("reason %s is not in docs/approvals.md's error table", r)
		} else if !slices.Equal(codes, []string{codeOf[r]}) {
			t.Errorf("docs/approvals.md gives reason %s the codes %v, the service %s", r, codes, codeOf[r])
		}
	}
	for r := range documented {
		if !slices.Contains(consts, r) {
			t.Errorf("docs/approvals.md's error table has reason %s, which the service never returns", r)
		}
	}
}

// reasonConstants are the values of the package's Reason* constants, read
// from its source: Go cannot list constants at run time.
func reasonConstants(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !strings.HasPrefix(n.Name, "Reason") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Errorf("%s: %s is not a string literal", name, n.Name)
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					out = append(out, v)
				}
			}
		}
	}
	return out
}
