package catalog

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"
)

// TestCatalogMatchesReference checks the table against the reference list of
// actions Bollard covers (testdata/actions.tsv, a copy of the product's
// reference): same names, areas, access, scopes, methods, paths, events,
// destructive flags and descriptions.
func TestCatalogMatchesReference(t *testing.T) {
	f, err := os.Open("testdata/actions.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.LazyQuotes = true
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		name := row[col["action"]]
		seen[name] = true
		a, ok := Lookup(name)
		if !ok {
			t.Errorf("%s: missing from catalog", name)
			continue
		}
		check := func(field, got, want string) {
			if got != want {
				t.Errorf("%s: %s = %q, reference says %q", name, field, got, want)
			}
		}
		check("area", a.Area, row[col["area"]])
		check("access", string(a.Access), row[col["access"]])
		check("scope", a.Scope, row[col["okta_scope"]])
		check("method", a.Method, row[col["method"]])
		check("path", a.Path, row[col["path"]])
		check("event", a.Event, row[col["webhook_event"]])
		check("destructive", map[bool]string{true: "yes", false: "no"}[a.Destructive], row[col["destructive"]])
		check("description", a.Description, row[col["what_it_does"]])
	}
	for _, a := range Actions() {
		if !seen[a.Name] {
			t.Errorf("%s: in catalog but not in the reference", a.Name)
		}
	}
	if got := len(Actions()); got != 48 {
		t.Errorf("catalog has %d actions, want 48", got)
	}
	if got := len(Areas()); got != 9 {
		t.Errorf("catalog has %d areas, want 9", got)
	}
}

func TestCatalogInvariants(t *testing.T) {
	rpcs := map[string]bool{}
	for _, a := range Actions() {
		if a.RPC == "" || rpcs[a.RPC] {
			t.Errorf("%s: RPC name %q empty or duplicated", a.Name, a.RPC)
		}
		rpcs[a.RPC] = true
		// Every placeholder in the path is a declared, required path parameter, and vice versa.
		var placeholders []string
		for _, m := range placeholder.FindAllString(a.Path, -1) {
			placeholders = append(placeholders, strings.Trim(m, "{}"))
		}
		if got := strings.Join(a.PathParams(), ","); got != strings.Join(placeholders, ",") {
			t.Errorf("%s: path params %q, template has %q", a.Name, got, placeholders)
		}
		names := map[string]bool{}
		for _, p := range a.Params {
			if names[p.Name] {
				t.Errorf("%s: parameter %s declared twice", a.Name, p.Name)
			}
			names[p.Name] = true
			if p.In == InPath && !p.Required {
				t.Errorf("%s: path parameter %s must be required", a.Name, p.Name)
			}
		}
		if a.Paginated() != (names["limit"] && names["after"]) {
			t.Errorf("%s: paginated = %v but limit/after declared = %v/%v", a.Name, a.Paginated(), names["limit"], names["after"])
		}
		if lim, ok := a.Param("limit"); ok && lim.Max != a.MaxLimit {
			t.Errorf("%s: limit max %d != MaxLimit %d", a.Name, lim.Max, a.MaxLimit)
		}
		if a.Access == Read && a.Method != "GET" || a.Access == Manage && a.Method == "GET" {
			t.Errorf("%s: access %s with method %s", a.Name, a.Access, a.Method)
		}
	}
	for _, area := range Areas() {
		if len(AreaActions(area.Name)) == 0 {
			t.Errorf("area %s has no actions", area.Name)
		}
	}
	if got := strings.Join(Scopes(), " "); got != "okta.apps.manage okta.apps.read okta.groups.manage okta.groups.read okta.logs.read okta.policies.manage okta.policies.read okta.sessions.manage okta.sessions.read okta.users.manage okta.users.read" {
		t.Errorf("Scopes() = %s", got)
	}
}
