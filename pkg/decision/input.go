package decision

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// Keys of the input document (docs/policy-contract.md), built once.
var (
	keyVersion     = ast.StringTerm("version")
	keyAgent       = ast.StringTerm("agent")
	keyAction      = ast.StringTerm("action")
	keyResource    = ast.StringTerm("resource")
	keyParams      = ast.StringTerm("params")
	keyTime        = ast.StringTerm("time")
	keyContext     = ast.StringTerm("context")
	keyID          = ast.StringTerm("id")
	keyAuthMethod  = ast.StringTerm("auth_method")
	keyClaims      = ast.StringTerm("claims")
	keyName        = ast.StringTerm("name")
	keyArea        = ast.StringTerm("area")
	keyAccess      = ast.StringTerm("access")
	keyScope       = ast.StringTerm("scope")
	keyMethod      = ast.StringTerm("method")
	keyPath        = ast.StringTerm("path")
	keyDestructive = ast.StringTerm("destructive")
	keyEvent       = ast.StringTerm("event")
	keyEffects     = ast.StringTerm("effects")
	keyStage       = ast.StringTerm("stage")

	versionTerm = ast.IntNumberTerm(InputVersion)
)

var errNoAction = errors.New("input has no action")

// actionTerms holds the input form of every catalog action, built once: the
// catalog is fixed at build time and its actions are never modified.
var actionTerms = func() map[*catalog.Action]*ast.Term {
	m := map[*catalog.Action]*ast.Term{}
	for _, a := range catalog.Actions() {
		m[a] = actionTerm(a)
	}
	return m
}()

func actionTerm(a *catalog.Action) *ast.Term {
	return ast.ObjectTerm(
		ast.Item(keyName, ast.StringTerm(a.Name)),
		ast.Item(keyArea, ast.StringTerm(a.Area)),
		ast.Item(keyAccess, ast.StringTerm(string(a.Access))),
		ast.Item(keyScope, ast.StringTerm(a.Scope)),
		ast.Item(keyMethod, ast.StringTerm(a.Method)),
		ast.Item(keyPath, ast.StringTerm(a.Path)),
		ast.Item(keyDestructive, ast.BooleanTerm(a.Destructive)),
		ast.Item(keyEvent, ast.StringTerm(a.Event)),
		ast.Item(keyEffects, ast.NewTerm(ast.MustInterfaceToValue(catalog.EffectsData(a)))),
	)
}

// stageTerms are the input forms of the stages, built once.
var stageTerms = map[Stage]*ast.Term{
	StageFull: ast.StringTerm(string(StageFull)), StageGrant: ast.StringTerm(string(StageGrant)), StageEffect: ast.StringTerm(string(StageEffect)),
}

// buildInput makes the input document as an AST value, with no JSON round
// trip. now is used when in.Time is zero. stage is the stage decided;
// standing, when not nil, is input.standing.
func buildInput(in Input, now time.Time, stage Stage, standing *ast.Term) (ast.Value, time.Time, error) {
	if in.Action == nil {
		return nil, time.Time{}, errNoAction
	}
	action, ok := actionTerms[in.Action]
	if !ok {
		action = actionTerm(in.Action) // not from the catalog, e.g. in tests
	}
	agent, err := agentTerm(in.Agent)
	if err != nil {
		return nil, time.Time{}, err
	}
	params, err := objectTerm(in.Params)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("params: %w", err)
	}
	reqCtx, err := objectTerm(in.Context)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("context: %w", err)
	}
	resource := emptyObject
	if len(in.Resource) > 0 {
		items := make([][2]*ast.Term, 0, len(in.Resource))
		for k, v := range in.Resource {
			items = append(items, ast.Item(ast.StringTerm(k), ast.StringTerm(v)))
		}
		resource = ast.ObjectTerm(items...)
	}
	t := inputTime(in.Time, now)
	st, ok := stageTerms[stage]
	if !ok {
		return nil, time.Time{}, fmt.Errorf("unknown stage %q", stage)
	}
	items := make([][2]*ast.Term, 0, 10)
	items = append(items,
		ast.Item(keyVersion, versionTerm),
		ast.Item(keyAgent, agent),
		ast.Item(keyAction, action),
		ast.Item(keyResource, resource),
		ast.Item(keyParams, params),
		ast.Item(keyTime, ast.StringTerm(t.Format(time.RFC3339Nano))),
		ast.Item(keyContext, reqCtx),
		ast.Item(keyStage, st),
	)
	if standing != nil {
		items = append(items, ast.Item(keyStanding, standing))
	}
	return ast.NewObject(items...), t, nil
}

// agentTerm is input.agent, the same for calls and events.
func agentTerm(a Agent) (*ast.Term, error) {
	claims, err := objectTerm(a.Claims)
	if err != nil {
		return nil, fmt.Errorf("agent claims: %w", err)
	}
	return ast.ObjectTerm(
		ast.Item(keyID, ast.StringTerm(a.ID)),
		ast.Item(keyAuthMethod, ast.StringTerm(a.AuthMethod)),
		ast.Item(keyClaims, claims),
	), nil
}

// inputTime is input.time: the given time, or now when it is zero, in UTC.
func inputTime(t, now time.Time) time.Time {
	if t.IsZero() {
		t = now
	}
	return t.UTC()
}

// emptyObject stands in for nil maps so that policies can always index into
// claims, params and context. Evaluation never modifies its input, so one
// value serves every call.
var emptyObject = ast.NewTerm(ast.NewObject())

// objectTerm converts a JSON-like map (as decoded by encoding/json or
// produced by catalog.Bind). The conversion is eager: building the input
// object hashes every value, which would force a lazy one anyway.
func objectTerm(m map[string]any) (*ast.Term, error) {
	if len(m) == 0 {
		return emptyObject, nil
	}
	v, err := toValue(m)
	if err != nil {
		return nil, err
	}
	return ast.NewTerm(v), nil
}

// toValue converts a JSON-like Go value. encoding/json decodes every number
// as a float64; integral ones keep their integer spelling, so that a claim
// such as exp reads 1795000000, not 1.795e+09, in sprintf and in logs.
func toValue(x any) (ast.Value, error) {
	switch x := x.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return ast.InterfaceToValue(int64(x))
		}
	case map[string]any:
		items := make([][2]*ast.Term, 0, len(x))
		for k, v := range x {
			val, err := toValue(v)
			if err != nil {
				return nil, err
			}
			items = append(items, ast.Item(ast.StringTerm(k), ast.NewTerm(val)))
		}
		return ast.NewObject(items...), nil
	case []any:
		terms := make([]*ast.Term, len(x))
		for i, v := range x {
			val, err := toValue(v)
			if err != nil {
				return nil, err
			}
			terms[i] = ast.NewTerm(val)
		}
		return ast.NewArray(terms...), nil
	}
	return ast.InterfaceToValue(x)
}
