package shape

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func testRemover(t testing.TB) Remover {
	t.Helper()
	r, err := NewRemover([]string{"profile.mobilePhone", "credentials", "profile.address.street"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestHidden(t *testing.T) {
	r := testRemover(t)
	tests := []struct {
		attr, want string // want "" means not hidden
	}{
		{"profile.mobilePhone", "profile.mobilePhone"},
		{"PROFILE.MOBILEPHONE", "profile.mobilePhone"},
		{"profile.mobilePhone.x", "profile.mobilePhone"},
		{"profile", "profile.mobilePhone"},
		{"Profile.Address", "profile.address.street"},
		{"profile.address.street", "profile.address.street"},
		{"credentials", "credentials"},
		{"credentials.provider.type", "credentials"},
		// Paths apply relative to every object of the answer, so an
		// attribute that reaches one through a nested object is hidden too.
		{"_embedded.user.profile.mobilePhone", "profile.mobilePhone"},
		{"x.profile", "profile.mobilePhone"},
		{"x.credentials.password", "credentials"},
		// Empty segments are not a way around the check.
		{"profile..mobilePhone", "profile.mobilePhone"},
		{".profile.mobilePhone.", "profile.mobilePhone"},
		{"profile.", "profile.mobilePhone"},
		// Misses: only whole segments count.
		{"profile.mobilePhoneX", ""},
		{"profile.mobile", ""},
		{"profile.address.city", ""},
		{"profile.address.streetName", ""},
		{"profiles", ""},
		{"credential", ""},
		{"mobilePhone", ""},
		{"status", ""},
		{"profile.firstName", ""},
		{"", ""},
		{".", ""},
	}
	for _, tc := range tests {
		p, hidden := r.Hidden(tc.attr)
		if hidden != (tc.want != "") || p != tc.want {
			t.Errorf("Hidden(%q) = %q, %v; want %q", tc.attr, p, hidden, tc.want)
		}
	}
	if p, hidden := (Remover{}).Hidden("profile.mobilePhone"); hidden || p != "" {
		t.Errorf("empty Remover hides %q", p)
	}
}

func TestHiddenInExpression(t *testing.T) {
	r := testRemover(t)
	tests := []struct {
		expr, want string // want "" means not hidden
	}{
		{`profile.department eq "Eng" and profile.mobilePhone sw "555"`, "profile.mobilePhone"},
		{`PROFILE.MobilePhone SW "5"`, "profile.mobilePhone"},
		{`(status eq "ACTIVE") or (profile.mobilePhone pr)`, "profile.mobilePhone"},
		{`not(profile.mobilePhone eq null)`, "profile.mobilePhone"},
		{`profile.mobilePhone pr`, "profile.mobilePhone"},
		{"status eq \"A\"\tand\nprofile.mobilePhone\rpr", "profile.mobilePhone"},
		{`credentials.provider.type eq "OKTA"`, "credentials"},
		{`profile pr`, "profile.mobilePhone"},
		{`profile.mobilePhone"x"`, "profile.mobilePhone"},
		{`"x"profile.mobilePhone`, "profile.mobilePhone"},
		{`status eq "a\"" and profile.mobilePhone eq "b"`, "profile.mobilePhone"},
		{`status eq "a\\" and profile.mobilePhone eq "b"`, "profile.mobilePhone"},
		{`profile.address.street co "Main" or profile.mobilePhone pr`, "profile.address.street"},
		{`profile.mobilePhone`, "profile.mobilePhone"},
		{`((((profile.mobilePhone))))`, "profile.mobilePhone"},
		// Misses.
		{`status eq "ACTIVE"`, ""},
		{`profile.mobilePhoneX eq "1"`, ""},
		{`profile.firstName eq "profile.mobilePhone"`, ""},
		{`profile.lastName eq "a \" profile.mobilePhone pr \\"`, ""},
		{`lastUpdated gt "2024-01-01T00:00:00.000Z" and type eq "OKTA_GROUP"`, ""},
		{`profile.employee_id eq 42 or profile.count lt -1.5`, ""},
		{`id eq "00u1" and status ne "DEPROVISIONED"`, ""},
		{`NOT (profile.flag EQ TRUE) OR profile.x Pr`, ""},
		{`profile.app:custom-attr$ eq false`, ""},
		{``, ""},
		{"   ", ""},
	}
	for _, tc := range tests {
		p, hidden, err := r.HiddenInExpression(tc.expr)
		if err != nil {
			t.Errorf("HiddenInExpression(%q): %v", tc.expr, err)
			continue
		}
		if hidden != (tc.want != "") || p != tc.want {
			t.Errorf("HiddenInExpression(%q) = %q, %v; want %q", tc.expr, p, hidden, tc.want)
		}
	}
}

func TestHiddenInExpressionUnreadable(t *testing.T) {
	r := testRemover(t)
	bad := []string{
		`profile.firstName eq "abc`,
		`status eq "a\`,
		`"`,
		`status eq 'x'`,
		`status = "x"`,
		`status eq "x";`,
		`emails[type eq "work"]`,
		`status eq "x" )`,
		`(status eq "x"`,
		`)(`,
		"stätus eq \"x\"",
		"status\u00a0eq \"x\"",
		"status eq \"x\" \x00",
		`profile.firstName eq "x" & y`,
		`profile%2EmobilePhone pr`,
		`status eq "x"` + strings.Repeat(" ", MaxExpressionLen),
	}
	for _, expr := range bad {
		if p, hidden, err := r.HiddenInExpression(expr); err == nil {
			t.Errorf("HiddenInExpression(%.60q) = %q, %v, nil; want an error", expr, p, hidden)
		}
	}
	// An empty Remover hides nothing, so there is nothing to refuse.
	for _, expr := range bad {
		if p, hidden, err := (Remover{}).HiddenInExpression(expr); err != nil || hidden || p != "" {
			t.Errorf("empty Remover: HiddenInExpression(%.60q) = %q, %v, %v", expr, p, hidden, err)
		}
	}
}

// refStrings matches Okta string literals; refBare splits what is left
// into the runs that Okta could read as names. Together they are the fuzz
// reference for which bare tokens an expression holds.
var (
	refStrings = regexp.MustCompile(`"(?s:[^"\\]|\\.)*"`)
	refBare    = regexp.MustCompile(`[A-Za-z0-9_.:$-]+`)
)

// refHidden decides with plain string prefixes, not segment by segment.
func refHidden(paths []string, attr string) bool {
	var segs []string
	for s := range strings.SplitSeq(strings.ToLower(attr), ".") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	for i := range segs {
		tail := strings.Join(segs[i:], ".") + "."
		for _, p := range paths {
			p = strings.ToLower(p) + "."
			if strings.HasPrefix(tail, p) || strings.HasPrefix(p, tail) {
				return true
			}
		}
	}
	return false
}

func FuzzHiddenInExpression(f *testing.F) {
	for _, s := range []string{
		`profile.department eq "Eng" and profile.mobilePhone sw "555"`,
		`profile.firstName eq "profile.mobilePhone"`,
		`status eq "a\"" and profile.mobilePhone eq "b"`,
		`profile.lastName eq "a \" profile.mobilePhone pr \\"`,
		`(status eq "ACTIVE") or not (PROFILE.MOBILEPHONE pr)`,
		`_embedded.user.credentials.password pr`,
		`profile.mobilePhoneX eq "1" and profile.employee_id gt -1.5`,
		`"unterminated profile.mobilePhone`,
		`profile.mobilePhone"x"`,
	} {
		f.Add(s)
	}
	paths := []string{"profile.mobilePhone", "credentials.password", "a"}
	r, err := NewRemover(paths)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		p, hidden, err := r.HiddenInExpression(expr)
		want := false
		for _, tok := range refBare.FindAllString(refStrings.ReplaceAllString(expr, " "), -1) {
			if refHidden(paths, tok) {
				want = true
				if tp, th := r.Hidden(tok); !th || !slices.Contains(paths, tp) {
					t.Fatalf("Hidden(%q) = %q, %v; want hidden", tok, tp, th)
				}
			}
		}
		if err != nil {
			return
		}
		if hidden != want {
			t.Fatalf("HiddenInExpression(%q) = %q, %v; the reference says %v", expr, p, hidden, want)
		}
		if hidden != slices.Contains(paths, p) {
			t.Fatalf("HiddenInExpression(%q) = %q, %v; not a path of the Remover", expr, p, hidden)
		}
	})
}
