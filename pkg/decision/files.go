package decision

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// maxSourceBytes bounds what one load reads, so that a stray large file in
// the policy directory fails the load instead of exhausting memory.
const maxSourceBytes = 256 << 20

// policyFile is one file of a policy source, read once: the revision hash and
// the compiled policy come from the same bytes.
type policyFile struct {
	path string
	data []byte
}

// readSource reads the policy files of fsys in path order: *.rego (except
// *_test.rego unless tests is set) and *.json. Names starting with "." are
// skipped, which also skips the "..data" indirection of a mounted
// Kubernetes ConfigMap; symbolic links to files are followed, links to
// directories are not.
func readSource(fsys fs.FS, tests bool) ([]policyFile, error) {
	var files []policyFile
	total := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isPolicyFile(p, tests) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			fi, err := fs.Stat(fsys, p)
			if err != nil {
				return err
			}
			if !fi.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		if total += len(data); total > maxSourceBytes {
			return fmt.Errorf("policy files exceed %d bytes", maxSourceBytes)
		}
		files = append(files, policyFile{path: p, data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read policy files: %w", err)
	}
	return files, nil
}

func isPolicyFile(p string, tests bool) bool {
	switch path.Ext(p) {
	case ".rego":
		return tests || !isTestFile(p)
	case ".json":
		return true
	}
	return false
}

// LoadOption configures LoadPolicies.
type LoadOption func(*loadOptions)

type loadOptions struct {
	tests bool
	dir   string
}

// WithTests also reads the *_test.rego files, which the sidecar leaves out,
// for tools that run or check the tests.
func WithTests() LoadOption {
	return func(o *loadOptions) { o.tests = true }
}

// WithNamesUnder names each file dir joined with its path (in the OS's
// form), as a tool shows it to the user who gave dir; the names are those
// of the modules, so they are also what compile errors and test results
// say. By default a file is named by its path in the file system, as the
// sidecar names it.
func WithNamesUnder(dir string) LoadOption {
	return func(o *loadOptions) { o.dir = dir }
}

// Policies is a policy source read and parsed as the sidecar reads it.
type Policies struct {
	// Modules are the parsed Rego files, by name.
	Modules map[string]*ast.Module
	// Data is every data file merged, with the action catalog at
	// data.bollard.catalog: the data the sidecar compiles the policy
	// against.
	Data ast.Object
	// Files are the files read, in path order.
	Files []PolicyFile
	// Problems are what the sidecar refuses the policy for before compiling
	// it: a *FileError for each file that does not parse or whose data does
	// not load, and problems of the whole (no Rego at all, a rule or data
	// under data.bollard.catalog).
	Problems []error
}

// PolicyFile is one file of a policy.
type PolicyFile struct {
	// Path is its slash-separated path in the file system.
	Path string
	// Name is what the loader calls it: the name of its module, and of its
	// problems (see WithNamesUnder).
	Name    string
	Content []byte
	// Test is set for a *_test.rego file (read only WithTests).
	Test bool
	// Data is a data file's document placed where it is merged: a file in
	// directory a/b under {"a": {"b": ...}}. It is nil for Rego and for a
	// data file that did not load.
	Data ast.Object
}

// Err returns the problems as one error, or nil.
func (p *Policies) Err() error { return errors.Join(p.Problems...) }

// FileError is a problem with one policy file.
type FileError struct {
	// Op is what failed: "parse" (the file is not valid Rego or JSON) or
	// "load" (its data cannot be placed or merged).
	Op   string
	File string
	// Line is the 1-based line the problem is at, 0 when unknown. A parse
	// error of Rego (ast.Errors) carries its own locations.
	Line int
	Err  error
}

func (e *FileError) Error() string { return e.Op + " " + e.File + ": " + e.Err.Error() }

func (e *FileError) Unwrap() error { return e.Err }

// LoadPolicies reads and parses the policy in fsys exactly as the sidecar
// does (which files, where data goes, Rego v1, the size limit, the data
// Bollard reserves, the catalog), for tools that check, test or explain a
// policy outside the sidecar; compile it with NewCompiler. The error is for
// a source that cannot be read; a policy with problems is returned with
// them, so that a tool can report every one.
func LoadPolicies(fsys fs.FS, opts ...LoadOption) (*Policies, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	files, err := readSource(fsys, o.tests)
	if err != nil {
		return nil, err
	}
	name := func(p string) string { return p }
	if o.dir != "" {
		name = func(p string) string { return filepath.Join(o.dir, filepath.FromSlash(p)) }
	}
	p := parsePolicies(files, name)
	data, err := policyData(p.Modules, p.Data)
	if err != nil {
		p.Problems = append(p.Problems, err)
	}
	if data != nil {
		p.Data = data
	}
	return p, nil
}

// parseFiles parses every module and merges every data file, reporting all
// problems at once, for the engine.
func parseFiles(files []policyFile) (map[string]*ast.Module, ast.Object, error) {
	p := parsePolicies(files, func(p string) string { return p })
	if err := p.Err(); err != nil {
		return nil, nil, err
	}
	return p.Modules, p.Data, nil
}

// parsePolicies parses the files (already in path order), places and
// merges their data, and collects every problem.
func parsePolicies(files []policyFile, name func(string) string) *Policies {
	p := &Policies{Modules: map[string]*ast.Module{}, Data: ast.NewObject()}
	for _, f := range files {
		pf := PolicyFile{Path: f.path, Name: name(f.path), Content: f.data, Test: isTestFile(f.path)}
		switch path.Ext(f.path) {
		case ".rego":
			m, err := parseModule(pf.Name, f.data)
			if err != nil {
				p.Problems = append(p.Problems, &FileError{Op: "parse", File: pf.Name, Err: err})
				break
			}
			p.Modules[pf.Name] = m
		case ".json":
			doc, err := dataDocument(pf.Name, f.path, f.data)
			if err != nil {
				p.Problems = append(p.Problems, err)
				break
			}
			merged, ok := p.Data.Merge(doc)
			if !ok {
				p.Problems = append(p.Problems, &FileError{Op: "load", File: pf.Name, Line: 1, Err: errOverlap})
				break
			}
			p.Data, pf.Data = merged, doc
		}
		p.Files = append(p.Files, pf)
	}
	if len(p.Modules) == 0 && len(p.Problems) == 0 {
		p.Problems = append(p.Problems, errors.New("no .rego files"))
	}
	return p
}

var errOverlap = errors.New("its data overlaps data from another file")

// parseModule parses Rego as the sidecar does: Rego v1, with annotations.
func parseModule(name string, src []byte) (*ast.Module, error) {
	return ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{
		RegoVersion: ast.RegoV1, ProcessAnnotation: true,
	})
}

// dataDocument parses a JSON data file and places it where OPA's loader
// (and so `opa test`) would: a file in directory a/b is merged under
// data.a.b, a file at the root must hold an object merged into data. Data
// under data.bollard.catalog or data.bollard.rules is refused.
func dataDocument(name, rel string, b []byte) (ast.Object, *FileError) {
	fail := func(op string, line int, err error) (ast.Object, *FileError) {
		return nil, &FileError{Op: op, File: name, Line: line, Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		line := 0
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			line = lineAt(b, se.Offset)
		}
		return fail("parse", line, fmt.Errorf("invalid JSON: %w", err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail("parse", lineAt(b, dec.InputOffset()), errors.New("more than one JSON value"))
	}
	v, err := ast.InterfaceToValue(x)
	if err != nil {
		return fail("parse", 0, err)
	}
	if dir := path.Dir(rel); dir != "." {
		segs := strings.Split(dir, "/")
		for i := len(segs) - 1; i >= 0; i-- {
			v = ast.NewObject(ast.Item(ast.StringTerm(segs[i]), ast.NewTerm(v)))
		}
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return fail("load", 1, errors.New("a data file at the root must hold a JSON object"))
	}
	if err := reservedData(obj); err != nil {
		return fail("load", 1, err)
	}
	return obj, nil
}

// reservedData refuses one file's data under data.bollard.catalog or
// data.bollard.rules, naming the file (policyData checks the merged data
// of any source).
func reservedData(doc ast.Object) error {
	b, ok := get(doc, keyBollard).(ast.Object)
	switch {
	case !ok:
		return nil
	case b.Get(keyCatalog) != nil:
		return reservedError{ErrCatalogData, "data.bollard.catalog is reserved: Bollard loads the action catalog there"}
	case b.Get(keyRules) != nil:
		return reservedError{ErrRulesData, "data.bollard.rules is reserved for the security team's deny rules, which are Rego: data there would never deny"}
	}
	return nil
}

// reservedError says which file defines reserved data, in words for the
// policy's author; it is ErrCatalogData or ErrRulesData.
type reservedError struct {
	is  error
	msg string
}

func (e reservedError) Error() string { return e.msg }
func (e reservedError) Unwrap() error { return e.is }

// lineAt is the 1-based line of byte offset off in b.
func lineAt(b []byte, off int64) int {
	off = min(max(off, 0), int64(len(b)))
	return bytes.Count(b[:off], []byte{'\n'}) + 1
}
