package gateway

import (
	"errors"
	"fmt"
	"maps"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/shape"
)

// Obligations the gateway applies to lists.
const (
	obligationPageBudget  = "page_budget"   // pages ExecuteAll may follow
	obligationMaxPageSize = "max_page_size" // cap on the limit parameter
	// obligationRemoveFields lists fields removed from every object of every
	// answer: reads, writes, pages, events.
	obligationRemoveFields = "remove_fields"
	// obligationConstraints states conditions on parameters: ListActions
	// shows them, and the gateway sends a constraint's default when the
	// call leaves its parameter out.
	obligationConstraints = "constraints"
	// obligationMask lists parameters the audit record keeps as an HMAC.
	obligationMask = "mask"
)

// honoured are the obligations the gateway applies besides
// require_confirmation: exactly decision.KnownObligations, which a decision
// may not go beyond (TestHonouredObligations).
var honoured = []string{obligationPageBudget, obligationMaxPageSize, obligationRemoveFields, obligationConstraints, obligationMask, approval.Obligation}

// CodeHiddenField is the deny code the sidecar sets for a call whose
// search, filter, q or sortBy reaches an attribute the policy hides from
// the agent: such a query would reveal the value (a prefix search is an
// oracle), so it never reaches Okta.
const CodeHiddenField = "hidden_field"

// constraint is one entry of the constraints obligation.
type constraint struct {
	Param, Min, Default, Description string
}

// readObligations reads the obligations that shape what the agent gets,
// for a call that may go ahead. One the sidecar cannot honour fails the
// call. A query on a hidden attribute turns the decision into a denial, for
// Check as for Execute, and for a dry-run agent too.
func readObligations(out *outcome) error {
	ob := out.decision.Obligations
	r, err := removerOf(ob)
	if err != nil {
		return err
	}
	out.remove = r
	c, hasC := ob.Extra[obligationConstraints]
	if out.constraints, err = readConstraints(c, hasC); err != nil {
		return fmt.Errorf("policy obligation: %w", err)
	}
	if err := readApproval(out); err != nil {
		return err
	}
	if reason, hidden := hiddenQuery(out.call, r); hidden {
		out.decision.Allow = false
		out.decision.Deny = append(out.decision.Deny, reason)
	}
	return nil
}

// removerOf reads the remove_fields obligation, for calls and events alike.
func removerOf(ob decision.Obligations) (shape.Remover, error) {
	rf, has := ob.Extra[obligationRemoveFields]
	r, err := shape.FromObligation(rf, has)
	if err != nil {
		return shape.Remover{}, fmt.Errorf("policy obligation: %w", err)
	}
	return r, nil
}

// hiddenQuery checks the parameters that query attributes (catalog
// Param.Query) against the fields policy hides. The reason names the
// parameter and the attribute, for the audit record.
func hiddenQuery(call *catalog.Call, r shape.Remover) (decision.Reason, bool) {
	if r.Empty() {
		return decision.Reason{}, false
	}
	for _, p := range call.Action.Params {
		v, ok := call.Params[p.Name].(string)
		if !ok || p.Query == "" {
			continue
		}
		switch p.Query {
		case catalog.QueryExpression:
			path, hidden, err := r.HiddenInExpression(v)
			if err != nil {
				return decision.Reason{Code: CodeHiddenField, Message: fmt.Sprintf(
					"%s cannot be read (%v), so Bollard cannot tell whether it names an attribute hidden from the agent", p.Name, err)}, true
			}
			if hidden {
				return hiddenReason(p.Name, "names", path), true
			}
		case catalog.QueryAttribute:
			if path, hidden := r.Hidden(v); hidden {
				return hiddenReason(p.Name, "names", path), true
			}
		case catalog.QueryText:
			for _, m := range p.Matches {
				if path, hidden := r.Hidden(m); hidden {
					return hiddenReason(p.Name, "matches "+m+", under", path), true
				}
			}
		}
	}
	return decision.Reason{}, false
}

func hiddenReason(param, how, path string) decision.Reason {
	return decision.Reason{Code: CodeHiddenField, Message: fmt.Sprintf(
		"%s %s %s, which policy hides from the agent (remove_fields): a query on it would reveal its value", param, how, path)}
}

// readConstraints reads a constraints obligation: a list of
// {"param": ..., "min"?: ..., "default"?: ..., "description"?: ...}, each
// naming a parameter once. Anything else is an error.
func readConstraints(v any, present bool) ([]constraint, error) {
	if !present {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errors.New("constraints: not an array")
	}
	out := make([]constraint, 0, len(list))
	seen := map[string]bool{}
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("constraints[%d]: not an object", i)
		}
		var c constraint
		for key, dst := range map[string]*string{"param": &c.Param, "min": &c.Min, "default": &c.Default, "description": &c.Description} {
			raw, ok := m[key]
			if !ok {
				continue
			}
			s, ok := raw.(string)
			if !ok {
				return nil, fmt.Errorf("constraints[%d].%s: not a string", i, key)
			}
			*dst = s
		}
		if c.Param == "" || seen[c.Param] {
			return nil, fmt.Errorf("constraints[%d]: param missing or repeated", i)
		}
		seen[c.Param] = true
		out = append(out, c)
	}
	return out, nil
}

// applyDefaults sends each constraint's default when the call leaves its
// parameter out: the policy allowed the call on that condition. The call
// is bound again, so a default the catalog would refuse fails the call
// instead of reaching Okta.
func applyDefaults(out *outcome) error {
	var params map[string]any
	for _, c := range out.constraints {
		if c.Default == "" {
			continue
		}
		if _, given := out.call.Params[c.Param]; given {
			continue
		}
		if params == nil {
			params = maps.Clone(out.call.Params)
		}
		params[c.Param] = c.Default
	}
	if params == nil {
		return nil
	}
	call, err := out.call.Action.Bind(params)
	if err != nil {
		// Not wrapped: it is the policy's mistake, not the agent's, and must
		// not come back as an invalid-parameters status.
		return fmt.Errorf("policy obligation: constraints: %v", err)
	}
	out.call = call
	return nil
}
