package decision_test

import (
	"testing"
	"testing/fstest"

	"github.com/bollard-dev/bollard/pkg/decision"
)

func TestDecideEventShippedPolicies(t *testing.T) {
	e, err := decision.New(t.Context(), decision.WithLogger(discard))
	if err != nil {
		t.Fatal(err)
	}
	membership := map[string]any{"uuid": "e1", "eventType": "group.user_membership.add", "target": []any{
		map[string]any{"id": "00uALIactive000000g7", "type": "User"},
		map[string]any{"id": "00gENGINEERING0000g7", "type": "UserGroup"},
	}}
	tests := []struct {
		agent, typ string
		allow      bool
		code       string
	}{
		{"reader-bot", "group.user_membership.add", true, ""},
		{"reader-bot", "policy.lifecycle.update", true, ""}, // unknown types: the System Log's area
		{"provisioner-bot", "group.user_membership.add", true, ""},
		{"provisioner-bot", "user.session.start", false, "not_granted"},
		{"helpdesk-bot", "user.account.update_profile", false, "event_filtered"},
		{"stranger", "group.user_membership.add", false, "not_granted"},
	}
	for _, tc := range tests {
		t.Run(tc.agent+"/"+tc.typ, func(t *testing.T) {
			d := e.DecideEvent(t.Context(), decision.EventInput{Agent: decision.Agent{ID: tc.agent, AuthMethod: "key"}, Type: tc.typ, UUID: "e1", Event: membership})
			if d.Allow != tc.allow || (tc.code != "" && (len(d.Deny) == 0 || d.Deny[0].Code != tc.code)) || d.ID == "" || d.Revision != e.Revision() {
				t.Errorf("decision = %+v", d)
			}
		})
	}
}

func TestDecideEventFailsClosed(t *testing.T) {
	call := "package bollard.authz\n\ndecision := {\"allow\": true, \"deny\": [], \"obligations\": {\"require_confirmation\": false}}\n"
	in := decision.EventInput{Agent: decision.Agent{ID: "a"}, Type: "user.lifecycle.create", UUID: "e1"}
	for name, tc := range map[string]struct {
		files fstest.MapFS
		code  string
	}{
		"no event rule": {fstest.MapFS{"authz.rego": {Data: []byte(call)}}, decision.CodeNoEventPolicy},
		"malformed answer": {fstest.MapFS{"authz.rego": {Data: []byte(call)},
			"events.rego": {Data: []byte("package bollard.events\n\ndecision := \"yes\"\n")}}, decision.CodePolicyError},
		"conflict": {fstest.MapFS{"authz.rego": {Data: []byte(call)},
			"events.rego": {Data: []byte("package bollard.events\n\ndecision := {\"allow\": true, \"deny\": [], \"obligations\": {\"require_confirmation\": false}} if input.event.type\n\ndecision := {\"allow\": false, \"deny\": [], \"obligations\": {\"require_confirmation\": false}} if input.event.uuid\n")}}, decision.CodePolicyError},
	} {
		t.Run(name, func(t *testing.T) {
			e, err := decision.New(t.Context(), decision.WithLogger(discard), decision.WithPolicyFS(tc.files))
			if err != nil {
				t.Fatal(err)
			}
			d := e.DecideEvent(t.Context(), in)
			if d.Allow || len(d.Deny) != 1 || d.Deny[0].Code != tc.code {
				t.Errorf("decision = %+v, want denied with %s", d, tc.code)
			}
		})
	}
	e, err := decision.New(t.Context(), decision.WithLogger(discard))
	if err != nil {
		t.Fatal(err)
	}
	if d := e.DecideEvent(t.Context(), decision.EventInput{Agent: decision.Agent{ID: "reader-bot"}}); d.Allow || d.Deny[0].Code != decision.CodePolicyError {
		t.Errorf("an event without a type: %+v", d)
	}
}

func BenchmarkDecideEvent(b *testing.B) {
	e, err := decision.New(b.Context(), decision.WithLogger(discard))
	if err != nil {
		b.Fatal(err)
	}
	in := decision.EventInput{Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Type: "user.lifecycle.create", UUID: "e1",
		Event: map[string]any{"uuid": "e1", "eventType": "user.lifecycle.create", "target": []any{map[string]any{"id": "00u1", "type": "User"}}}}
	b.ReportAllocs()
	for b.Loop() {
		if d := e.DecideEvent(b.Context(), in); !d.Allow {
			b.Fatal(d)
		}
	}
}
