package policytool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// maxSourceBytes bounds what one load reads, as the engine does.
const maxSourceBytes = 256 << 20

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

// source is a policy directory parsed the way the sidecar parses it, plus
// (optionally) its tests.
type source struct {
	dir     string
	modules map[string]*ast.Module // by displayed file name
	tests   map[string]bool        // displayed names of *_test.rego modules
	files   []dataFile
	data    ast.Object // every data file merged, with the catalog
}

// loadSource reads dir: every .rego (with the *_test.rego files when tests
// is set) and every .json, skipping names that start with ".". It returns
// I/O errors as an error and parse or data problems as problems.
func loadSource(dir string, tests bool) (*source, []problem, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("%s is not a directory", dir)
	}
	s := &source{dir: dir, modules: map[string]*ast.Module{}, tests: map[string]bool{}, data: ast.NewObject()}
	var probs []problem
	total := 0
	fsys := os.DirFS(dir)
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		ext := path.Ext(p)
		isTest := strings.HasSuffix(p, "_test.rego")
		if d.IsDir() || (ext != ".rego" && ext != ".json") || (isTest && !tests) {
			return nil
		}
		if st, err := fs.Stat(fsys, p); err != nil || !st.Mode().IsRegular() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if total += len(b); total > maxSourceBytes {
			return fmt.Errorf("policy files exceed %d bytes", maxSourceBytes)
		}
		name := filepath.Join(dir, filepath.FromSlash(p))
		if ext == ".rego" {
			m, err := parseModule(name, b)
			if err != nil {
				probs = append(probs, problemsOf(err, name)...)
				return nil
			}
			s.modules[name] = m
			s.tests[name] = isTest
			return nil
		}
		doc, pr := placeData(name, p, b)
		if pr != nil {
			probs = append(probs, *pr)
			return nil
		}
		s.files = append(s.files, dataFile{name: name, rel: p, raw: b, doc: doc})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", dir, err)
	}
	probs = append(probs, s.mergeData()...)
	if len(s.modules) == 0 && len(probs) == 0 {
		probs = append(probs, problem{file: dir, msg: "no .rego files"})
	}
	return s, probs, nil
}

func parseModule(name string, src []byte) (*ast.Module, error) {
	return ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{
		RegoVersion: ast.RegoV1, ProcessAnnotation: true,
	})
}

// mergeData merges every data file and then the catalog. Policy data may
// not define bollard.catalog: the sidecar refuses such a policy.
func (s *source) mergeData() []problem {
	var probs []problem
	for _, f := range s.files {
		if f.doc.Get(ast.StringTerm("bollard")) != nil {
			if b, ok := f.doc.Get(ast.StringTerm("bollard")).Value.(ast.Object); ok && b.Get(ast.StringTerm("catalog")) != nil {
				probs = append(probs, problem{file: f.name, row: 1,
					msg: "data.bollard.catalog is reserved: Bollard loads the action catalog there"})
				continue
			}
			if b, ok := f.doc.Get(ast.StringTerm("bollard")).Value.(ast.Object); ok && b.Get(ast.StringTerm("rules")) != nil {
				probs = append(probs, problem{file: f.name, row: 1,
					msg: "data.bollard.rules is reserved for the security team's deny rules, which are Rego: data there would never deny"})
				continue
			}
		}
		merged, ok := s.data.Merge(f.doc)
		if !ok {
			probs = append(probs, problem{file: f.name, row: 1, msg: "its data overlaps data from another file"})
			continue
		}
		s.data = merged
	}
	merged, err := decision.WithCatalogData(s.data)
	if err != nil {
		return append(probs, problem{file: s.dir, msg: err.Error()})
	}
	s.data = merged
	return probs
}

// placeData parses a JSON data file and places it as the loader does: a
// file in directory a/b is merged under data.a.b; one at the root must hold
// an object.
func placeData(name, rel string, b []byte) (ast.Object, *problem) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, jsonProblem(name, b, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &problem{file: name, row: lineAt(b, int(dec.InputOffset())), msg: "more than one JSON value"}
	}
	v, err := ast.InterfaceToValue(x)
	if err != nil {
		return nil, &problem{file: name, msg: err.Error()}
	}
	if dir := path.Dir(rel); dir != "." {
		segs := strings.Split(dir, "/")
		for i := len(segs) - 1; i >= 0; i-- {
			v = ast.NewObject(ast.Item(ast.StringTerm(segs[i]), ast.NewTerm(v)))
		}
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return nil, &problem{file: name, row: 1, msg: "a data file at the root must hold a JSON object"}
	}
	return obj, nil
}

func jsonProblem(name string, b []byte, err error) *problem {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &problem{file: name, row: lineAt(b, int(se.Offset)), msg: "invalid JSON: " + se.Error()}
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &problem{file: name, row: lineAt(b, int(te.Offset)), msg: "invalid JSON: " + te.Error()}
	}
	return &problem{file: name, msg: "invalid JSON: " + err.Error()}
}

// lineAt is the 1-based line of byte offset off in b.
func lineAt(b []byte, off int) int {
	off = min(max(off, 0), len(b))
	return bytes.Count(b[:off], []byte{'\n'}) + 1
}

// store returns an in-memory store holding the data.
func (s *source) store() storage.Store { return inmem.NewFromASTObject(s.data) }

// compiler returns the sidecar's compiler (decision.NewCompiler: Rego v1,
// strict, the sidecar's built-ins, data and rules may not overlap), with
// every error reported.
func compiler(ctx context.Context, store storage.Store, txn storage.Transaction) *ast.Compiler {
	return decision.NewCompiler(ctx, store, txn).SetErrorLimit(0)
}
