package catalog

// PolicyData is the catalog as policy data: what Bollard loads under
// data.bollard.catalog beside every policy, at run time and in `policy test`,
// so that Rego can name actions and areas without copying them.
//
//	{"areas": {"users": {"actions": ["users.list", ...]}, ...},
//	 "actions": {"users.list": {"name": ..., "area": ..., "access": ...,
//	             "scope": ..., "method": ..., "path": ..., "destructive": ...,
//	             "event": ..., "effects": [...], "paginated": ...}, ...}}
//
// An action's object has the same fields as input.action, plus paginated.
// effects lists what a manage action changes, as EffectsData gives it.
// The maps are fresh on every call; callers may modify them.
func PolicyData() map[string]any {
	actions := make(map[string]any, len(ordered))
	areaActions := make(map[string][]any, len(areas))
	for _, a := range ordered {
		actions[a.Name] = map[string]any{
			"name":        a.Name,
			"area":        a.Area,
			"access":      string(a.Access),
			"scope":       a.Scope,
			"method":      a.Method,
			"path":        a.Path,
			"destructive": a.Destructive,
			"event":       a.Event,
			"effects":     EffectsData(a),
			"paginated":   a.Paginated(),
		}
		areaActions[a.Area] = append(areaActions[a.Area], a.Name)
	}
	areaMap := make(map[string]any, len(areas))
	for _, ar := range areas {
		names := areaActions[ar.Name]
		if names == nil {
			names = []any{}
		}
		areaMap[ar.Name] = map[string]any{"actions": names}
	}
	return map[string]any{"areas": areaMap, "actions": actions}
}

// EffectsData is an action's effects as policy input and data show them:
// [{"kind": "user", "from": "path", "name": "userId", "aspect": "lifecycle"}, ...],
// [] when the action changes no existing object. The list is fresh.
func EffectsData(a *Action) []any {
	out := make([]any, len(a.Effects))
	for i, e := range a.Effects {
		out[i] = map[string]any{"kind": string(e.Kind), "from": string(e.From), "name": e.Name, "aspect": e.Aspect}
	}
	return out
}
