package shape

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestApply(t *testing.T) {
	r, err := NewRemover([]string{"profile.mobilePhone", "credentials", "profile.address.street"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		// What is kept keeps Okta's order and bytes: the answer is copied,
		// not decoded and encoded again.
		{"object", `{"id":"00u1","profile":{"login":"a@x","mobilePhone":"+1 555"},"credentials":{"provider":{}}}`,
			`{"id":"00u1","profile":{"login":"a@x"}}`},
		{"list", `[{"id":"1","profile":{"mobilePhone":"1"}},{"id":"2","profile":{"mobilePhone":"2","email":"e"}},"x",null]`,
			`[{"id":"1","profile":{}},{"id":"2","profile":{"email":"e"}},"x",null]`},
		{"nested", `{"profile":{"address":{"street":"1 Main","city":"Oslo"}}}`, `{"profile":{"address":{"city":"Oslo"}}}`},
		// Nothing to remove: the answer keeps Okta's bytes (no re-encoding).
		{"absent and non-object parents are fine", `{"profile":"none","id":7}`, `{"profile":"none","id":7}`},
		{"nothing to remove keeps the bytes", `{ "id" : 7, "n": 1.50 }`, `{ "id" : 7, "n": 1.50 }`},
		// A key the byte search could miss is decoded: an escape, or case
		// folding beyond ASCII.
		{"escaped key", `{"profile":{"mobile\u0050hone":"1"},"b":2}`, `{"profile":{},"b":2}`},
		{"non-ASCII elsewhere", `{"b":"å","profile":{"MOBILEPHONE":"1"}}`, `{"b":"å","profile":{}}`},
		{"numbers keep their spelling", `{"n":12345678901234567890,"f":1.50,"profile":{"mobilePhone":"x"}}`, `{"n":12345678901234567890,"f":1.50,"profile":{}}`},
		{"html is not escaped", `{"a":"<b>&","profile":{}}`, `{"a":"<b>&","profile":{}}`},
		{"scalar answer unchanged", `"text"`, `"text"`},
		{"scalar answer keeps its bytes", " 1.50 \n", " 1.50 \n"},
		{"empty body unchanged", ``, ``},
		{"whitespace body unchanged", " \t\r\n", " \t\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Apply([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// Okta nests resources inside resources; a path hidden at the top must be
// hidden wherever the same shape of object turns up.
func TestApplyAtDepth(t *testing.T) {
	r, err := NewRemover([]string{"profile.mobilePhone", "credentials", "profile.address.street"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"app users with expand=user",
			`[{"id":"0ua1","scope":"USER","profile":{},"_embedded":{"user":{"id":"00u1","profile":{"login":"a@x","mobilePhone":"+1 555"},"credentials":{"provider":{"type":"OKTA"}}}},"_links":{"user":{"href":"h"}}},` +
				`{"id":"0ua2","_embedded":{"user":{"profile":{"mobilePhone":"+1 556","address":{"street":"s","zip":"z"}}}}}]`,
			`[{"id":"0ua1","scope":"USER","profile":{},"_embedded":{"user":{"id":"00u1","profile":{"login":"a@x"}}},"_links":{"user":{"href":"h"}}},` +
				`{"id":"0ua2","_embedded":{"user":{"profile":{"address":{"zip":"z"}}}}}]`},
		{"nested objects", `{"a":{"b":{"c":{"profile":{"mobilePhone":"1","x":2}}}}}`, `{"a":{"b":{"c":{"profile":{"x":2}}}}}`},
		{"arrays of arrays", `[[{"profile":{"mobilePhone":"1"}}],[[{"credentials":{},"k":[]}]],[]]`, `[[{"profile":{}}],[[{"k":[]}]],[]]`},
		{"arrays of objects inside objects", `{"items":[{"profile":{"mobilePhone":"1"}},{"x":[{"credentials":1}]}]}`, `{"items":[{"profile":{}},{"x":[{}]}]}`},
		{"object value that is the parent of the path", `{"data":{"profile":{"mobilePhone":"1","login":"l"}}}`, `{"data":{"profile":{"login":"l"}}}`},
		{"path inside its own parent", `{"profile":{"profile":{"mobilePhone":"1"},"mobilePhone":"2"}}`, `{"profile":{"profile":{}}}`},
		{"links", `{"_links":{"self":{"href":"h","credentials":"c"}}}`, `{"_links":{"self":{"href":"h"}}}`},
		{"events", `{"eventType":"user.account.update_profile","actor":{"id":"a","profile":{"mobilePhone":"9"}},` +
			`"target":[{"id":"00u1","type":"User","profile":{"mobilePhone":"1"}},{"id":"00g1","type":"UserGroup","detailEntry":{"credentials":"x"}}],` +
			`"debugContext":{"debugData":{"profile":{"mobilePhone":"3"}}}}`,
			`{"eventType":"user.account.update_profile","actor":{"id":"a","profile":{}},` +
				`"target":[{"id":"00u1","type":"User","profile":{}},{"id":"00g1","type":"UserGroup","detailEntry":{}}],"debugContext":{"debugData":{"profile":{}}}}`},
		{"path steps through arrays", `{"profile":[{"mobilePhone":"1","a":1},[{"mobilePhone":"2"}],"s"]}`, `{"profile":[{"a":1},[{}],"s"]}`},
		{"keys compare without regard to case", `{"Profile":{"MOBILEPHONE":"1","mobilephone":"2","mobilePhoneX":"3"},"CREDENTIALS":{}}`, `{"Profile":{"mobilePhoneX":"3"}}`},
		{"escaped key is the same key", `{"profile":{"mobile\u0050hone":"1"}}`, `{"profile":{}}`},
		{"duplicate keys: the last one is the one that stays", `{"profile":{"mobilePhone":"1"},"profile":{"mobilePhone":"2","a":1}}`, `{"profile":{"a":1}}`},
		{"hidden path under a hidden path", `{"credentials":{"profile":{"mobilePhone":"1"}},"x":{"credentials":[[1]]}}`, `{"x":{}}`},
		{"brackets inside strings are not nesting", `{"s":"` + strings.Repeat("[{", 200) + `"}`, `{"s":"` + strings.Repeat("[{", 200) + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Apply([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if p, found := findHidden(t, r, got); found {
				t.Errorf("%s still holds %s", got, p)
			}
		})
	}
}

func nest(open, close string, n int, inner string) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

func TestApplyDepthLimit(t *testing.T) {
	r, _ := NewRemover([]string{"profile.mobilePhone"})
	ok := []string{
		nest("[", "]", MaxDepth, ""),
		nest(`{"a":`, "}", MaxDepth, "1"),
		nest(`{"a":`, "}", MaxDepth-1, `{}`),
	}
	for _, in := range ok {
		if _, err := r.Apply([]byte(in)); err != nil {
			t.Errorf("%d levels: %v", MaxDepth, err)
		}
	}
	tooDeep := []string{
		nest("[", "]", MaxDepth+1, ""),
		nest(`{"a":`, "}", MaxDepth+1, "1"),
		nest("[", "]", 1_000_000, ""),
		nest("[", "", 1_000_000, ""), // not even JSON; the limit still answers first
		// Depth is a property of the answer, not of what survives it.
		`{"credentials":` + nest("[", "]", MaxDepth, "") + `}`,
	}
	for _, in := range tooDeep {
		if _, err := r.Apply([]byte(in)); err == nil {
			t.Errorf("Apply accepted an answer nested deeper than %d", MaxDepth)
		}
	}
	// An empty Remover does not read the body at all.
	deep := []byte(nest("[", "]", MaxDepth+1, ""))
	if got, err := (Remover{}).Apply(deep); err != nil || !bytes.Equal(got, deep) {
		t.Errorf("empty Remover: %v", err)
	}
}

func TestApplyBadJSON(t *testing.T) {
	r, _ := NewRemover([]string{"profile.mobilePhone"})
	for _, in := range []string{`{"a":`, `{} {}`, `[1,]`, `0}`, `{"a":1}}`, `[`, "\u00a0", `{"a":"\"}`, `1 2`, `{},`, "\ufeff{}"} {
		if _, err := r.Apply([]byte(in)); err == nil {
			t.Errorf("Apply(%q) succeeded; an answer that cannot be shaped must not pass unshaped", in)
		}
	}
}

func TestEmptyRemoverPassesThrough(t *testing.T) {
	for _, body := range []string{`{"b":1, "a":2}`, `not json`, ``} {
		got, err := Remover{}.Apply([]byte(body))
		if err != nil || string(got) != body {
			t.Fatalf("got %s, %v; want the body untouched", got, err)
		}
	}
}

func TestFromObligation(t *testing.T) {
	if r, err := FromObligation(nil, false); err != nil || !r.Empty() {
		t.Fatalf("absent: %v, %v", r, err)
	}
	if r, err := FromObligation([]any{"profile.mobilePhone"}, true); err != nil || r.Empty() {
		t.Fatalf("valid: %v, %v", r, err)
	}
	bad := []any{
		"profile.mobilePhone",
		[]any{1},
		[]any{""},
		[]any{"profile..x"},
		[]any{strings.Repeat("a", 300)},
		[]any{strings.Repeat("a.", 20) + "a"},
		make([]any, MaxFields+1),
		nil,
	}
	for _, v := range bad {
		if _, err := FromObligation(v, true); err == nil {
			t.Errorf("FromObligation(%v) accepted", v)
		}
	}
}

// decode reads exactly one JSON value the way the fuzz reference needs it:
// numbers as json.Number so that they compare by spelling.
func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one value")
	}
	return v, nil
}

// refClean is the reference the fuzz test holds Apply to. It is written
// independently of Apply: it builds a new value instead of editing one, and
// carries the unfinished remainders of the paths down the tree instead of
// using a trie. A key goes when some path, started at this object or at any
// object above it and followed through objects and arrays, ends on it.
func refClean(v any, paths, pending [][]string) any {
	switch x := v.(type) {
	case map[string]any:
		active := append(append([][]string{}, paths...), pending...)
		out := map[string]any{}
		for k, child := range x {
			var next [][]string
			drop := false
			for _, p := range active {
				if !strings.EqualFold(p[0], k) {
					continue
				}
				if len(p) == 1 {
					drop = true
					break
				}
				next = append(next, p[1:])
			}
			if !drop {
				out[k] = refClean(child, paths, next)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = refClean(e, paths, pending)
		}
		return out
	}
	return v
}

func refDepth(v any) int {
	d := 0
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			d = max(d, refDepth(c))
		}
	case []any:
		for _, c := range x {
			d = max(d, refDepth(c))
		}
	default:
		return 0
	}
	return d + 1
}

// findHidden reports a path that some object of body still holds.
func findHidden(t testing.TB, r Remover, body []byte) (string, bool) {
	t.Helper()
	v, err := decode(body)
	if err != nil {
		t.Fatalf("output %q is not JSON: %v", body, err)
	}
	var holds func(v any, p []string) bool
	holds = func(v any, p []string) bool {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if strings.EqualFold(k, p[0]) && (len(p) == 1 || holds(c, p[1:])) {
					return true
				}
			}
		case []any:
			for _, c := range x {
				if holds(c, p) {
					return true
				}
			}
		}
		return false
	}
	var walk func(v any) (string, bool)
	walk = func(v any) (string, bool) {
		switch x := v.(type) {
		case map[string]any:
			for _, p := range r.names {
				if holds(x, strings.Split(p, ".")) {
					return p, true
				}
			}
			for _, c := range x {
				if p, ok := walk(c); ok {
					return p, ok
				}
			}
		case []any:
			for _, c := range x {
				if p, ok := walk(c); ok {
					return p, ok
				}
			}
		}
		return "", false
	}
	return walk(v)
}

func isJSONSpace(s string) bool {
	return strings.Trim(s, " \t\r\n") == ""
}

func FuzzApply(f *testing.F) {
	seeds := []struct{ in, paths string }{
		{`[{"profile":{"mobilePhone":"1"}}]`, "profile.mobilePhone"},
		{`{"profile":{"mobilePhone":{"x":[1,2]}}}`, "profile.mobilePhone"},
		{`{"a":1e400}`, "profile.mobilePhone"},
		{`[{"id":"0ua1","_embedded":{"user":{"profile":{"mobilePhone":"1","login":"l"},"credentials":{}}}}]`, "profile.mobilePhone,credentials"},
		{`{"target":[{"profile":{"mobilePhone":"1"}},[{"Profile":{"MOBILEPHONE":2}}]],"actor":{"profile":{"x":1}}}`, "profile.mobilePhone"},
		{`{"profile":{"profile":{"mobilePhone":"1"}},"a":{"b":{"profile":[{"mobilePhone":1}]}}}`, "profile.mobilePhone"},
		{`{"a":{"b":{"c":1,"d":{"c":2}}},"c":{"a":{"b":{"c":3}}}}`, "a.b.c,c"},
		{`{"profile":{"mobile\u0050hone":"1"},"profile":{"mobilePhone":"2","k":"<&>"}}`, "profile.mobilePhone"},
		{nest(`{"a":`, "}", 127, `{"profile":{"mobilePhone":1}}`), "profile.mobilePhone"},
		{`"x"`, "a"},
		{" ", "a"},
	}
	for _, s := range seeds {
		f.Add(s.in, s.paths)
	}
	f.Fuzz(func(t *testing.T, in, paths string) {
		r, err := NewRemover(strings.Split(paths, ","))
		if err != nil {
			return
		}
		out, err := r.Apply([]byte(in))
		if isJSONSpace(in) {
			if err != nil || string(out) != in {
				t.Fatalf("Apply(%q) = %q, %v; want the body untouched", in, out, err)
			}
			return
		}
		want, werr := decode([]byte(in))
		if werr != nil || refDepth(want) > MaxDepth {
			if err == nil {
				t.Fatalf("Apply(%q) = %q; want an error (%v, depth %d)", in, out, werr, refDepth(want))
			}
			return
		}
		if err != nil {
			t.Fatalf("Apply(%q): %v", in, err)
		}
		got, gerr := decode(out)
		if gerr != nil {
			t.Fatalf("Apply(%q) = %q, not JSON: %v", in, out, gerr)
		}
		if p, found := findHidden(t, r, out); found {
			t.Fatalf("Apply(%q) = %q still holds %s", in, out, p)
		}
		if want = refClean(want, r.paths, nil); !reflect.DeepEqual(got, want) {
			t.Fatalf("Apply(%q) = %q\nwant %#v", in, out, want)
		}
	})
}

func BenchmarkApplyUserPage(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 200 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"id":"00u1abcdEFGH2345","status":"ACTIVE","profile":{"login":"a@example.com","email":"a@example.com","firstName":"A","lastName":"B","mobilePhone":"+1 555 0100"},"_links":{"self":{"href":"https://example.okta.com/api/v1/users/00u1"}}}`)
	}
	sb.WriteString("]")
	body := []byte(sb.String())
	r, _ := NewRemover([]string{"profile.mobilePhone"})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Apply(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyNothingToRemove is a page of groups shaped by a policy that
// hides a user attribute: nothing in it to remove.
func BenchmarkApplyNothingToRemove(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 200 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`{"id":"00g1abcdEFGH2345","type":"OKTA_GROUP","profile":{"name":"Support","description":"First-line support"},"_links":{"users":{"href":"https://example.okta.com/api/v1/groups/00g1/users"}}}`)
	}
	sb.WriteString("]")
	body := []byte(sb.String())
	r, _ := NewRemover([]string{"profile.mobilePhone"})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Apply(body); err != nil {
			b.Fatal(err)
		}
	}
}
