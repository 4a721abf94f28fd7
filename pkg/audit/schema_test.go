package audit

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(SchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestRecordsMatchSchema(t *testing.T) {
	sch := compileSchema(t)
	var out tooltest.Buffer
	l := newTestLogger(t, WithStdout(&out), WithClock(func() time.Time { return testTime }))
	records := map[string]*Record{
		"allowed":         sampleRecord(),
		"empty":           {},
		"unauthenticated": {Action: "users.get", Result: "unauthenticated", Latency: 3 * time.Microsecond},
		"denied": {AgentID: "reader-bot", AuthMethod: "key", Action: "users.delete", Area: "users", Access: "manage",
			Destructive: true, Resource: map[string]string{"userId": "00u1"}, Params: map[string]any{"userId": "00u1"},
			Result: "denied", DenyCodes: []string{"outside_business_hours", "not_granted"}, DecisionID: "d", PolicyRevision: "r",
			DenyReasons: []Reason{{Code: "outside_business_hours", Message: `only "Monday" 08:00`}, {Code: "not_granted", Message: "m\n"}}},
		"dry run with shadow": {AgentID: "new-bot", Action: "users.delete", Result: "ok", DecisionID: "d",
			DenyCodes: []string{"impact_limit"}, DryRun: true,
			Context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 5, "day": 9}}},
			Shadow:  &Shadow{Revision: "cand", Allow: true, DenyCodes: []string{}, Differs: true}},
		"confirmation": {Kind: KindConfirmation, DecisionID: "d", AgentID: "helpdesk-bot", AuthMethod: "key", Front: "mcp",
			Action: "user_lifecycle.deactivate", Area: "user_lifecycle", Access: "manage", Destructive: true,
			Resource: map[string]string{"userId": "00u1"}, Params: map[string]any{"userId": "00u1"},
			Result: "decline", Detail: map[string]any{"response": "decline", "waited_ms": 1200}},
		"approval": {Kind: KindApproval, DecisionID: "d", AgentID: "provisioner-bot", Action: "users.delete", Result: "ok",
			Detail: map[string]any{"rpc": "Approve", "attempt": "a1", "approval_id": "ap_1",
				"approver": map[string]any{"subject": "00uANN", "email": "ann@example.com"}, "vote": "approve",
				"comment": "ticket 42", "state": "approved", "approvals_given": 1, "approvals_needed": 1, "refusal": ""}},
		"masked path": {Params: map[string]any{"body": map[string]any{"profile": map[string]any{"mobilePhone": "1"}}},
			Mask: []string{"body.profile.mobilePhone"}, Result: "okta_not_found", OktaStatus: 404, OktaRequestID: "x"},
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range records {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		if err := l.Write(t.Context(), records[name]); err != nil {
			t.Fatal(err)
		}
	}
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	for i, line := range lines {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s record does not match the schema: %v\n%s", names[i], err, line)
		}
	}

	// The schema is strict enough to catch a record that is not one of ours.
	var rec map[string]any
	json.Unmarshal(lines[0], &rec)
	rec["extra"] = 1
	if err := sch.Validate(rec); err == nil {
		t.Error("a record with an unknown member passed the schema")
	}
}

// The schema lists the members the encoder writes, in the same order.
func TestSchemaListsEveryMember(t *testing.T) {
	var out tooltest.Buffer
	l := newTestLogger(t, WithStdout(&out))
	l.Write(t.Context(), sampleRecord())
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	dec.Token() // {
	var written []string
	for dec.More() {
		k, _ := dec.Token()
		written = append(written, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	var schema struct{ Required []string }
	json.Unmarshal(Schema(), &schema)
	if !slices.Equal(written, schema.Required) {
		t.Errorf("written members:\n%s\nschema's required:\n%s", strings.Join(written, " "), strings.Join(schema.Required, " "))
	}
}
