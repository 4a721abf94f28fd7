package hooks

import (
	"reflect"
	"testing"
)

func TestEventObjectDecodedOnce(t *testing.T) {
	ev := &Event{UUID: "e1", Raw: []byte(`{"uuid":"e1","target":[{"id":"00u1"}]}`)}
	a, err := ev.Object()
	if err != nil || a["uuid"] != "e1" {
		t.Fatalf("Object = %v, %v", a, err)
	}
	b, _ := ev.Object()
	if reflect.ValueOf(a).Pointer() != reflect.ValueOf(b).Pointer() {
		t.Error("the event was decoded again for a second subscriber")
	}
	if _, err := (&Event{UUID: "bad", Raw: []byte(`{"uuid":`)}).Object(); err == nil {
		t.Error("a broken event decoded")
	}
}
