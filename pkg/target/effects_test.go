package target_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/target"
)

func bindParams(t *testing.T, action string, params map[string]any) *catalog.Call {
	t.Helper()
	call, err := catalog.Bind(action, params)
	if err != nil {
		t.Fatal(err)
	}
	return call
}

// ids lists the "id" of each entry of one kind.
func ids(t *testing.T, f map[string]any, kind string) []string {
	t.Helper()
	var out []string
	for _, e := range f[kind].([]any) {
		out = append(out, e.(map[string]any)["id"].(string))
	}
	return out
}

// TestFactsFollowEffects checks, for calls that name users, groups,
// sessions, apps and policies in their paths and bodies, that every object
// the catalog says the action changes is in the facts, with what Okta knows
// of it.
func TestFactsFollowEffects(t *testing.T) {
	e := newEnv(t, nil)
	r := e.resolver(t)
	tests := []struct {
		action string
		params map[string]any
		users  []string
		groups []string
		apps   []string
		pols   []string
	}{
		{"groups.add_member", map[string]any{"groupId": oktasim.SeedGroupOktaAdmins, "userId": oktasim.SeedUserAlice},
			[]string{oktasim.SeedUserAlice}, []string{oktasim.SeedGroupOktaAdmins}, nil, nil},
		{"users.create", map[string]any{"body": map[string]any{"profile": map[string]any{"login": "n@example.com"},
			"groupIds": []any{oktasim.SeedGroupEngineering, oktasim.SeedGroupOktaAdmins, oktasim.SeedGroupEngineering}}},
			nil, []string{oktasim.SeedGroupEngineering, oktasim.SeedGroupOktaAdmins}, nil, nil},
		{"users.create", map[string]any{"body": map[string]any{"profile": map[string]any{"login": "n@example.com"}}}, nil, nil, nil, nil},
		{"app_assignments.assign", map[string]any{"appId": oktasim.SeedAppPortal, "body": map[string]any{"id": oktasim.SeedUserAdmin}},
			[]string{oktasim.SeedUserAdmin}, nil, []string{oktasim.SeedAppPortal}, nil},
		{"sessions.revoke", map[string]any{"sessionId": oktasim.SeedSessionAdmin}, []string{oktasim.SeedUserAdmin}, nil, nil, nil},
		{"policies.replace", map[string]any{"policyId": oktasim.SeedPolicySignOnContractors, "body": map[string]any{
			"conditions": map[string]any{"people": map[string]any{"groups": map[string]any{"exclude": []any{oktasim.SeedGroupOktaAdmins}}}}}},
			nil, []string{oktasim.SeedGroupOktaAdmins}, nil, []string{oktasim.SeedPolicySignOnContractors}},
		{"apps.delete", map[string]any{"appId": oktasim.SeedAppLegacyWiki}, nil, nil, []string{oktasim.SeedAppLegacyWiki}, nil},
		{"factors.enroll", map[string]any{"userId": oktasim.SeedUserAdmin, "body": map[string]any{"factorType": "sms"}},
			[]string{oktasim.SeedUserAdmin}, nil, nil, nil},
		{"groups.create", map[string]any{"body": map[string]any{"profile": map[string]any{"name": "x"}}}, nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			f := facts(t, r, bindParams(t, tt.action, tt.params))
			if f["resolved"] != true {
				t.Fatalf("facts = %v, want resolved", f)
			}
			for kind, want := range map[string][]string{"users": tt.users, "groups": tt.groups, "apps": tt.apps, "policies": tt.pols} {
				if got := ids(t, f, kind); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v", kind, got, want)
				}
			}
		})
	}
	admins := facts(t, r, bindParams(t, "groups.add_member", map[string]any{"groupId": oktasim.SeedGroupOktaAdmins, "userId": oktasim.SeedUserAlice}))
	if g := admins["groups"].([]any)[0].(map[string]any); !reflect.DeepEqual(g["admin_roles"], []any{oktasim.RoleOrgAdmin}) || g["from"] != "path" || g["name"] != "groupId" {
		t.Errorf("Okta Admins = %v, want the ORG_ADMIN role it holds", g)
	}
	revoke := facts(t, r, bindParams(t, "sessions.revoke", map[string]any{"sessionId": oktasim.SeedSessionAdmin}))
	u := user(t, revoke)
	if u["session"] != oktasim.SeedSessionAdmin || u["from"] != "session" || !reflect.DeepEqual(u["admin_roles"], []any{oktasim.RoleSuperAdmin, oktasim.RoleOrgAdmin}) {
		t.Errorf("the session's user = %v", u)
	}
	assign := facts(t, r, bindParams(t, "app_assignments.assign", map[string]any{"appId": oktasim.SeedAppPortal, "body": map[string]any{"id": oktasim.SeedUserAdmin}}))
	if _, ok := assign["user"]; ok {
		t.Errorf("a user named in the body is context.target.user: %v", assign)
	}
	for _, req := range e.sim.Requests() {
		if req.Method != http.MethodGet || !strings.HasSuffix(req.UserAgent, "decision/dec-1 lookup") {
			t.Errorf("lookup %s %s with User-Agent %q", req.Method, req.Path, req.UserAgent)
		}
	}
}

// TestNeeds: a lookup is needed exactly when a manage call names a user, a
// group or a session; every read, and every call naming only apps and
// policies or nothing, decides without Okta.
func TestNeeds(t *testing.T) {
	for _, a := range catalog.Actions() {
		if a.Access == catalog.Read && target.Needs(&catalog.Call{Action: a}) {
			t.Errorf("%s: a read needs a lookup", a.Name)
		}
	}
	tests := []struct {
		action string
		params map[string]any
		want   bool
	}{
		{"user_lifecycle.suspend", map[string]any{"userId": oktasim.SeedUserAlice}, true},
		{"users.update", map[string]any{"userId": oktasim.SeedUserAlice, "body": map[string]any{}}, true},
		{"groups.replace", map[string]any{"groupId": oktasim.SeedGroupSupport, "body": map[string]any{}}, true},
		{"sessions.refresh", map[string]any{"sessionId": oktasim.SeedSessionAlice}, true},
		{"users.create", map[string]any{"body": map[string]any{"groupIds": []any{oktasim.SeedGroupSupport}}}, true},
		{"users.create", map[string]any{"body": map[string]any{"profile": map[string]any{}}}, false},
		{"users.create", map[string]any{"body": map[string]any{"groupIds": []any{}}}, false},
		{"apps.deactivate", map[string]any{"appId": oktasim.SeedAppGitHub}, false},
		{"policies.delete", map[string]any{"policyId": oktasim.SeedPolicySignOnContractors}, false},
		{"policies.create", map[string]any{"body": map[string]any{"type": "OKTA_SIGN_ON"}}, false},
		{"groups.create", map[string]any{"body": map[string]any{}}, false},
	}
	for _, tt := range tests {
		if got := target.Needs(bindParams(t, tt.action, tt.params)); got != tt.want {
			t.Errorf("Needs(%s %v) = %v, want %v", tt.action, tt.params, got, tt.want)
		}
	}
}

// TestFactsRefusesUnusableReferences: ids Bollard cannot follow leave the
// target unresolved without a single request to Okta.
func TestFactsRefusesUnusableReferences(t *testing.T) {
	many := make([]any, target.MaxObjects+1)
	for i := range many {
		many[i] = fmt.Sprintf("00gMANY%013dg7", i)
	}
	tests := []struct {
		name   string
		action string
		params map[string]any
		reason string
	}{
		{"group ids not strings", "users.create", map[string]any{"body": map[string]any{"groupIds": []any{7}}}, "invalid_reference"},
		{"group ids an object", "users.create", map[string]any{"body": map[string]any{"groupIds": map[string]any{"a": "b"}}}, "invalid_reference"},
		{"people not an object", "policies.create", map[string]any{"body": map[string]any{"conditions": map[string]any{"people": "everyone"}}}, "invalid_reference"},
		{"too many groups", "users.create", map[string]any{"body": map[string]any{"groupIds": many}}, "too_many_objects"},
		{"a dot segment", "users.create", map[string]any{"body": map[string]any{"groupIds": []any{".."}}}, "invalid_reference"},
		{"an empty id", "app_assignments.assign", map[string]any{"appId": oktasim.SeedAppPortal, "body": map[string]any{"id": ""}}, "invalid_reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			f := facts(t, e.resolver(t), bindParams(t, tt.action, tt.params))
			if f["resolved"] != false {
				t.Fatalf("facts = %v, want unresolved", f)
			}
			found := false
			for _, kind := range []string{"users", "groups"} {
				for _, x := range f[kind].([]any) {
					if x.(map[string]any)["reason"] == tt.reason {
						found = true
					}
				}
			}
			if !found && tt.reason != "invalid_reference" {
				t.Errorf("no entry with reason %s: %v", tt.reason, f)
			}
			if n := len(e.sim.Requests()); n != 0 {
				t.Errorf("%d requests to Okta", n)
			}
		})
	}
}

// TestFactsSpendTheAgentsBudget: every lookup request is taken from the
// agent's budget first; when the budget refuses, the lookups stop and Facts
// says so, so the call fails instead of being decided on partial facts.
func TestFactsSpendTheAgentsBudget(t *testing.T) {
	e := newEnv(t, nil)
	r := e.resolver(t)
	var spent atomic.Int64
	call := bindParams(t, "users.create", map[string]any{"body": map[string]any{
		"groupIds": []any{oktasim.SeedGroupEngineering, oktasim.SeedGroupSupport, oktasim.SeedGroupOktaAdmins}}})
	f, err := r.Facts(t.Context(), call, target.Lookup{DecisionID: "dec-b", Spend: func() error { spent.Add(1); return nil }})
	if err != nil || f["resolved"] != true {
		t.Fatalf("Facts = %v, %v", f, err)
	}
	if n := int64(len(e.sim.Requests())); n != 3 || spent.Load() != n {
		t.Errorf("spent %d for %d requests, want one per request (3)", spent.Load(), n)
	}

	spent.Store(0)
	errSpent := errors.New("budget spent")
	before := len(e.sim.Requests())
	_, err = r.Facts(t.Context(), bindParams(t, "user_lifecycle.suspend", map[string]any{"userId": oktasim.SeedLoginAlice}),
		target.Lookup{DecisionID: "dec-c", Spend: func() error {
			if spent.Add(1) > 1 {
				return errSpent
			}
			return nil
		}})
	if !errors.Is(err, errSpent) {
		t.Fatalf("Facts = %v, want the budget's error", err)
	}
	if n := len(e.sim.Requests()) - before; n != 1 {
		t.Errorf("%d requests after the budget refused, want only the one it allowed", n)
	}
}
