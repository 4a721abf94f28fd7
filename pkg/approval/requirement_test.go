package approval

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// obligation decodes a require_approval value as the decision engine hands
// it over (numbers as json.Number).
func obligation(t *testing.T, raw string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseRequirement(t *testing.T) {
	r, err := ParseRequirement(obligation(t, `{"approvers": [{"groups": ["security-approvers"]}, {"users": ["ann@example.com"], "groups": ["oncall"]}],
		"approvals": 2, "ttl_seconds": 600, "reason": "deleting an admin"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Approvers) != 2 || r.Approvals != 2 || r.TTL != 10*time.Minute || r.Reason != "deleting an admin" ||
		r.Approvers[1].Users[0] != "ann@example.com" || r.Approvers[1].Groups[0] != "oncall" {
		t.Errorf("requirement %+v", r)
	}
	r, err = ParseRequirement(obligation(t, `{"approvers": [{"users": ["ann@example.com"]}], "approvals": 1, "reason": "r"}`))
	if err != nil || r.TTL != DefaultTTL {
		t.Errorf("without ttl_seconds: %+v, %v; want the default %v", r, err, DefaultTTL)
	}
}

// Every departure from the schema is refused: the call is then denied,
// never run without the approval policy asked for.
func TestParseRequirementRefuses(t *testing.T) {
	for name, raw := range map[string]string{
		"not an object":       `["x"]`,
		"null":                `null`,
		"unknown key":         `{"approvers": [{"groups": ["g"]}], "approvals": 1, "reason": "r", "quorum": 3}`,
		"no approvers":        `{"approvals": 1, "reason": "r"}`,
		"empty approvers":     `{"approvers": [], "approvals": 1, "reason": "r"}`,
		"a set naming nobody": `{"approvers": [{"groups": [], "users": []}], "approvals": 1, "reason": "r"}`,
		"a set not an object": `{"approvers": ["security"], "approvals": 1, "reason": "r"}`,
		"unknown set key":     `{"approvers": [{"roles": ["SUPER_ADMIN"]}], "approvals": 1, "reason": "r"}`,
		"an empty name":       `{"approvers": [{"groups": [" "]}], "approvals": 1, "reason": "r"}`,
		"a name not a string": `{"approvers": [{"users": [7]}], "approvals": 1, "reason": "r"}`,
		"zero approvals":      `{"approvers": [{"groups": ["g"]}], "approvals": 0, "reason": "r"}`,
		"three approvals":     `{"approvers": [{"groups": ["g"]}], "approvals": 3, "reason": "r"}`,
		"approvals a string":  `{"approvers": [{"groups": ["g"]}], "approvals": "1", "reason": "r"}`,
		"half an approval":    `{"approvers": [{"groups": ["g"]}], "approvals": 1.5, "reason": "r"}`,
		"no approvals":        `{"approvers": [{"groups": ["g"]}], "reason": "r"}`,
		"ttl zero":            `{"approvers": [{"groups": ["g"]}], "approvals": 1, "reason": "r", "ttl_seconds": 0}`,
		"ttl past a day":      `{"approvers": [{"groups": ["g"]}], "approvals": 1, "reason": "r", "ttl_seconds": 86401}`,
		"no reason":           `{"approvers": [{"groups": ["g"]}], "approvals": 1}`,
		"a blank reason":      `{"approvers": [{"groups": ["g"]}], "approvals": 1, "reason": "  "}`,
		"too long a reason":   `{"approvers": [{"groups": ["g"]}], "approvals": 1, "reason": "` + strings.Repeat("r", maxReasonLen+1) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if r, err := ParseRequirement(obligation(t, raw)); !errors.Is(err, ErrInvalidRequirement) {
				t.Errorf("%s: %+v, %v; want ErrInvalidRequirement", raw, r, err)
			}
		})
	}
}

// A person qualifies only when in every set: by a group, by email (any
// case) or by subject.
func TestQualifies(t *testing.T) {
	r := Requirement{Approvers: []Set{{Groups: []string{"security"}}, {Groups: []string{"oncall"}, Users: []string{"Bob@Example.com"}}}}
	for _, tc := range []struct {
		p    Person
		want bool
	}{
		{Person{Subject: "a", Groups: []string{"security", "oncall"}}, true},
		{Person{Subject: "b", Email: "bob@example.com", Groups: []string{"security"}}, true},
		{Person{Subject: "c", Groups: []string{"security"}}, false},
		{Person{Subject: "d", Email: "bob@example.com"}, false},
		{Person{Subject: "e", Groups: []string{"Security", "oncall"}}, false}, // groups compare exactly
	} {
		if got := r.Qualifies(tc.p); got != tc.want {
			t.Errorf("%+v qualifies = %v, want %v", tc.p, got, tc.want)
		}
	}
	if (Requirement{}).Qualifies(Person{Subject: "a"}) {
		t.Error("a requirement naming nobody lets someone approve")
	}
}
