package decision_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

func Example() {
	ctx := context.Background()
	// The embedded policies; decision.WithPolicyDir(dir) loads and watches a directory.
	e, err := decision.New(ctx, decision.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer e.Close()

	deactivate, _ := catalog.Lookup("user_lifecycle.deactivate")
	saturday := time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)
	for _, agent := range []string{"helpdesk-bot", "provisioner-bot"} {
		d := e.Decide(ctx, decision.Input{
			Agent:    decision.Agent{ID: agent, AuthMethod: "key"},
			Action:   deactivate,
			Resource: map[string]string{"userId": "00u1abcd"},
			Params:   map[string]any{"userId": "00u1abcd"},
			Time:     saturday,
			// What the sidecar adds: recent destructive actions of this
			// agent, and what the call changes as Okta describes it.
			Context: map[string]any{
				"counts": map[string]any{"destructive": map[string]any{"hour": 0, "day": 0}},
				"target": map[string]any{"resolved": true, "apps": []any{}, "policies": []any{}, "groups": []any{},
					"users": []any{map[string]any{"id": "00u1abcd", "resolved": true, "groups": []any{}, "admin_roles": []any{}}}},
			},
		})
		fmt.Println(agent, d.Allow, d.Deny, d.Obligations.RequireConfirmation)
	}
	// Output:
	// helpdesk-bot true [] true
	// provisioner-bot false [{not_granted agent "provisioner-bot" is not granted manage access to area "user_lifecycle"} {outside_business_hours destructive actions are allowed only on Monday, Tuesday, Wednesday, Thursday, Friday, 08:00 to 18:00 America/New_York}] true
}

func ExampleEngine_Explain() {
	ctx := context.Background()
	e, err := decision.New(ctx, decision.WithPolicyDir("testdata/explain"), decision.WithWatch(false),
		decision.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer e.Close()

	del, _ := catalog.Lookup("users.delete")
	d, hits := e.Explain(ctx, decision.Input{Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: del})
	fmt.Println("allow:", d.Allow)
	for _, h := range hits {
		fmt.Println(h.Location, h.Rule)
	}
	// Output:
	// allow: false
	// grants.rego:3 data.bollard.grants.level
	// grants.rego:14 data.bollard.grants.message
	// authz.rego:14 data.bollard.authz.reasons
	// authz.rego:7 data.bollard.authz.confirm
	// authz.rego:12 data.bollard.authz.decision
}
