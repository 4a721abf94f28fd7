package decision_test

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

func codes(d decision.Decision) []string {
	var out []string
	for _, r := range d.Deny {
		out = append(out, r.Code)
	}
	return out
}

// plainUser is a looked-up user in no group and with no admin role.
func plainUser() map[string]any {
	return map[string]any{"id": "00u1abcd", "resolved": true, "groups": []any{}, "admin_roles": []any{}}
}

// targetFor is input.context.target as pkg/target reports it for an
// action: one object of each kind its effects name, user standing for
// every user (docs/policy-contract.md).
func targetFor(a *catalog.Action, user map[string]any) map[string]any {
	t := map[string]any{"resolved": true, "users": []any{}, "groups": []any{}, "apps": []any{}, "policies": []any{}}
	for _, e := range a.Effects {
		switch e.Kind {
		case catalog.EffectUser:
			t["users"] = append(t["users"].([]any), user)
		case catalog.EffectGroup:
			t["groups"] = append(t["groups"].([]any), map[string]any{"id": "00g1abcd", "resolved": true, "admin_roles": []any{}})
		case catalog.EffectApp:
			t["apps"] = append(t["apps"].([]any), map[string]any{"id": "0oa1abcd"})
		case catalog.EffectPolicy:
			t["policies"] = append(t["policies"].([]any), map[string]any{"id": "00p1abcd"})
		}
	}
	return t
}

// callContext is input.context as the sidecar fills it for a call: counts
// of recent destructive actions, and for a manage action what it changes,
// looked up (plain objects, none of them protected).
func callContext(a *catalog.Action, hour, day int) map[string]any {
	c := map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": float64(hour), "day": float64(day)}}}
	if a.Access == catalog.Manage {
		c["target"] = targetFor(a, plainUser())
	}
	return c
}

// TestShippedPolicies runs the embedded policies through Decide. The
// library's rules are tested in depth beside them (policies/*_test.rego);
// these cases check that what the engine builds reaches them.
func TestShippedPolicies(t *testing.T) {
	e, _ := newEngine(t)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		agent     string
		action    string
		at        time.Time
		allow     bool
		codes     []string
		confirm   bool
		message   string // of the first reason, if set
		authn     string
		claims    map[string]any
		resources map[string]string
		context   map[string]any // replaces callContext
	}{
		{name: "reader reads users", agent: "reader-bot", action: "users.list", at: saturday, allow: true},
		{name: "reader cannot manage", agent: "reader-bot", action: "users.create", at: mondayNoon,
			codes: []string{"not_granted"}, message: `agent "reader-bot" is not granted manage access to area "users"`},
		{name: "manage implies read", agent: "helpdesk-bot", action: "sessions.get", at: saturday, allow: true},
		{name: "area without grant", agent: "helpdesk-bot", action: "apps.list", at: mondayNoon,
			codes: []string{"not_granted"}, message: `agent "helpdesk-bot" is not granted read access to area "apps"`},
		{name: "on-call agent deactivates on saturday", agent: "helpdesk-bot", action: "user_lifecycle.deactivate",
			at: saturday, allow: true, confirm: true, authn: "jwt", claims: map[string]any{"sub": "system:serviceaccount:it:helpdesk"},
			resources: map[string]string{"userId": "00u1"}},
		{name: "destructive in hours", agent: "provisioner-bot", action: "users.delete", at: mondayNoon, allow: true, confirm: true},
		{name: "destructive on saturday", agent: "provisioner-bot", action: "users.delete", at: saturday,
			codes: []string{"outside_business_hours"}, confirm: true},
		{name: "opening time", agent: "provisioner-bot", action: "users.delete",
			at: time.Date(2026, 11, 30, 8, 0, 0, 0, ny), allow: true, confirm: true},
		{name: "just before opening", agent: "provisioner-bot", action: "users.delete",
			at: time.Date(2026, 11, 30, 7, 59, 59, 0, ny), codes: []string{"outside_business_hours"}, confirm: true},
		{name: "just before closing", agent: "provisioner-bot", action: "users.delete",
			at: time.Date(2026, 11, 30, 17, 59, 59, 999, ny), allow: true, confirm: true},
		{name: "closing time", agent: "provisioner-bot", action: "users.delete",
			at: time.Date(2026, 11, 30, 18, 0, 0, 0, ny), codes: []string{"outside_business_hours"}, confirm: true},
		{name: "all reasons, sorted", agent: "reader-bot", action: "users.delete", at: saturday,
			codes: []string{"not_granted", "outside_business_hours"}, confirm: true},
		{name: "unknown agent", agent: "stranger", action: "users.list", at: mondayNoon,
			codes: []string{"not_granted"}, message: `agent "stranger" is not granted read access to area "users"`},
		{name: "empty agent id", agent: "", action: "users.list", at: mondayNoon, codes: []string{"not_granted"}},
		{name: "action on the deny list", agent: "provisioner-bot", action: "groups.delete", at: mondayNoon,
			codes: []string{"action_denied"}, confirm: true, resources: map[string]string{"groupId": "00g1"}},
		{name: "holiday", agent: "provisioner-bot", action: "users.delete",
			at: time.Date(2026, 11, 26, 12, 0, 0, 0, ny), codes: []string{"outside_business_hours"}, confirm: true},
		{name: "impact limit reached", agent: "provisioner-bot", action: "users.delete", at: mondayNoon,
			codes: []string{"impact_limit"}, confirm: true,
			context: callContext(action(t, "users.delete"), 5, 5)},
		{name: "target not resolved", agent: "provisioner-bot", action: "users.delete", at: mondayNoon,
			codes: []string{"target_unresolved"}, confirm: true,
			context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 0, "day": 0}},
				"target": map[string]any{"resolved": false, "users": []any{map[string]any{"id": "00u1abcd", "resolved": false, "groups": []any{}, "admin_roles": []any{}}},
					"groups": []any{}, "apps": []any{}, "policies": []any{}}}},
		{name: "protected admin", agent: "provisioner-bot", action: "users.delete", at: mondayNoon,
			codes: []string{"protected_user"}, confirm: true,
			context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 0, "day": 0}},
				"target": targetFor(action(t, "users.delete"), map[string]any{"id": "00u1abcd", "resolved": true, "groups": []any{}, "admin_roles": []any{"SUPER_ADMIN"}})}},
		{name: "profile change of a protected admin", agent: "provisioner-bot", action: "users.update", at: saturday,
			codes: []string{"protected_user"},
			context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 0, "day": 0}},
				"target": targetFor(action(t, "users.update"), map[string]any{"id": "00u1abcd", "resolved": true, "groups": []any{}, "admin_roles": []any{"ORG_ADMIN"}})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authn := tt.authn
			if authn == "" {
				authn = "key"
			}
			a := action(t, tt.action)
			res := tt.resources
			if res == nil && len(a.Effects) > 0 {
				res = map[string]string{"userId": "00u1abcd"}
			}
			ctx := tt.context
			if ctx == nil {
				ctx = callContext(a, 0, 0)
			}
			d := e.Decide(t.Context(), decision.Input{
				Agent:    decision.Agent{ID: tt.agent, AuthMethod: authn, Claims: tt.claims},
				Action:   a,
				Resource: res,
				Time:     tt.at,
				Context:  ctx,
			})
			if d.Allow != tt.allow {
				t.Errorf("Allow = %v, want %v (deny %v)", d.Allow, tt.allow, d.Deny)
			}
			if got := codes(d); !slices.Equal(got, tt.codes) {
				t.Errorf("deny codes = %v, want %v", got, tt.codes)
			}
			if tt.message != "" && (len(d.Deny) == 0 || d.Deny[0].Message != tt.message) {
				t.Errorf("deny = %v, want message %q", d.Deny, tt.message)
			}
			if d.Obligations.RequireConfirmation != tt.confirm {
				t.Errorf("RequireConfirmation = %v, want %v", d.Obligations.RequireConfirmation, tt.confirm)
			}
		})
	}
}

// TestSampleAgents checks the demo agents' grants against every catalog
// action, so the sample grants and the catalog cannot drift apart. Only the
// grant reasons count here: other rules (protected resources, read shaping)
// may deny a call that the grants allow.
func TestSampleAgents(t *testing.T) {
	e, _ := newEngine(t)
	allowActions := map[string][]string{"helpdesk-bot": {"factors.unenroll"}}
	denyActions := map[string][]string{"provisioner-bot": {"groups.delete"}}
	grants := map[string]map[string]catalog.Access{
		"reader-bot": {"users": "read", "user_lifecycle": "read", "groups": "read", "apps": "read",
			"app_assignments": "read", "sessions": "read", "policies": "read", "factors": "read", "logs": "read"},
		"helpdesk-bot": {"users": "read", "groups": "read", "factors": "read", "logs": "read",
			"user_lifecycle": "manage", "sessions": "manage"},
		"provisioner-bot": {"users": "manage", "groups": "manage", "app_assignments": "manage", "apps": "read"},
	}
	for agent, areas := range grants {
		for _, a := range catalog.Actions() {
			have, ok := areas[a.Area]
			want := ok && (have == catalog.Manage || a.Access == catalog.Read) || slices.Contains(allowActions[agent], a.Name)
			want = want && !slices.Contains(denyActions[agent], a.Name)
			d := e.Decide(t.Context(), decision.Input{Agent: decision.Agent{ID: agent, AuthMethod: "key"}, Action: a,
				Time: mondayNoon, Context: callContext(a, 0, 0)})
			got := !slices.ContainsFunc(d.Deny, func(r decision.Reason) bool { return r.Code == "not_granted" || r.Code == "action_denied" })
			if got != want || len(d.Deny) == 0 && !d.Allow {
				t.Errorf("%s %s: granted = %v, want %v (deny %v)", agent, a.Name, got, want, d.Deny)
			}
			if d.Obligations.RequireConfirmation != a.Destructive {
				t.Errorf("%s %s: RequireConfirmation = %v, want %v", agent, a.Name, d.Obligations.RequireConfirmation, a.Destructive)
			}
		}
	}
}

var uuidv7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestDecisionMetadata(t *testing.T) {
	e, _ := newEngine(t)
	in := decision.Input{Agent: decision.Agent{ID: "reader-bot", AuthMethod: "key"}, Action: action(t, "users.list")}
	seen := map[string]bool{}
	var prev string
	for range 100 {
		d := e.Decide(t.Context(), in)
		if !uuidv7.MatchString(d.ID) {
			t.Fatalf("ID %q is not a UUIDv7", d.ID)
		}
		if seen[d.ID] {
			t.Fatalf("ID %q repeated", d.ID)
		}
		seen[d.ID] = true
		// Millisecond timestamp prefix: ids never go backwards.
		if d.ID[:13] < prev {
			t.Fatalf("ID %q sorts before the previous %q", d.ID, prev)
		}
		prev = d.ID[:13]
		if d.Revision != e.Revision() || d.Revision == "" {
			t.Fatalf("Revision = %q, engine has %q", d.Revision, e.Revision())
		}
		if d.Duration <= 0 {
			t.Fatalf("Duration = %v", d.Duration)
		}
		if !d.Allow {
			t.Fatalf("reader-bot users.list denied: %v", d.Deny)
		}
	}
}
