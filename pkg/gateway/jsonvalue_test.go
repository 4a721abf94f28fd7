package gateway

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// FuzzJSONValue: whatever Okta sends, the agent gets what protojson would
// have made of it, error for error.
func FuzzJSONValue(f *testing.F) {
	for _, s := range jsonSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want, got structpb.Value
		werr := protojson.Unmarshal(data, &want)
		gerr := jsonValue(data, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: protojson %v, jsonValue %v", data, werr, gerr)
		}
		if werr == nil && !proto.Equal(&want, &got) {
			t.Fatalf("%q: protojson %v, jsonValue %v", data, &want, &got)
		}
	})
}

// jsonSeeds are the fuzz tests' first inputs: Okta's shapes, every JSON
// token, and what the fast readers hand to protojson.
func jsonSeeds() []string {
	many := make([]string, 40)
	for i := range many {
		many[i] = fmt.Sprintf(`"k%d":%d`, i, i)
	}
	return []string{
		`{"id":"00u1","status":"ACTIVE","profile":{"login":"a@x","n":1.5e3,"ok":true,"none":null},"l":[1,-2,0.5,[],{}]}`,
		`[]`, `{}`, `"x"`, `12`, `-0`, `1e400`, `01`, `1.`, `{"a":1,"a":2}`, `{"a":1}{}`, `[1,]`, `{"a" 1}`,
		`{"s":"caf\u00e9"}`, `{"s":"é"}`, "{\"s\":\"a\tb\"}", ` [ 1 , 2 ] `, `tru`, `nul`, `{"a":[` + strings.Repeat("[", 50) + strings.Repeat("]", 50) + `]}`,
		`{"long":"` + strings.Repeat("x", 300) + `","n":[` + strings.Repeat(`{"a":"`+strings.Repeat("y", 200)+`"},`, 100) + `{}]}`,
		"{" + strings.Join(many, ",") + "}", "{" + strings.Join(many, ",") + `,"k39":0}`, "{" + strings.Join(many, ",") + `,"k3":0}`,
		`false`, `true`, `null`, `-1.5E-3`,
	}
}

func BenchmarkJSONValue(b *testing.B) {
	body := []byte(`{"id":"00u1abcdEFGH2345","status":"ACTIVE","created":"2026-01-01T00:00:00.000Z","profile":{"login":"a@example.com","email":"a@example.com","firstName":"A","lastName":"B","mobilePhone":null},"credentials":{"provider":{"type":"OKTA","name":"OKTA"}},"_links":{"self":{"href":"https://example.okta.com/api/v1/users/00u1"}}}`)
	for _, c := range []struct {
		name  string
		parse func([]byte, *structpb.Value) error
	}{{"protojson", func(d []byte, v *structpb.Value) error { return protojson.Unmarshal(d, v) }}, {"jsonValue", jsonValue}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var v structpb.Value
				if err := c.parse(body, &v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzValueWire: the wire form written straight from Okta's JSON decodes
// to the Value protojson makes of it, error for error.
func FuzzValueWire(f *testing.F) {
	for _, s := range jsonSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want structpb.Value
		werr := protojson.Unmarshal(data, &want)
		wire, gerr := appendValueField([]byte("prefix"), 7, data)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: protojson %v, appendValueField %v", data, werr, gerr)
		}
		if werr != nil {
			return
		}
		if !bytes.HasPrefix(wire, []byte("prefix")) {
			t.Fatalf("%q: what was before the field was changed: %q", data, wire)
		}
		num, typ, n := protowire.ConsumeTag(wire[len("prefix"):])
		if n < 0 || num != 7 || typ != protowire.BytesType {
			t.Fatalf("%q: field tag %d %d %d", data, num, typ, n)
		}
		body, m := protowire.ConsumeBytes(wire[len("prefix")+n:])
		if m < 0 || len("prefix")+n+m != len(wire) {
			t.Fatalf("%q: field length %d of %d bytes", data, m, len(wire))
		}
		var got structpb.Value
		if err := proto.Unmarshal(body, &got); err != nil {
			t.Fatalf("%q: the wire form does not decode: %v", data, err)
		}
		if !proto.Equal(&want, &got) {
			t.Fatalf("%q: protojson %v, wire %v", data, &want, &got)
		}
	})
}
