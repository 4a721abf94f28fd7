package decision

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/util"
)

// ErrNoDecision is returned when a policy compiles but does not define
// data.bollard.authz.decision.
var ErrNoDecision = errors.New("policy does not define " + Query)

// maxSourceBytes bounds what one load reads, so that a stray large file in
// the policy directory fails the load instead of exhausting memory.
const maxSourceBytes = 256 << 20

var decisionRef = ast.MustParseRef(Query)

// policyFile is one file of a policy source, read once: the revision hash and
// the compiled policy come from the same bytes.
type policyFile struct {
	path string
	data []byte
}

// readSource reads the policy files of fsys in path order: *.rego except
// *_test.rego, and *.json. Names starting with "." are skipped, which also
// skips the "..data" indirection of a mounted Kubernetes ConfigMap; symbolic
// links to files are followed, links to directories are not.
func readSource(fsys fs.FS) ([]policyFile, error) {
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
		if d.IsDir() || !isPolicyFile(p) {
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

func isPolicyFile(p string) bool {
	switch path.Ext(p) {
	case ".rego":
		return !strings.HasSuffix(p, "_test.rego")
	case ".json":
		return true
	}
	return false
}

// revisionOf hashes the paths and contents of the files (already in path
// order). Any change to the active policy or data changes the revision.
func revisionOf(files []policyFile) string {
	h := sha256.New()
	for _, f := range files {
		h.Write([]byte(f.path))
		h.Write([]byte{0})
		h.Write([]byte(strconv.Itoa(len(f.data))))
		h.Write([]byte{0})
		h.Write(f.data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// policySet is one compiled policy, ready to evaluate. It is immutable and
// shared by concurrent Decide calls (the standing memo is safe for them).
type policySet struct {
	revision string
	digest   string // the source content it was compiled from
	// query is the call decision composed with the team's deny rules
	// (data.bollard.rules): see composedQuery.
	query rego.PreparedEvalQuery
	// events decides which agent may see an Okta event, composed the same
	// way; nil when the policy defines no data.bollard.events.decision
	// (then none may).
	events *rego.PreparedEvalQuery
	// standing evaluates data.bollard.authz.standing; nil when the policy
	// does not define it.
	standing *rego.PreparedEvalQuery
	memo     *standingMemo
	// rules counts the team's deny sets (data.bollard.rules.**.deny).
	rules int
	// warnings are the rules CheckRules flagged without refusing them.
	warnings []RuleProblem
	files    int
}

// compile parses, compiles (strict Rego v1) and prepares a snapshot, with
// the action catalog mounted at data.bollard.catalog.
func compile(ctx context.Context, snap snapshot) (*policySet, error) {
	src, err := snap.parse()
	if err != nil {
		return nil, err
	}
	err = checkNoCatalogRules(src.modules)
	data, err2 := WithCatalogData(src.data)
	if err = errors.Join(err, err2, checkNoRulesData(src.data)); err != nil {
		return nil, fmt.Errorf("revision %s: %w", src.revision, err)
	}
	p, err := compileParsed(ctx, src.modules, data)
	if err != nil {
		return nil, fmt.Errorf("revision %s: %w", src.revision, err)
	}
	p.revision, p.digest, p.files = src.revision, snap.digest, src.files
	return p, nil
}

// compileParsed compiles the modules once, refuses rules that could not
// take part in a decision (CheckRules), and prepares the call decision, the
// event decision and the standing rule (when the policy has them) against
// that compiler.
func compileParsed(ctx context.Context, modules map[string]*ast.Module, data ast.Object) (*policySet, error) {
	store := inmem.NewFromASTObject(data)
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, fmt.Errorf("open data store: %w", err)
	}
	defer store.Abort(ctx, txn)
	compiler := NewCompiler(ctx, store, txn)
	if compiler.Compile(modules); compiler.Failed() {
		return nil, fmt.Errorf("compile: %w", compiler.Errors)
	}
	if len(compiler.GetRules(decisionRef)) == 0 {
		return nil, ErrNoDecision
	}
	probs := CheckRules(compiler)
	if err := refused(probs); err != nil {
		return nil, err
	}
	prepare := func(query string) (rego.PreparedEvalQuery, error) {
		pq, err := rego.New(
			rego.Query(query),
			rego.Compiler(compiler),
			rego.Store(store),
			rego.GenerateJSON(keepAST),
		).PrepareForEval(ctx)
		if err != nil {
			return rego.PreparedEvalQuery{}, fmt.Errorf("prepare %s: %w", query, err)
		}
		return pq, nil
	}
	deny, _ := customDenyRules(compiler)
	paths := util.KeysSorted(deny)
	p := &policySet{rules: len(paths), memo: newStandingMemo(standingMemoSize), warnings: probs} // none is refused by now
	if p.query, err = prepare(composedQuery(Query, paths)); err != nil {
		return nil, err
	}
	if len(compiler.GetRules(eventDecisionRef)) > 0 {
		events, err := prepare(composedQuery(EventQuery, paths))
		if err != nil {
			return nil, err
		}
		p.events = &events
	}
	if len(compiler.GetRules(standingRef)) > 0 {
		st, err := prepare(StandingQuery)
		if err != nil {
			return nil, err
		}
		p.standing = &st
	}
	return p, nil
}

// NewCompiler returns a compiler with the sidecar's settings: strict Rego
// v1, the sidecar's built-ins, data and rules that may not overlap, and the
// parsed modules kept (CheckRules compares them with the shipped library).
// Tools that compile policies outside the sidecar use it too.
func NewCompiler(ctx context.Context, store storage.Store, txn storage.Transaction) *ast.Compiler {
	return ast.NewCompiler().
		WithStrict(true).
		WithCapabilities(Capabilities()).
		WithDefaultRegoVersion(ast.RegoV1).
		WithPathConflictsCheck(storage.NonEmpty(ctx, store, txn)).
		WithKeepModules(true)
}

// composedQuery is the query for a decision rule with the team's deny sets
// beside it: {"decision": <rule>, "rules": [<set>, ...]}. Any element of a
// set denies the call (readComposed). Without deny sets it is the rule
// alone, at no extra cost.
func composedQuery(rule string, denyPaths []string) string {
	if len(denyPaths) == 0 {
		return rule
	}
	return `{"decision": ` + rule + `, "rules": [` + strings.Join(denyPaths, ", ") + `]}`
}

// parseFiles parses every module and merges every data file, reporting all
// problems at once.
func parseFiles(files []policyFile) (map[string]*ast.Module, ast.Object, error) {
	modules := map[string]*ast.Module{}
	data := ast.NewObject()
	var errs []error
	for _, f := range files {
		switch path.Ext(f.path) {
		case ".rego":
			m, err := ast.ParseModuleWithOpts(f.path, string(f.data), ast.ParserOptions{
				RegoVersion: ast.RegoV1, ProcessAnnotation: true,
			})
			if err != nil {
				errs = append(errs, fmt.Errorf("parse %s: %w", f.path, err))
				continue
			}
			modules[f.path] = m
		case ".json":
			doc, err := dataDocument(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			merged, ok := data.Merge(doc)
			if !ok {
				errs = append(errs, fmt.Errorf("data in %s overlaps data from another file", f.path))
				continue
			}
			data = merged
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if len(modules) == 0 {
		return nil, nil, errors.New("no .rego files")
	}
	return modules, data, nil
}

// keepAST hands results back as AST terms: the decision is read from the AST
// directly, without building Go maps first.
func keepAST(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

// dataDocument parses a JSON data file and places it where OPA's loader
// (and so `opa test`) would: a file in directory a/b is merged under
// data.a.b, a file at the root must hold an object merged into data.
func dataDocument(f policyFile) (ast.Object, error) {
	dec := json.NewDecoder(bytes.NewReader(f.data))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("parse %s: %w", f.path, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse %s: more than one JSON value", f.path)
	}
	v, err := ast.InterfaceToValue(x)
	if err != nil {
		return nil, fmt.Errorf("convert %s: %w", f.path, err)
	}
	dir := path.Dir(f.path)
	if dir != "." {
		segs := strings.Split(dir, "/")
		for i := len(segs) - 1; i >= 0; i-- {
			v = ast.NewObject(ast.Item(ast.StringTerm(segs[i]), ast.NewTerm(v)))
		}
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("%s: a data file at the root must hold a JSON object", f.path)
	}
	return obj, nil
}
