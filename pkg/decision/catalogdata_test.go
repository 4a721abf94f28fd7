package decision_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

// TestCatalogData: every policy sees the catalog at data.bollard.catalog,
// beside its own data under data.bollard.
func TestCatalogData(t *testing.T) {
	e, _ := newEngine(t, decision.WithPolicyFS(policyFS(
		"p.rego", regoDecision(`{"allow": true, "deny": [], "obligations": {"require_confirmation": false, "catalog": data.bollard.catalog, "own": data.bollard.config}}`),
		"bollard/config/d.json", `{"flag": true}`,
	)), decision.WithObligations("catalog", "own"))
	d := e.Decide(t.Context(), decision.Input{Action: action(t, "users.list")})
	if !d.Allow {
		t.Fatalf("denied: %v", d.Deny)
	}
	if got, want := normal(t, d.Obligations.Extra["catalog"]), normal(t, catalog.PolicyData()); !reflect.DeepEqual(got, want) {
		t.Errorf("data.bollard.catalog = %v\nwant %v", got, want)
	}
	if got := normal(t, d.Obligations.Extra["own"]); !reflect.DeepEqual(got, map[string]any{"flag": true}) {
		t.Errorf("data.bollard.config = %v", got)
	}
}

func TestCatalogDataReserved(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		is    bool // errors.Is ErrCatalogData
		match string
	}{
		{name: "root data file", files: []string{"d.json", `{"bollard": {"catalog": {"actions": {}}}}`}, is: true},
		{name: "file in the catalog's directory", files: []string{"bollard/catalog/d.json", `{"extra": 1}`}, is: true},
		{name: "data.bollard not an object", files: []string{"d.json", `{"bollard": 1}`}, is: true},
		{name: "a rule under the catalog", files: []string{"c.rego", "package bollard.catalog\n\nextra := 1\n"}, is: true},
		{name: "a ref rule onto the catalog", files: []string{"c.rego", "package bollard\n\ncatalog.actions.extra := 1\n"}, is: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := append([]string{"p.rego", regoDecision(ok)}, tt.files...)
			_, err := decision.New(t.Context(), decision.WithLogger(discard), decision.WithPolicyFS(policyFS(files...)))
			if err == nil {
				t.Fatal("New succeeded")
			}
			if tt.is && !errors.Is(err, decision.ErrCatalogData) {
				t.Errorf("error %q is not ErrCatalogData", err)
			}
			if tt.match != "" && !strings.Contains(err.Error(), tt.match) {
				t.Errorf("error %q does not mention %q", err, tt.match)
			}
		})
	}
}
