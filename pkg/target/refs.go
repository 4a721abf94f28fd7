package target

import (
	"strings"
	"unicode"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// MaxObjects bounds how many users and groups one call may name for lookup
// (a user created into many groups, a policy naming many people). A call
// naming more is not looked up at all: its target is unresolved, and the
// policy denies it.
const MaxObjects = 32

// maxRefLen bounds one reference: Okta's logins are at most 100 bytes, ids
// far less.
const maxRefLen = 128

// ref is one object a call names: what kind, where, and the value as the
// call gives it.
type ref struct {
	kind  catalog.EffectKind
	from  catalog.Source
	name  string // path parameter or body member
	value string
}

// entry starts the object's facts with what the call says of it.
func (rf ref) entry() map[string]any {
	return map[string]any{"id": rf.value, "from": string(rf.from), "name": rf.name}
}

// unresolved is the entry of an object that could not be looked up.
func (rf ref) unresolved(reason string) map[string]any {
	e := rf.entry()
	e["resolved"], e["reason"] = false, reason
	switch rf.kind {
	case catalog.EffectUser:
		e["groups"], e["admin_roles"] = []any{}, []any{}
	case catalog.EffectGroup:
		e["admin_roles"] = []any{}
	}
	return e
}

// Reasons an object is unresolved, in its entry: short and fixed, so they
// say why without echoing what Okta answered.
const (
	reasonTooMany   = "too_many_objects"
	reasonInvalid   = "invalid_reference"
	reasonNotFound  = "not_found"
	reasonOkta      = "okta_error"
	reasonMalformed = "malformed_answer"
	reasonTooLarge  = "too_many_groups"
	reasonTimeout   = "timeout"
	reasonBudget    = "budget_spent"
)

// callRefs lists the objects the call's effects name, each user and each
// group once, in effect order. problem is set when the references cannot be
// used at all (a body member of the wrong type, too many objects).
func callRefs(call *catalog.Call) (refs []ref, problem string) {
	seen := map[ref]bool{}
	lookups := 0
	for _, e := range call.Action.Effects {
		var values []string
		switch e.From {
		case catalog.FromPath, catalog.FromSession:
			values = []string{call.Resource[e.Name]}
		case catalog.FromBody:
			var ok bool
			if values, ok = bodyRefs(call, e.Name); !ok {
				problem = reasonInvalid
			}
		}
		for _, v := range values {
			rf := ref{kind: e.Kind, from: e.From, name: e.Name, value: v}
			key := ref{kind: e.Kind, from: e.From, value: v}
			if e.From != catalog.FromSession {
				key.from = "" // a user named twice, by path and body, is one user
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			refs = append(refs, rf)
			if e.Kind == catalog.EffectUser || e.Kind == catalog.EffectGroup {
				lookups++
			}
		}
	}
	if lookups > MaxObjects {
		problem = reasonTooMany
	}
	return refs, problem
}

// bodyRefs reads the ids at a dotted path of the call's body: a string, or
// a list of strings. Absent (or null) names none. Anything else is not a
// reference Bollard can follow, and ok is false.
func bodyRefs(call *catalog.Call, path string) (values []string, ok bool) {
	var cur any = call.Params["body"]
	for _, seg := range strings.Split(path, ".") {
		obj, isObj := cur.(map[string]any)
		if !isObj {
			return nil, cur == nil
		}
		cur = obj[seg]
	}
	switch v := cur.(type) {
	case nil:
		return nil, true
	case string:
		return []string{v}, true
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, isStr := x.(string)
			if !isStr {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// usable reports whether ref can name an object in a lookup path: not
// empty, bounded, no control characters, and not a dot segment (which
// survives escaping and which a proxy may resolve).
func usable(ref string) bool {
	if ref == "" || ref == "." || ref == ".." || len(ref) > maxRefLen {
		return false
	}
	for _, c := range ref {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}
