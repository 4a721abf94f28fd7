package policies_test

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/bollard-dev/bollard/policies"
)

// TestRego runs every test_ rule in the *_test.rego files, loaded the way
// `opa test policies/` loads them, with the catalog under
// data.bollard.catalog and compiled in strict mode with the sidecar's
// builtins, as the sidecar and `sidecar policy test` load them. It fails on
// any failing or erroring test.
func TestRego(t *testing.T) {
	ctx := t.Context()
	lib := loadLibrary(t, true)
	store := lib.store(t)
	txn := storage.NewTransactionOrDie(ctx, store)
	defer store.Abort(ctx, txn)

	// The exhaustive tests (every action, agent, time, stage and target)
	// take two to three seconds each, about twenty under the race detector:
	// far beyond OPA's 5s default, so the bound is generous enough for a
	// busy CI machine.
	ch, err := tester.NewRunner().
		SetTimeout(3*time.Minute).
		SetCompiler(compiler()).
		SetStore(store).
		SetModules(lib.modules).
		SetDefaultRegoVersion(ast.RegoV1).
		RunTests(ctx, txn)
	if err != nil {
		t.Fatalf("run rego tests: %v", err)
	}
	var results []*tester.Result
	for r := range ch {
		results = append(results, r)
	}
	if len(results) == 0 {
		t.Fatal("no rego tests found")
	}
	for _, r := range results {
		t.Run(r.Package+"."+r.Name, func(t *testing.T) {
			switch {
			case r.Error != nil:
				t.Errorf("error: %v", r.Error)
			case r.Fail:
				t.Errorf("fail: %s", r.Location)
			case r.Skip:
				t.Skip("todo")
			}
		})
	}
}

// TestEveryPolicyHasTests keeps the rule that each .rego has a _test.rego beside it.
func TestEveryPolicyHasTests(t *testing.T) {
	names, err := fs.Glob(policies.FS, "*.rego")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no policies embedded")
	}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.rego") {
			continue
		}
		want := strings.TrimSuffix(n, ".rego") + "_test.rego"
		if !slices.Contains(names, want) {
			t.Errorf("%s has no %s beside it", n, want)
		}
	}
}

// readJSON decodes a data file's bollard.config.<key> into v, refusing
// unknown fields, and checks that the file holds that one rule's settings.
func readJSON(t *testing.T, name, key string, v any) {
	t.Helper()
	b, err := fs.ReadFile(policies.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	cfg := doc["bollard"]["config"]
	if len(doc) != 1 || len(doc["bollard"]) != 1 || len(cfg) != 1 || cfg[key] == nil {
		t.Fatalf("%s must hold bollard.config.%s and nothing else", name, key)
	}
	dec := json.NewDecoder(strings.NewReader(string(cfg[key])))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: bollard.config.%s: %v", name, key, err)
	}
}
