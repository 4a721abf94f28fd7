package decision_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

// FuzzDecide feeds agent-controlled values (agent id, claims, params, the
// action) through the shipped policies: Decide must not panic, and every
// decision must be coherent.
func FuzzDecide(f *testing.F) {
	f.Add("reader-bot", "users.list", `{"limit": 50, "q": "smith"}`, `{}`, int64(0))
	f.Add("helpdesk-bot", "user_lifecycle.deactivate", `{"userId": "00u1"}`, `{"sub": "x", "aud": ["a"]}`, int64(1795000000))
	f.Add("", "users.delete", `{"body": {"profile": {"a": [1, null, {"b": 2.5}]}}}`, `{"n": 1e308}`, int64(-1))
	f.Add("provisioner-bot\x00", "groups.list", `{"": ""}`, `null`, int64(253402300799))
	e, err := decision.New(f.Context(), decision.WithLogger(discard))
	if err != nil {
		f.Fatal(err)
	}
	actions := catalog.Actions()
	f.Fuzz(func(t *testing.T, agent, actionName, params, claims string, unix int64) {
		a, ok := catalog.Lookup(actionName)
		if !ok {
			a = actions[len(actionName)%len(actions)]
		}
		in := decision.Input{
			Agent:  decision.Agent{ID: agent, AuthMethod: "jwt"},
			Action: a,
			Time:   time.Unix(unix, 0),
		}
		_ = json.Unmarshal([]byte(params), &in.Params)
		_ = json.Unmarshal([]byte(claims), &in.Agent.Claims)
		d := e.Decide(t.Context(), in)
		if d.Allow != (len(d.Deny) == 0) {
			t.Fatalf("Allow %v with reasons %v", d.Allow, d.Deny)
		}
		for _, r := range d.Deny {
			if r.Code == "" || r.Message == "" {
				t.Fatalf("reason %+v has an empty field", r)
			}
		}
		if d.Allow && agent != "reader-bot" && agent != "helpdesk-bot" && agent != "provisioner-bot" {
			t.Fatalf("unknown agent %q allowed", agent)
		}
		if d.Obligations.RequireConfirmation != a.Destructive {
			t.Fatalf("RequireConfirmation %v for %s", d.Obligations.RequireConfirmation, a.Name)
		}
	})
}
