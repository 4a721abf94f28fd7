package shape

import (
	"encoding/json"
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
		{"object", `{"id":"00u1","profile":{"login":"a@x","mobilePhone":"+1 555"},"credentials":{"provider":{}}}`,
			`{"id":"00u1","profile":{"login":"a@x"}}`},
		{"list", `[{"id":"1","profile":{"mobilePhone":"1"}},{"id":"2","profile":{"mobilePhone":"2","email":"e"}},"x",null]`,
			`[{"id":"1","profile":{}},{"id":"2","profile":{"email":"e"}},"x",null]`},
		{"nested", `{"profile":{"address":{"street":"1 Main","city":"Oslo"}}}`, `{"profile":{"address":{"city":"Oslo"}}}`},
		{"absent and non-object parents are fine", `{"profile":"none","id":7}`, `{"id":7,"profile":"none"}`},
		{"numbers keep their spelling", `{"n":12345678901234567890,"f":1.50,"profile":{"mobilePhone":"x"}}`, `{"f":1.50,"n":12345678901234567890,"profile":{}}`},
		{"html is not escaped", `{"a":"<b>&","profile":{}}`, `{"a":"<b>&","profile":{}}`},
		{"scalar answer unchanged", `"text"`, `"text"`},
		{"empty body unchanged", ``, ``},
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

func TestApplyBadJSON(t *testing.T) {
	r, _ := NewRemover([]string{"profile.mobilePhone"})
	for _, in := range []string{`{"a":`, `{} {}`, `[1,]`, `0}`} {
		if _, err := r.Apply([]byte(in)); err == nil {
			t.Errorf("Apply(%q) succeeded; an answer that cannot be shaped must not pass unshaped", in)
		}
	}
}

func TestEmptyRemoverPassesThrough(t *testing.T) {
	body := []byte(`{"b":1, "a":2}`)
	got, err := Remover{}.Apply(body)
	if err != nil || string(got) != string(body) {
		t.Fatalf("got %s, %v; want the body untouched", got, err)
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

func FuzzApply(f *testing.F) {
	f.Add(`[{"profile":{"mobilePhone":"1"}}]`)
	f.Add(`{"profile":{"mobilePhone":{"x":[1,2]}}}`)
	f.Add(`{"a":1e400}`)
	r, _ := NewRemover([]string{"profile.mobilePhone"})
	f.Fuzz(func(t *testing.T, in string) {
		out, err := r.Apply([]byte(in))
		if err != nil {
			return
		}
		if !json.Valid(out) && len(strings.TrimSpace(in)) > 0 {
			t.Fatalf("Apply(%q) = %q, not JSON", in, out)
		}
		if strings.Contains(in, "mobilePhone") && strings.Contains(string(out), `"profile":{"mobilePhone"`) {
			t.Fatalf("Apply(%q) left the field: %q", in, out)
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
