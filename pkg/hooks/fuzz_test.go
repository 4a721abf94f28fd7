package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// FuzzParseDelivery checks that any body is either refused with a reason
// or yields events whose uuid and type are the ones an agent reads in Raw.
// The seed corpus (testdata/fuzz/FuzzParseDelivery and the adds below)
// runs in every go test.
func FuzzParseDelivery(f *testing.F) {
	body, err := os.ReadFile("testdata/delivery.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body)
	f.Add(envelope())
	f.Add(envelope(ev("u-1", "user.lifecycle.create"), ev("u-2", "group.user_membership.add")))
	f.Add([]byte(`{"eventType":"com.okta.event_hook","data":{"events":{"uuid":"a"}}}`))
	f.Add([]byte(`[{"eventType":"com.okta.event_hook"}]`))
	const maxEvents = 5
	f.Fuzz(func(t *testing.T, body []byte) {
		id, events, err := parseDelivery(body, maxEvents)
		if err != nil {
			var pe *parseError
			if !errors.As(err, &pe) || pe.reason == "" || pe.msg == "" || events != nil {
				t.Fatalf("err = %v, events = %v: want a parseError with a reason, and no events", err, events)
			}
			if bytes.Contains(body, []byte(pe.msg)) && len(pe.msg) > 40 {
				t.Errorf("message %q may quote the body", pe.msg)
			}
			return
		}
		if len(events) > maxEvents {
			t.Fatalf("%d events, cap %d", len(events), maxEvents)
		}
		if id != "" && !token(id, maxUUIDLen) {
			t.Errorf("delivery id %q is not a token", id)
		}
		for i, e := range events {
			if !token(e.UUID, maxUUIDLen) || !token(e.Type, maxTypeLen) {
				t.Errorf("event %d: uuid %q, type %q", i, e.UUID, e.Type)
			}
			if !json.Valid(e.Raw) || !bytes.Contains(body, e.Raw) {
				t.Errorf("event %d: Raw %q is not a piece of the body", i, e.Raw)
			}
			// A reader of Raw that walks its keys, exact and the last of
			// repeats, sees the same uuid and type.
			if u := lastString(t, e.Raw, "uuid"); u != e.UUID {
				t.Errorf("event %d: Raw has uuid %q, UUID %q", i, u, e.UUID)
			}
			if typ := lastString(t, e.Raw, "eventType"); typ != e.Type {
				t.Errorf("event %d: Raw has eventType %q, Type %q", i, typ, e.Type)
			}
		}
	})
}

// lastString walks the top-level keys of the object raw with a token
// decoder, an oracle independent of the parser's maps, and returns the last
// string value of key.
func lastString(t *testing.T, raw []byte, key string) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("Raw %q is not an object", raw)
	}
	var last string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if k == key {
			s, _ := v.(string)
			last = s
		}
	}
	return last
}
