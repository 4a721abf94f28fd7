package approval

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Obligation is the name of the obligation policy sets when a call needs a
// person's approval.
const Obligation = "require_approval"

// Limits of a requirement.
const (
	DefaultTTL    = 15 * time.Minute
	MaxTTL        = 24 * time.Hour
	maxApprovers  = 64  // sets, and names in a set
	maxNameLen    = 256 // a group or user name
	maxReasonLen  = 1024
	maxApprovals  = 2
	minApprovals  = 1
	obligationTTL = "ttl_seconds"
)

// Requirement is what policy asks of an approval.
type Requirement struct {
	// Approvers: a person may approve only when in every set.
	Approvers []Set
	// Approvals is how many distinct people must approve: 1 or 2.
	Approvals int
	// TTL is how long the approval may be given, and then used.
	TTL time.Duration
	// Reason says why, for the approver.
	Reason string
}

// Set is a set of approvers: people in any of Groups, or named in Users
// (by email, or by subject).
type Set struct {
	Groups []string
	Users  []string
}

// ErrInvalidRequirement wraps every way a require_approval value departs
// from its schema; the call is then denied, never run unapproved.
var ErrInvalidRequirement = errors.New("invalid require_approval obligation")

// ParseRequirement reads the obligation's value as the decision gives it
// (decoded JSON: objects, arrays, strings, json.Number):
//
//	{"approvers": [{"groups": ["security-approvers"], "users": ["a@example.com"]}],
//	 "approvals": 1, "ttl_seconds": 900, "reason": "..."}
//
// approvers is a non-empty array of sets, each naming at least one group or
// user; approvals is 1 or 2; ttl_seconds is optional (default 900, at most
// 86400); reason is a non-empty string. Unknown keys are refused: a
// condition this sidecar does not understand is not skipped.
func ParseRequirement(v any) (Requirement, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Requirement{}, invalid("is %s, not an object", kind(v))
	}
	var r Requirement
	for k := range obj {
		switch k {
		case "approvers", "approvals", obligationTTL, "reason":
		default:
			return Requirement{}, invalid("has the unknown key %q", k)
		}
	}
	sets, ok := obj["approvers"].([]any)
	if !ok || len(sets) == 0 || len(sets) > maxApprovers {
		return Requirement{}, invalid("approvers must be an array of 1 to %d sets", maxApprovers)
	}
	for i, s := range sets {
		set, err := parseSet(s)
		if err != nil {
			return Requirement{}, invalid("approvers[%d]: %v", i, err)
		}
		r.Approvers = append(r.Approvers, set)
	}
	n, err := integer(obj["approvals"])
	if err != nil || n < minApprovals || n > maxApprovals {
		return Requirement{}, invalid("approvals must be 1 or 2")
	}
	r.Approvals = int(n)
	r.TTL = DefaultTTL
	if raw, has := obj[obligationTTL]; has {
		s, err := integer(raw)
		if err != nil || s < 1 || time.Duration(s)*time.Second > MaxTTL {
			return Requirement{}, invalid("ttl_seconds must be an integer from 1 to %d", int(MaxTTL/time.Second))
		}
		r.TTL = time.Duration(s) * time.Second
	}
	reason, ok := obj["reason"].(string)
	if !ok || strings.TrimSpace(reason) == "" || len(reason) > maxReasonLen {
		return Requirement{}, invalid("reason must be a non-empty string of at most %d bytes", maxReasonLen)
	}
	r.Reason = reason
	return r, nil
}

func parseSet(v any) (Set, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Set{}, fmt.Errorf("is %s, not an object", kind(v))
	}
	var s Set
	for k, raw := range obj {
		var names []string
		switch k {
		case "groups", "users":
			list, ok := raw.([]any)
			if !ok || len(list) > maxApprovers {
				return Set{}, fmt.Errorf("%s must be an array of at most %d names", k, maxApprovers)
			}
			for _, x := range list {
				name, ok := x.(string)
				if !ok || strings.TrimSpace(name) == "" || len(name) > maxNameLen {
					return Set{}, fmt.Errorf("%s holds %v, not a name", k, x)
				}
				names = append(names, name)
			}
		default:
			return Set{}, fmt.Errorf("has the unknown key %q", k)
		}
		if k == "groups" {
			s.Groups = names
		} else {
			s.Users = names
		}
	}
	if len(s.Groups)+len(s.Users) == 0 {
		return Set{}, errors.New("names nobody: no group and no user could approve")
	}
	return s, nil
}

// integer reads a whole JSON number.
func integer(v any) (int64, error) {
	switch n := v.(type) {
	case json.Number:
		return n.Int64()
	case float64:
		if n == float64(int64(n)) {
			return int64(n), nil
		}
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidRequirement, fmt.Sprintf(format, args...))
}

// Qualifies reports whether the person may approve under r: in every set.
func (r Requirement) Qualifies(p Person) bool {
	for _, s := range r.Approvers {
		if !s.has(p) {
			return false
		}
	}
	return len(r.Approvers) > 0
}

func (s Set) has(p Person) bool {
	for _, u := range s.Users {
		if (p.Email != "" && strings.EqualFold(u, p.Email)) || u == p.Subject {
			return true
		}
	}
	for _, g := range s.Groups {
		if slices.Contains(p.Groups, g) {
			return true
		}
	}
	return false
}
