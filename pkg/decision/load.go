package decision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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

var decisionRef = ast.MustParseRef(Query)

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
	data, err := policyData(src.modules, src.data)
	if err != nil {
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

// policyData is the data a policy is compiled against: its own, which may
// define neither data.bollard.catalog nor data.bollard.rules, with the
// action catalog at data.bollard.catalog. The engine and LoadPolicies both
// call it, whatever the source.
func policyData(modules map[string]*ast.Module, data ast.Object) (ast.Object, error) {
	err := checkNoCatalogRules(modules)
	merged, err2 := WithCatalogData(data)
	return merged, errors.Join(err, err2, checkNoRulesData(data))
}

// keepAST hands results back as AST terms: the decision is read from the AST
// directly, without building Go maps first.
func keepAST(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }
