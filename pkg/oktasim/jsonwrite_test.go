package oktasim

import (
	"bytes"
	"encoding/json"
	"testing"
)

// stdJSON is what encoding/json writes with HTML escaping off, the output
// writeJSON must reproduce byte for byte.
func stdJSON(t testing.TB, v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	tests := map[string]any{
		"plain":        "alice@example.com",
		"html":         `<a href="x?a=1&b=2">`,
		"controls":     "tab\tnl\ncr\rbs\bff\f\x00\x1f\x7f",
		"quotes":       `say "hi" \ bye`,
		"unicode":      "Zoë — 日本 \u2028 \u2029",
		"invalid utf8": "a\xffb\xc3",
		"map":          map[string]any{"z": 1.5, "a": nil, "m": []any{"x", true, json.Number("12")}, "e": map[string]any{}},
		"nil map":      map[string]any(nil),
		"nil slice":    []any(nil),
		"empty slice":  []any{},
		"nested":       []any{map[string]any{"k\n": []any{}}},
		"strings":      []string{"a", "b"},
		"int":          -42,
		"bool":         false,
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := encodeJSON(v)
			if err != nil {
				t.Fatal(err)
			}
			if want := stdJSON(t, v); string(got) != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
	t.Run("obj keeps its order", func(t *testing.T) {
		o := obj{{"z", 1}, {"a", obj{{"y", []obj{{{"k", "v"}}}}, {"b", []obj(nil)}}}, {"m", map[string]any{"b": obj{}, "a": 2}}}
		got, _ := encodeJSON(o)
		if want := `{"z":1,"a":{"y":[{"k":"v"}],"b":null},"m":{"a":2,"b":{}}}`; string(got) != want {
			t.Errorf("got %s", got)
		}
	})
}

func FuzzWriteString(f *testing.F) {
	for _, s := range []string{"", "abc", "\x00\u2028\xff", `"\`, "日本\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, _ := encodeJSON(s)
		if want := stdJSON(t, s); string(got) != want {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}
