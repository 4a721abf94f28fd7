package gateway

import (
	"maps"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	sim "github.com/bollard-dev/bollard/pkg/oktasim"
)

// The sample data protects the seed admin, the Okta Admins group, the
// default sign-on policy and an app id standing for Bollard's own; the
// other protected objects below are protected by what they hold.
const (
	protectedApp    = "0oaBOLLARDAPP0000g7"
	protectedPolicy = sim.SeedPolicySignOnDefault
)

// protectedObject is one way an object can be protected, and how to make
// the simulator's org hold such an object.
type protectedObject struct {
	name  string
	kind  catalog.EffectKind
	setup func(t *testing.T, h *harness) string // returns the id (or session id) to name
	code  string
}

var protectedObjects = []protectedObject{
	{"listed user", catalog.EffectUser, func(*testing.T, *harness) string { return sim.SeedUserAdmin }, "protected_user"},
	{"user in a listed group", catalog.EffectUser, func(t *testing.T, h *harness) string {
		if err := h.sim.AddGroupMember(sim.SeedGroupOktaAdmins, sim.SeedUserAlice); err != nil {
			t.Fatal(err)
		}
		return sim.SeedUserAlice
	}, "protected_user"},
	{"user holding a listed role", catalog.EffectUser, func(t *testing.T, h *harness) string {
		if err := h.sim.AssignAdminRole(sim.SeedUserBob, sim.RoleSuperAdmin); err != nil {
			t.Fatal(err)
		}
		return sim.SeedUserBob
	}, "protected_user"},
	{"listed group", catalog.EffectGroup, func(*testing.T, *harness) string { return sim.SeedGroupOktaAdmins }, "protected_group"},
	{"group holding a listed role", catalog.EffectGroup, func(t *testing.T, h *harness) string {
		id, err := h.sim.AddGroup("Security Admins")
		if err != nil {
			t.Fatal(err)
		}
		if err := h.sim.AssignGroupAdminRole(id, sim.RoleSuperAdmin); err != nil {
			t.Fatal(err)
		}
		return id
	}, "protected_group"},
	{"listed app", catalog.EffectApp, func(*testing.T, *harness) string { return protectedApp }, "protected_app"},
	{"listed policy", catalog.EffectPolicy, func(*testing.T, *harness) string { return protectedPolicy }, "protected_policy"},
}

// withRef sets where an effect names its object in a copy of the call's
// parameters. A session names its user: the admin's session stands for a
// protected user.
func withRef(p map[string]any, e catalog.Effect, id string) map[string]any {
	out := maps.Clone(p)
	switch e.From {
	case catalog.FromPath:
		out[e.Name] = id
	case catalog.FromSession:
		out[e.Name] = sim.SeedSessionAdmin
	case catalog.FromBody:
		body := maps.Clone(out["body"].(map[string]any))
		out["body"] = body
		segs := strings.Split(e.Name, ".")
		cur := body
		for _, s := range segs[:len(segs)-1] {
			next, ok := cur[s].(map[string]any)
			if !ok {
				next = map[string]any{}
			}
			next = maps.Clone(next)
			cur[s] = next
			cur = next
		}
		last := segs[len(segs)-1]
		if last == "id" {
			cur[last] = id // one user
		} else {
			cur[last] = []any{id}
		}
	}
	return out
}

// TestProtectionByEffect is generated from the catalog: every manage
// action, for every kind of object it changes and every way such an object
// is protected, is refused before it reaches Okta, whatever the action and
// wherever the call names the object (path, body, session). admin-bot may
// manage every area, so nothing but protection stands in the way.
func TestProtectionByEffect(t *testing.T) {
	ran := 0
	for _, a := range catalog.Actions() {
		for _, e := range a.Effects {
			for _, po := range protectedObjects {
				if po.kind != e.Kind || (e.From == catalog.FromSession && po.name != "listed user") {
					continue
				}
				ran++
				t.Run(a.Name+"/"+e.Name+"/"+po.name, func(t *testing.T) {
					h := newHarness(t)
					p := withRef(validParams[a.Name], e, po.setup(t, h))
					_, err := h.client.Check(as(t.Context(), adminBotKey), &bollardv1.ExecuteRequest{Action: a.Name, Params: params(t, p)})
					if err != nil {
						t.Fatal(err)
					}
					_, err = h.client.Execute(as(t.Context(), adminBotKey), &bollardv1.ExecuteRequest{Action: a.Name, Params: params(t, p)})
					ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied)
					if !strings.Contains(ei.Metadata["deny_codes"], po.code) {
						t.Errorf("deny codes = %q, want %s", ei.Metadata["deny_codes"], po.code)
					}
					if reqs := h.actionRequests(); len(reqs) != 0 {
						t.Errorf("the call reached Okta: %v", reqs)
					}
				})
			}
		}
	}
	if ran < 60 {
		t.Errorf("only %d cases: the catalog's effects are not being read", ran)
	}
}

// TestFoundBySecurityReview replays the calls of the review that found
// protection covered four actions: each is refused now.
func TestFoundBySecurityReview(t *testing.T) {
	h := newHarness(t)
	ctx := as(t.Context(), devKey("provisioner-bot")) // users: manage, groups: manage
	calls := []struct {
		action string
		params map[string]any
		code   string
	}{
		{"users.create", map[string]any{"body": map[string]any{
			"profile":  map[string]any{"firstName": "Mallory", "lastName": "M", "email": "m@example.com", "login": "m@example.com"},
			"groupIds": []any{sim.SeedGroupOktaAdmins}}}, "protected_group"},
		{"users.update", map[string]any{"userId": sim.SeedUserAdmin, "body": map[string]any{"profile": map[string]any{"email": "mallory@example.com"}}}, "protected_user"},
		{"users.replace", map[string]any{"userId": sim.SeedUserAdmin, "body": map[string]any{"profile": map[string]any{"login": "mallory@example.com"}}}, "protected_user"},
		{"users.update", map[string]any{"userId": sim.SeedUserAdmin, "body": map[string]any{"credentials": map[string]any{"password": map[string]any{"value": "hunter2hunter2"}}}}, "protected_user"},
	}
	for _, c := range calls {
		_, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: c.action, Params: params(t, c.params)})
		ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied)
		if ei.Metadata["deny_codes"] != c.code {
			t.Errorf("%s: deny codes %q, want %s", c.action, ei.Metadata["deny_codes"], c.code)
		}
	}
	helpdesk := as(t.Context(), devKey("helpdesk-bot")) // sessions: manage, factors.unenroll allowed
	_, err := h.client.Execute(helpdesk, &bollardv1.ExecuteRequest{Action: "sessions.revoke", Params: params(t, map[string]any{"sessionId": sim.SeedSessionAdmin})})
	if ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied); ei.Metadata["deny_codes"] != "protected_user" {
		t.Errorf("revoking the admin's session: %v", ei.Metadata)
	}
	if reqs := h.actionRequests(); len(reqs) != 0 {
		t.Errorf("the review's calls reached Okta: %v", reqs)
	}
	if !h.sim.SessionActive(sim.SeedSessionAdmin) {
		t.Error("the admin's session was revoked")
	}
}
