package oktasim

import (
	"bytes"
	"strings"
	"time"
)

// obj is a JSON object that keeps its keys in the order they were added.
// Okta emits id, status and timestamps first; a map would sort them
// alphabetically and make responses harder to compare with Okta's docs.
type obj []kv

type kv struct {
	k string
	v any
}

// MarshalJSON writes the fields in order.
func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, o); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// get returns the value of key k.
func (o obj) get(k string) (any, bool) {
	for _, f := range o {
		if f.k == k {
			return f.v, true
		}
	}
	return nil, false
}

// encodeJSON marshals without HTML escaping: Okta sends '&' and '<' as is,
// and hrefs with query strings would otherwise come out as \u0026.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeJSON(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// oktaTime is Okta's timestamp format: UTC with milliseconds and a Z.
const oktaTime = "2006-01-02T15:04:05.000Z"

func ts(t time.Time) string { return t.UTC().Format(oktaTime) }

// tsOrNull renders an optional timestamp, null when unset.
func tsOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ts(t)
}

func href(url string) obj { return obj{{"href", url}} }

func hrefMethod(url, method string) obj { return obj{{"href", url}, {"method", method}} }

func hrefHints(url string, allow ...string) obj {
	return obj{{"href", url}, {"hints", obj{{"allow", allow}}}}
}

// The request bodies the simulator accepts are decoded into generic JSON
// (numbers kept as json.Number so that they round-trip exactly). The helpers
// below read them without panicking on unexpected types.

func getMap(m map[string]any, key string) (map[string]any, bool) {
	v, ok := m[key].(map[string]any)
	return v, ok
}

func getString(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func blank(m map[string]any, key string) bool {
	return strings.TrimSpace(getString(m, key)) == ""
}

// cloneMap copies a generic JSON object deeply enough that the copy can be
// changed without touching the original.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneMap(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = cloneValue(x[i])
		}
		return out
	default:
		return v
	}
}

// mapOr returns m, or an empty object when m is nil, because Okta renders an
// absent profile or settings block as {} rather than null.
func mapOr(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// lookupPath resolves a dotted attribute path ("profile.login", "target.id")
// in a rendered object. Arrays fan out, so "target.id" yields the id of every
// target; filter expressions match when any value matches.
func lookupPath(v any, path []string) []any {
	if len(path) == 0 {
		return []any{v}
	}
	switch x := v.(type) {
	case obj:
		if next, ok := x.get(path[0]); ok {
			return lookupPath(next, path[1:])
		}
	case map[string]any:
		if next, ok := x[path[0]]; ok {
			return lookupPath(next, path[1:])
		}
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, lookupPath(e, path)...)
		}
		return out
	case []obj:
		var out []any
		for _, e := range x {
			out = append(out, lookupPath(e, path)...)
		}
		return out
	}
	return nil
}
