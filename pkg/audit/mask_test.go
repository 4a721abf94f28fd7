package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// written returns the params of the one record l wrote to out.
func writtenParams(t *testing.T, params map[string]any, mask ...string) (map[string]any, *Logger) {
	t.Helper()
	var out tooltest.Buffer
	l := newTestLogger(t, WithStdout(&out))
	if err := l.Write(t.Context(), &Record{Time: testTime, Params: params, Mask: mask}); err != nil {
		t.Fatal(err)
	}
	recs := decodeLines(t, out.Bytes())
	return recs[0]["params"].(map[string]any), l
}

// written returns the one record l wrote for r, decoded.
func written(t *testing.T, r *Record) (map[string]any, *Logger) {
	t.Helper()
	var out tooltest.Buffer
	l := newTestLogger(t, WithStdout(&out))
	if r.Time.IsZero() {
		r.Time = testTime
	}
	if err := l.Write(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	return decodeLines(t, out.Bytes())[0], l
}

// spellings are the ways a camelCase name may be written: as is, in upper
// case, snake_case (Okta's client_secret), kebab-case, dotted, spaced.
func spellings(name string) []string {
	var words []string
	start := 0
	for i := 1; i < len(name); i++ {
		if 'A' <= name[i] && name[i] <= 'Z' {
			words = append(words, name[start:i])
			start = i
		}
	}
	words = append(words, name[start:])
	return []string{name, strings.ToUpper(name), strings.ToLower(strings.Join(words, "_")),
		strings.Join(words, "-"), strings.ToUpper(strings.Join(words, ".")), strings.Join(words, " ")}
}

func TestMaskBuiltInFields(t *testing.T) {
	for _, name := range sensitiveKeys {
		for _, key := range spellings(name) {
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
}

func TestSensitiveKeyMatching(t *testing.T) {
	for key, want := range map[string]bool{
		"client_secret": true, "clientSecret": true, "Client-Secret": true, "CLIENT.SECRET": true, "client secret": true,
		"__token__": true, "session_id": true, "external-session-id": true,
		"\u017fecret": true, "api\u212aey": true, // the long s and the Kelvin sign fold to s and k, as in strings.EqualFold
		"tokenLifetimeSeconds": false, "passwordChanged": false, "password_changed": false, "secrets": false,
		"userId": false, "sessionIdle": false, "client_id": false, "token_endpoint_auth_method": false,
		"p\u00e4ssword": false, "pass\x00word": false, "": false, "ot": false,
		strings.Repeat("_", 200) + "token": false, // longer than any name with its separators: not read
	} {
		if got := isSensitiveKey(key); got != want {
			t.Errorf("isSensitiveKey(%q) = %v, want %v", key, got, want)
		}
	}
}

// TestMaskByShape covers the rules that look at more than a key: the
// private members of a JWK, the id of a session object, URLs that carry
// a secret.
func TestMaskByShape(t *testing.T) {
	jwk := map[string]any{"kty": "RSA", "kid": "k1", "e": "AQAB", "n": "modulus", "d": "priv", "p": "p1", "q": "q1", "dp": "x", "dq": "y", "qi": "z"}
	params := map[string]any{"body": map[string]any{
		"jwks":    map[string]any{"keys": []any{jwk, map[string]any{"kty": "oct", "k": "hmac-key"}}},
		"point":   map[string]any{"d": "kept", "q": "kept"},
		"target":  []any{map[string]any{"type": "Session", "id": "102sess", "displayName": "Ada"}, map[string]any{"type": "User", "id": "00u1"}},
		"links":   []any{"https://x.okta.com/api/v1/sessions/102sess/lifecycle/refresh", "/welcome/XE6wE17", "https://x/login?fromURI=%2Fapp&stateToken=abc", "https://x/qr/00fuk#frag"},
		"kept":    []any{"/api/v1/users/00u1/sessions", "/api/v1/sessions/", "https://x/login?fromURI=/app", "https://wiki.example.com/welcome", "not/sessions/a-url"},
		"strings": []string{"/api/v1/sessions/102sess"},
	}}
	got, l := writtenParams(t, params)
	body := got["body"].(map[string]any)
	keys := body["jwks"].(map[string]any)["keys"].([]any)
	for _, k := range []string{"d", "p", "q", "dp", "dq", "qi"} {
		if v := keys[0].(map[string]any)[k]; v != l.MaskValue(jwk[k]) {
			t.Errorf("JWK %s = %v, want it masked", k, v)
		}
	}
	if v := keys[1].(map[string]any)["k"]; v != l.MaskValue("hmac-key") {
		t.Errorf("symmetric JWK k = %v, want it masked", v)
	}
	if k := keys[0].(map[string]any); k["n"] != "modulus" || k["e"] != "AQAB" || k["kid"] != "k1" {
		t.Errorf("public JWK members changed: %v", k)
	}
	if p := body["point"].(map[string]any); p["d"] != "kept" || p["q"] != "kept" {
		t.Errorf("d and q outside a key were masked: %v", p)
	}
	targets := body["target"].([]any)
	if s := targets[0].(map[string]any); s["id"] != l.MaskValue("102sess") || s["displayName"] != "Ada" {
		t.Errorf("session target = %v, want its id masked only", s)
	}
	if u := targets[1].(map[string]any); u["id"] != "00u1" {
		t.Errorf("user target = %v, want its id in clear", u)
	}
	for i, v := range body["links"].([]any) {
		if want := l.MaskValue(params["body"].(map[string]any)["links"].([]any)[i]); v != want {
			t.Errorf("links[%d] = %v, want it masked", i, v)
		}
	}
	for i, v := range body["kept"].([]any) {
		if want := params["body"].(map[string]any)["kept"].([]any)[i]; v != want {
			t.Errorf("kept[%d] = %v, want %v in clear", i, v, want)
		}
	}
	if v := body["strings"].([]any)[0]; v != l.MaskValue("/api/v1/sessions/102sess") {
		t.Errorf("a []string element = %v, want it masked", v)
	}
}

// TestMaskSecretResource checks that a secret path parameter (a session
// id) is masked in resource with the same HMAC as in params, and wherever
// its value recurs: the target facts (pkg/target names a session's user
// with it, and an unresolved one by it), URLs, a reason's message. Other
// ids stay in clear.
func TestMaskSecretResource(t *testing.T) {
	const session = "102ALICEsession00000000g7"
	rec, l := written(t, &Record{
		Action:   "sessions.revoke",
		Resource: map[string]string{"sessionId": session, "userId": "00u1"},
		Params:   map[string]any{"sessionId": session, "userId": "00u1"},
		Context: map[string]any{"target": map[string]any{
			"users": []any{map[string]any{"id": session, "from": "session", "name": "sessionId", "resolved": false}},
			"user":  map[string]any{"id": "00u1", "from": "session", "name": "sessionId", "session": session},
			"links": []any{"https://x.okta.com/api/v1/sessions/" + session, "see " + session + " for details"},
		}, "groupId": "00g1"},
		DenyReasons: []Reason{{Code: "protected_user", Message: "session " + session + " belongs to a protected user"}, {Code: "x", Message: "user 00u1"}},
	})
	masked := l.MaskValue(session)
	res := rec["resource"].(map[string]any)
	if res["sessionId"] != masked || res["userId"] != "00u1" {
		t.Errorf("resource = %v, want sessionId %s and userId in clear", res, masked)
	}
	if p := rec["params"].(map[string]any); p["sessionId"] != masked || p["userId"] != "00u1" {
		t.Errorf("params = %v, want sessionId %s and userId in clear", p, masked)
	}
	tgt := rec["context"].(map[string]any)["target"].(map[string]any)
	if u := tgt["users"].([]any)[0].(map[string]any); u["id"] != masked || u["name"] != "sessionId" {
		t.Errorf("unresolved session user = %v, want its id masked", u)
	}
	if u := tgt["user"].(map[string]any); u["session"] != masked || u["id"] != "00u1" {
		t.Errorf("session user = %v, want session masked and id in clear", u)
	}
	for i, v := range tgt["links"].([]any) {
		if s, _ := v.(string); !strings.HasPrefix(s, maskPrefix) {
			t.Errorf("links[%d] = %v, want it masked", i, v)
		}
	}
	if g := rec["context"].(map[string]any)["groupId"]; g != "00g1" {
		t.Errorf("context groupId = %v, want it in clear", g)
	}
	reasons := rec["deny_reasons"].([]any)
	if m := reasons[0].(map[string]any)["message"]; m != l.MaskValue("session "+session+" belongs to a protected user") {
		t.Errorf("message = %v, want it masked", m)
	}
	if m := reasons[1].(map[string]any)["message"]; m != "user 00u1" {
		t.Errorf("message = %v, want it in clear", m)
	}

	// A short value is masked where it is the whole string, not inside
	// others: it would hide too much.
	rec, l = written(t, &Record{Resource: map[string]string{"sessionId": "abc"},
		Context: map[string]any{"a": "abc", "b": "xabcx"}})
	if c := rec["context"].(map[string]any); c["a"] != l.MaskValue("abc") || c["b"] != "xabcx" {
		t.Errorf("context = %v", c)
	}
}

// TestMaskContext checks that the context, which holds facts taken from
// Okta's answers, is masked by the same rules as params.
func TestMaskContext(t *testing.T) {
	rec, l := written(t, &Record{Context: map[string]any{"target": map[string]any{
		"reply": map[string]any{"activationToken": "XE6", "activationUrl": "https://x/welcome/XE6", "status": "PROVISIONED"},
	}}})
	a := rec["context"].(map[string]any)["target"].(map[string]any)["reply"].(map[string]any)
	if a["activationToken"] != l.MaskValue("XE6") || a["activationUrl"] != l.MaskValue("https://x/welcome/XE6") || a["status"] != "PROVISIONED" {
		t.Errorf("context answer = %v", a)
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

// TestMaskingIsDocumented keeps docs/audit.md's list of masked keys in step
// with sensitiveKeys.
func TestMaskingIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## Masking")
	section, _, _ = strings.Cut(section, "\n## ")
	for _, name := range append(slices.Clone(sensitiveKeys), jwkPrivate...) {
		if !strings.Contains(section, "`"+name+"`") {
			t.Errorf("docs/audit.md's Masking section does not list `%s`", name)
		}
	}
}

// TestMaskedParamsAsTheRecord: what MaskedParams shows a person is
// byte for byte what the record of the same call holds: credentials, mask
// paths and secret path parameters masked, the rest as sent.
func TestMaskedParamsAsTheRecord(t *testing.T) {
	params := map[string]any{"sessionId": "102abc", "body": map[string]any{
		"credentials": map[string]any{"password": map[string]any{"value": "hunter2"}},
		"profile":     map[string]any{"mobilePhone": "+1 555 0100", "login": "ann@example.com"}}}
	resource := map[string]string{"sessionId": "102abc"}
	mask := []string{"body.profile.mobilePhone"}
	rec, l := written(t, &Record{Params: params, Resource: resource, Mask: mask})
	var shown any
	if err := json.Unmarshal(l.MaskedParams(params, resource, mask), &shown); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shown, rec["params"]) {
		t.Fatalf("shown %v\nrecord %v", shown, rec["params"])
	}
	raw := string(l.MaskedParams(params, resource, mask))
	for _, secret := range []string{"hunter2", "+1 555 0100", "102abc"} {
		if strings.Contains(raw, secret) {
			t.Errorf("%q shown: %s", secret, raw)
		}
	}
	if !strings.Contains(raw, "ann@example.com") {
		t.Errorf("the login is hidden: %s", raw)
	}
}
