package decision

import (
	"errors"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

var (
	errUndefined = errors.New(Query + " is undefined")

	keyAllow               = ast.StringTerm("allow")
	keyDeny                = ast.StringTerm("deny")
	keyObligations         = ast.StringTerm("obligations")
	keyCode                = ast.StringTerm("code")
	keyMessage             = ast.StringTerm("message")
	keyRequireConfirmation = ast.StringTerm("require_confirmation")
)

// shapeError says how a decision departs from the contract.
type shapeError struct{ what string }

func (e *shapeError) Error() string { return "malformed decision: " + e.what }

func shape(format string, args ...any) error {
	return &shapeError{what: fmt.Sprintf(format, args...)}
}

// readResult extracts the decision from the query's result set. composed
// says the query is a composedQuery: the decision with the team's deny sets
// beside it, any element of which denies. known tells the obligations the
// sidecar honours; any other makes the decision malformed.
func readResult(rs rego.ResultSet, composed bool, known func(string) bool) (allow bool, deny []Reason, ob Obligations, err error) {
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return false, nil, Obligations{}, errUndefined
	}
	if len(rs) > 1 {
		return false, nil, Obligations{}, shape("%d results", len(rs))
	}
	t, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return false, nil, Obligations{}, shape("result is %T", rs[0].Expressions[0].Value)
	}
	if !composed {
		return readDecision(t.Value, known)
	}
	return readComposed(t.Value, known)
}

var keyDecision = ast.StringTerm("decision")

// readComposed reads {"decision": ..., "rules": [set, ...]}: the decision,
// denied with every reason of the team's rules appended when there is any.
// A reason of the wrong shape fails the whole decision, like a malformed
// decision does: a rule that cannot say why it denies still denies.
func readComposed(v ast.Value, known func(string) bool) (allow bool, deny []Reason, ob Obligations, err error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return false, nil, ob, shape("composed result is %s", ast.ValueName(v))
	}
	d := get(obj, keyDecision)
	if d == nil {
		return false, nil, ob, errUndefined
	}
	allow, deny, ob, err = readDecision(d, known)
	if err != nil {
		return false, nil, Obligations{}, err
	}
	sets, ok := get(obj, keyRules).(*ast.Array)
	if !ok {
		return false, nil, Obligations{}, shape("rules is not an array")
	}
	for i := range sets.Len() {
		set, ok := sets.Elem(i).Value.(ast.Set)
		if !ok {
			return false, nil, Obligations{}, shape("deny rule %d is not a set", i)
		}
		var bad error
		set.Foreach(func(t *ast.Term) {
			if bad != nil {
				return
			}
			r, err := readReason(t.Value)
			if err != nil {
				bad = shape("a reason of deny rule %d: %v", i, err)
				return
			}
			deny = append(deny, r)
		})
		if bad != nil {
			return false, nil, Obligations{}, bad
		}
	}
	if len(deny) > 0 {
		allow = false // deny always wins
	}
	return allow, deny, ob, nil
}

// readReason reads one {"code": ..., "message": ...}.
func readReason(v ast.Value) (Reason, error) {
	r, ok := v.(ast.Object)
	if !ok {
		return Reason{}, errors.New("not an object")
	}
	code, ok1 := get(r, keyCode).(ast.String)
	msg, ok2 := get(r, keyMessage).(ast.String)
	if !ok1 || !ok2 || code == "" {
		return Reason{}, errors.New("needs a non-empty string code and a string message")
	}
	return Reason{Code: string(code), Message: string(msg)}, nil
}

// readDecision checks v against the contract: an object with exactly the
// types the contract names; anything else is an error, so the call is denied.
func readDecision(v ast.Value, known func(string) bool) (allow bool, deny []Reason, ob Obligations, err error) {
	obj, ok := v.(ast.Object)
	if !ok {
		return false, nil, ob, shape("decision is %s, not an object", ast.ValueName(v))
	}
	a, ok := get(obj, keyAllow).(ast.Boolean)
	if !ok {
		return false, nil, ob, shape("allow is not a boolean")
	}
	arr, ok := get(obj, keyDeny).(*ast.Array)
	if !ok {
		return false, nil, ob, shape("deny is not an array")
	}
	if n := arr.Len(); n > 0 {
		deny = make([]Reason, n)
		for i := range n {
			r, err := readReason(arr.Elem(i).Value)
			if err != nil {
				return false, nil, ob, shape("deny[%d] %v", i, err)
			}
			deny[i] = r
		}
	}
	ob, err = readObligations(get(obj, keyObligations), known)
	if err != nil {
		return false, nil, Obligations{}, err
	}
	return bool(a), deny, ob, nil
}

func readObligations(v ast.Value, known func(string) bool) (Obligations, error) {
	var ob Obligations
	obj, ok := v.(ast.Object)
	if !ok {
		return ob, shape("obligations is not an object")
	}
	rc, ok := get(obj, keyRequireConfirmation).(ast.Boolean)
	if !ok {
		return ob, shape("obligations.require_confirmation is not a boolean")
	}
	ob.RequireConfirmation = bool(rc)
	if obj.Len() == 1 {
		return ob, nil
	}
	var err error
	ob.Extra = make(map[string]any, obj.Len()-1)
	obj.Foreach(func(k, val *ast.Term) {
		key, ok := k.Value.(ast.String)
		if !ok {
			err = shape("obligations has a key that is not a string: %v", k)
			return
		}
		if key == "require_confirmation" || err != nil {
			return
		}
		if !known(string(key)) {
			err = shape("obligations.%s is not an obligation this sidecar honours (it denies rather than skip it)", string(key))
			return
		}
		x, jerr := ast.JSON(val.Value)
		if jerr != nil {
			err = shape("obligations.%s: %v", key, jerr)
			return
		}
		ob.Extra[string(key)] = x
	})
	if err != nil {
		return Obligations{}, err
	}
	return ob, nil
}

// get returns the value under k, or nil.
func get(obj ast.Object, k *ast.Term) ast.Value {
	if t := obj.Get(k); t != nil {
		return t.Value
	}
	return nil
}
