package policytool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// problem is one finding, printed like a compiler's: "file:row: message".
type problem struct {
	file   string
	row    int
	msg    string
	detail string // more lines, such as the source line of a parse error
	// warning is advice: printed, but it does not fail lint or test.
	warning bool
	// refused is a problem the sidecar refuses to load the policy for.
	refused bool
}

func (p problem) String() string {
	msg := p.msg
	if p.warning {
		msg = "warning: " + msg
	}
	s := p.file + ": " + msg
	if p.row > 0 {
		s = fmt.Sprintf("%s:%d: %s", p.file, p.row, msg)
	}
	if p.detail != "" {
		s += "\n" + p.detail
	}
	return s
}

// problemsOf turns parse and compile errors into problems.
func problemsOf(err error, file string) []problem {
	var astErrs ast.Errors
	if errors.As(err, &astErrs) {
		out := make([]problem, 0, len(astErrs))
		for _, e := range astErrs {
			out = append(out, astProblem(e, file))
		}
		return out
	}
	var astErr *ast.Error
	if errors.As(err, &astErr) {
		return []problem{astProblem(astErr, file)}
	}
	return []problem{{file: file, msg: err.Error()}}
}

func astProblem(e *ast.Error, file string) problem {
	p := problem{file: file, msg: e.Code + ": " + e.Message}
	if e.Details != nil {
		var lines []string
		for _, l := range e.Details.Lines() {
			lines = append(lines, "\t"+l)
		}
		p.detail = strings.Join(lines, "\n")
	}
	if e.Location != nil {
		if e.Location.File != "" {
			p.file = e.Location.File
		}
		p.row = e.Location.Row
	}
	return p
}

func sortProblems(ps []problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].file != ps[j].file {
			return ps[i].file < ps[j].file
		}
		return ps[i].row < ps[j].row
	})
}

// dataFile is one JSON data file, kept for lint, which reports problems at
// the line of the offending key.
type dataFile struct {
	name string // as displayed: dir joined with the path in it
	rel  string // slash path inside the policy directory
	raw  []byte
	doc  ast.Object // placed where the loader puts it
}

// source is a policy directory loaded by the sidecar's loader
// (decision.LoadPolicies), plus (optionally) its tests.
type source struct {
	dir     string
	modules map[string]*ast.Module // by displayed file name
	tests   map[string]bool        // displayed names of *_test.rego modules
	files   []dataFile             // the data files that loaded
	data    ast.Object             // every data file merged, with the catalog
}

// loadSource reads dir with decision.LoadPolicies: every .rego (with the
// *_test.rego files when tests is set) and every .json, named under dir.
// It returns I/O errors as an error and the loader's problems as problems.
func loadSource(dir string, tests bool) (*source, []problem, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("%s is not a directory", dir)
	}
	opts := []decision.LoadOption{decision.WithNamesUnder(dir)}
	if tests {
		opts = append(opts, decision.WithTests())
	}
	pol, err := decision.LoadPolicies(os.DirFS(dir), opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", dir, err)
	}
	s := &source{dir: dir, modules: pol.Modules, tests: map[string]bool{}, data: pol.Data}
	for _, f := range pol.Files {
		switch {
		case f.Test:
			s.tests[f.Name] = true
		case f.Data != nil:
			s.files = append(s.files, dataFile{name: f.Name, rel: f.Path, raw: f.Content, doc: f.Data})
		}
	}
	var probs []problem
	for _, err := range pol.Problems {
		probs = append(probs, loadProblems(err, dir)...)
	}
	return s, probs, nil
}

// loadProblems turns one of the loader's problems into problems: a file's
// at its line, Rego parse errors at theirs, the others at the directory.
func loadProblems(err error, dir string) []problem {
	fe, ok := errors.AsType[*decision.FileError](err)
	if !ok {
		return []problem{{file: dir, msg: err.Error()}}
	}
	if _, ok := errors.AsType[ast.Errors](fe.Err); ok {
		return problemsOf(fe.Err, fe.File)
	}
	return []problem{{file: fe.File, row: fe.Line, msg: fe.Err.Error()}}
}

// store returns an in-memory store holding the data.
func (s *source) store() storage.Store { return inmem.NewFromASTObject(s.data) }

// compiler returns the sidecar's compiler (decision.NewCompiler: Rego v1,
// strict, the sidecar's built-ins, data and rules may not overlap), with
// every error reported.
func compiler(ctx context.Context, store storage.Store, txn storage.Transaction) *ast.Compiler {
	return decision.NewCompiler(ctx, store, txn).SetErrorLimit(0)
}
