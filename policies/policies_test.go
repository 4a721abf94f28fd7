package policies_test

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the sidecar binary embeds the zone database too

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/policies"
)

// TestRego runs every test_ rule in the *_test.rego files, loaded the way
// `opa test policies/` loads them, and fails on any failing or erroring test.
func TestRego(t *testing.T) {
	ctx := t.Context()
	res, err := loader.NewFileLoader().WithFS(policies.FS).WithRegoVersion(ast.RegoV1).All([]string{"."})
	if err != nil {
		t.Fatalf("load policies: %v", err)
	}
	store, err := res.Store()
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	txn := storage.NewTransactionOrDie(ctx, store)
	defer store.Abort(ctx, txn)

	compiler := ast.NewCompiler().WithStrict(true).WithDefaultRegoVersion(ast.RegoV1)
	ch, err := tester.NewRunner().
		SetCompiler(compiler).
		SetStore(store).
		SetModules(res.ParsedModules()).
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

// TestGrantsData catches typos in the sample grants: every area must be a
// catalog area and every level read or manage. The dev-mode demo relies on
// the three sample agents.
func TestGrantsData(t *testing.T) {
	var doc struct {
		Bollard struct {
			Config struct {
				Grants struct {
					Agents map[string]map[string]string `json:"agents"`
				} `json:"grants"`
			} `json:"config"`
		} `json:"bollard"`
	}
	readJSON(t, "grants.json", &doc)
	agents := doc.Bollard.Config.Grants.Agents
	for _, id := range []string{"reader-bot", "helpdesk-bot", "provisioner-bot"} {
		if _, ok := agents[id]; !ok {
			t.Errorf("sample agent %q missing", id)
		}
	}
	for id, areas := range agents {
		for area, level := range areas {
			if _, ok := catalog.LookupArea(area); !ok {
				t.Errorf("agent %q: unknown area %q", id, area)
			}
			if level != string(catalog.Read) && level != string(catalog.Manage) {
				t.Errorf("agent %q area %q: level %q is neither read nor manage", id, area, level)
			}
		}
	}
	if got := len(agents["reader-bot"]); got != len(catalog.Areas()) {
		t.Errorf("reader-bot has %d areas, want all %d", got, len(catalog.Areas()))
	}
}

func TestBusinessHoursData(t *testing.T) {
	var doc struct {
		Bollard struct {
			Config struct {
				BusinessHours struct {
					Timezone     string   `json:"timezone"`
					Days         []string `json:"days"`
					Start        string   `json:"start"`
					End          string   `json:"end"`
					ExemptAgents []string `json:"exempt_agents"`
				} `json:"business_hours"`
			} `json:"config"`
		} `json:"bollard"`
	}
	readJSON(t, "business_hours.json", &doc)
	bh := doc.Bollard.Config.BusinessHours
	if _, err := time.LoadLocation(bh.Timezone); err != nil || bh.Timezone == "" {
		t.Errorf("timezone %q: %v", bh.Timezone, err)
	}
	var weekdays []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		weekdays = append(weekdays, d.String())
	}
	for _, d := range bh.Days {
		if !slices.Contains(weekdays, d) {
			t.Errorf("day %q is not a weekday name as time.weekday returns it", d)
		}
	}
	// The policy compares the clock as text, which needs zero-padded HH:MM.
	hhmm := regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	if !hhmm.MatchString(bh.Start) {
		t.Errorf("start %q is not zero-padded HH:MM", bh.Start)
	}
	if !hhmm.MatchString(bh.End) && bh.End != "24:00" {
		t.Errorf("end %q is not zero-padded HH:MM or 24:00", bh.End)
	}
	if bh.Start >= bh.End {
		t.Errorf("start %q is not before end %q", bh.Start, bh.End)
	}
	if !slices.Contains(bh.ExemptAgents, "helpdesk-bot") {
		t.Error("helpdesk-bot (on call) must be exempt")
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := fs.ReadFile(policies.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
