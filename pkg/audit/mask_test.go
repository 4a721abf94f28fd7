package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// written returns the params of the one record l wrote to out.
func writtenParams(t *testing.T, params map[string]any, mask ...string) (map[string]any, *Logger) {
	t.Helper()
	var out syncBuffer
	l := newTestLogger(t, WithStdout(&out))
	if err := l.Write(t.Context(), &Record{Time: testTime, Params: params, Mask: mask}); err != nil {
		t.Fatal(err)
	}
	recs := decodeLines(t, out.Bytes())
	return recs[0]["params"].(map[string]any), l
}

func TestMaskBuiltInFields(t *testing.T) {
	for _, key := range append(sensitiveKeys, "PASSWORD", "CLIENTSECRET", "apikey") {
		t.Run(key, func(t *testing.T) {
			params := map[string]any{"body": map[string]any{"x": []any{map[string]any{key: "s3cret"}}}}
			got, l := writtenParams(t, params)
			v := got["body"].(map[string]any)["x"].([]any)[0].(map[string]any)[key]
			if v != l.MaskValue("s3cret") {
				t.Errorf("%s = %v, want %s", key, v, l.MaskValue("s3cret"))
			}
		})
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		mask   []string
		path   []string // where to look in the written params
		want   any      // the value in clear that must be masked, or maskNot
	}{
		{"password value", map[string]any{"body": map[string]any{"credentials": map[string]any{"password": map[string]any{"value": "hunter2"}}}},
			nil, []string{"body", "credentials", "password", "value"}, "hunter2"},
		{"password hash value", map[string]any{"body": map[string]any{"credentials": map[string]any{"password": map[string]any{
			"hash": map[string]any{"algorithm": "BCRYPT", "value": "$2a$10$abc"}}}}},
			nil, []string{"body", "credentials", "password", "hash", "value"}, "$2a$10$abc"},
		{"password string", map[string]any{"body": map[string]any{"password": "hunter2"}}, nil, []string{"body", "password"}, "hunter2"},
		{"recovery answer", map[string]any{"body": map[string]any{"credentials": map[string]any{"recovery_question": map[string]any{"question": "pet?", "answer": "Rex"}}}},
			nil, []string{"body", "credentials", "recovery_question", "answer"}, "Rex"},
		{"secret object masked whole", map[string]any{"body": map[string]any{"settings": map[string]any{"clientSecret": map[string]any{"a": 1.0, "b": "x"}}}},
			nil, []string{"body", "settings", "clientSecret"}, map[string]any{"b": "x", "a": 1.0}},
		{"number", map[string]any{"body": map[string]any{"passCode": 123456.0}}, nil, []string{"body", "passCode"}, 123456.0},
		{"mask path", map[string]any{"body": map[string]any{"profile": map[string]any{"mobilePhone": "+1 555", "firstName": "Ada"}}},
			[]string{"body.profile.mobilePhone"}, []string{"body", "profile", "mobilePhone"}, "+1 555"},
		{"mask path with params prefix", map[string]any{"body": map[string]any{"profile": map[string]any{"mobilePhone": "+1 555"}}},
			[]string{"params.body.profile.MobilePhone"}, []string{"body", "profile", "mobilePhone"}, "+1 555"},
		{"mask path through an array", map[string]any{"body": map[string]any{"items": []any{map[string]any{"ssn": "123"}}}},
			[]string{"body.items.ssn"}, []string{"body", "items", "0", "ssn"}, "123"},
		{"mask path whole object", map[string]any{"body": map[string]any{"profile": map[string]any{"a": "b"}}},
			[]string{"body.profile"}, []string{"body", "profile"}, map[string]any{"a": "b"}},
		{"kept: value outside password", map[string]any{"body": map[string]any{"value": "v"}}, nil, []string{"body", "value"}, maskNot{"v"}},
		{"kept: password hook", map[string]any{"body": map[string]any{"password": map[string]any{"hook": map[string]any{"type": "default"}}}},
			nil, []string{"body", "password", "hook", "type"}, maskNot{"default"}},
		{"kept: similar name", map[string]any{"tokenLifetimeSeconds": 60.0}, nil, []string{"tokenLifetimeSeconds"}, maskNot{60.0}},
		{"kept: null password", map[string]any{"password": nil}, nil, []string{"password"}, maskNot{nil}},
		{"kept: other field", map[string]any{"body": map[string]any{"profile": map[string]any{"firstName": "Ada"}}},
			[]string{"body.profile.mobilePhone"}, []string{"body", "profile", "firstName"}, maskNot{"Ada"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := deepCopy(t, tc.params)
			got, l := writtenParams(t, tc.params, tc.mask...)
			v := lookup(t, got, tc.path)
			if keep, ok := tc.want.(maskNot); ok {
				if !reflect.DeepEqual(v, keep.v) {
					t.Errorf("%v = %#v, want %#v in clear", tc.path, v, keep.v)
				}
			} else if s, _ := v.(string); s != l.MaskValue(tc.want) || !strings.HasPrefix(s, maskPrefix) {
				t.Errorf("%v = %#v, want MaskValue(%#v) = %s", tc.path, v, tc.want, l.MaskValue(tc.want))
			}
			if !reflect.DeepEqual(tc.params, before) {
				t.Errorf("the caller's params changed:\n%#v\nwas\n%#v", tc.params, before)
			}
		})
	}
}

type maskNot struct{ v any }

func lookup(t *testing.T, v any, path []string) any {
	t.Helper()
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			v = x[0]
		default:
			t.Fatalf("no %s in %#v", p, v)
		}
	}
	return v
}

func deepCopy(t *testing.T, m map[string]any) map[string]any {
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	json.Unmarshal(raw, &out)
	return out
}

func TestMaskValueDependsOnKey(t *testing.T) {
	a := newTestLogger(t, WithStdout(&bytes.Buffer{}))
	b := newTestLogger(t, WithStdout(&bytes.Buffer{}), WithHMACKey([]byte("another key, also 32 bytes long!")))
	if a.MaskValue("x") == b.MaskValue("x") || a.MaskValue("x") == a.MaskValue("y") {
		t.Error("masked values do not depend on the key and the value")
	}
	// An object's HMAC does not depend on the order its keys came in.
	if a.MaskValue(map[string]any{"a": 1, "b": 2}) != a.MaskValue(map[string]any{"b": 2.0, "a": 1.0}) {
		t.Error("MaskValue of the same object differs")
	}
}

func TestCanonicalJSON(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{1e21, `1e+21`}, {1e20, `100000000000000000000`}, {1e-7, `1e-7`}, {0.000001, `0.000001`},
		{math.Copysign(0, -1), `0`}, {123.456, `123.456`}, {-5.0, `-5`}, {math.NaN(), `null`},
		{"a\"b\\c\n\t\x01</>", `"a\"b\\c\n\t\u0001</>"`}, {"bad\xffutf8", `"bad\ufffdutf8"`}, {"é😀", `"é😀"`},
		{json.Number("12345678901234567890"), `12345678901234567000`}, {json.Number("42"), `42`},
		{map[string]any{"b": 1, "a": []any{true, nil}, "\U0001F600": 1, "\uE000": 2}, `{"a":[true,null],"b":1,"😀":1,"` + "\uE000" + `":2}`},
		{struct {
			A string `json:"a"`
		}{"x"}, `{"a":"x"}`},
		{map[string]string{"z": "1", "y": "2"}, `{"y":"2","z":"1"}`},
	} {
		if got := string(appendValue(nil, tc.in, maskCtx{})); got != tc.want {
			t.Errorf("%#v → %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzAppendValue checks that any parameters an agent can send encode to
// valid JSON that decodes to the same value.
func FuzzAppendValue(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2.5,"x",null,true]}`, `{"password":{"value":"p"}}`, `{"k\u2028":"\ud83d\ude00"}`, `{"n":1e300}`} {
		f.Add(s)
	}
	m := newMasker(testKey)
	f.Fuzz(func(t *testing.T, s string) {
		var v map[string]any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		var back map[string]any
		if err := json.Unmarshal(appendValue(nil, v, maskCtx{}), &back); err != nil {
			t.Fatalf("invalid JSON for %s: %v", s, err)
		}
		if !reflect.DeepEqual(back, v) {
			t.Fatalf("round trip of %s: %#v", s, back)
		}
		masked := appendValue(nil, v, maskCtx{m: m, paths: [][]string{{"a", "b"}}})
		if !json.Valid(masked) {
			t.Fatalf("invalid masked JSON for %s: %s", s, masked)
		}
	})
}
