package oktasim

import (
	"testing"
)

func TestParseExpr(t *testing.T) {
	doc := obj{
		{"status", "ACTIVE"},
		{"lastUpdated", "2025-01-02T03:04:05.000Z"},
		{"profile", map[string]any{"department": "Engineering", "level": 3, "manager": nil}},
		{"target", []obj{{{"id", "00u1"}}, {{"id", "00g2"}}}},
		{"flag", true},
	}
	tests := []struct {
		expr string
		want bool
	}{
		{`status eq "ACTIVE"`, true},
		{`status eq "active"`, true},
		{`status ne "ACTIVE"`, false},
		{`profile.department sw "Eng"`, true},
		{`profile.department co "gine"`, true},
		{`profile.department ew "ing"`, true},
		{`profile.level gt 2`, true},
		{`profile.level le 2`, false},
		{`lastUpdated gt "2025-01-01T00:00:00Z"`, true},
		{`lastUpdated lt "2025-01-01T00:00:00.000Z"`, false},
		{`profile.manager eq null`, true},
		{`profile.missing eq null`, true},
		{`profile.missing pr`, false},
		{`profile.department pr`, true},
		{`target.id eq "00g2"`, true},
		{`target.id eq "00g3"`, false},
		{`flag eq true`, true},
		{`flag eq false`, false},
		{`status eq "X" or (profile.level ge 3 and flag eq true)`, true},
		{`status eq "ACTIVE" AND profile.level lt 1`, false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			m, err := parseExpr(tt.expr)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := m.match(objectGetter(doc)); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "status", "status eq", `status eq "x`, `status like "x"`, `"status" eq "x"`, `(status eq "x"`, `status eq "x")`, `status eq x`, `a eq "b" or`} {
		if _, err := parseExpr(bad); err == nil {
			t.Errorf("parseExpr(%q) accepted", bad)
		}
	}
}

// FuzzParseExpr checks the parser never panics on what a client may send
// in search, filter and the System Log filter.
func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{`status eq "ACTIVE"`, `(a eq "b" or c pr) and d gt 3`, `x eq "\"quoted\""`, `((((`, `a eq "`} {
		f.Add(s)
	}
	doc := obj{{"a", "b"}, {"d", 4}}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseExpr(s)
		if err == nil {
			m.match(objectGetter(doc))
		}
	})
}
