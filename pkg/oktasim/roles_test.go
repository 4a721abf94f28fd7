package oktasim

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func TestListUserGroups(t *testing.T) {
	e := newEnv(t)
	bob := []string{SeedGroupEngineering, SeedGroupEveryone, SeedGroupSupport, SeedGroupSalesforceReps}
	slices.Sort(bob)
	tests := []struct {
		name, ref string
		want      []string
	}{
		{"by id", SeedUserBob, bob},
		{"by login", SeedLoginBob, bob},
		{"by short name", "bob.baker", bob},
		{"deactivated user keeps its groups", SeedUserHeidi, []string{SeedGroupEveryone, SeedGroupSupport}},
		{"admin", SeedUserAdmin, []string{SeedGroupEveryone, SeedGroupOktaAdmins}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.sim.Events())
			resp := e.do("GET", "/api/v1/users/"+url.PathEscape(tt.ref)+"/groups", nil).want(t, http.StatusOK)
			groups := resp.array(t)
			if got := ids(groups); !slices.Equal(got, tt.want) {
				t.Errorf("groups = %v, want %v", got, tt.want)
			}
			for _, g := range groups {
				if g["type"] == nil || g["profile"] == nil || g["_links"] == nil {
					t.Errorf("group lacks Okta's fields: %v", g)
				}
			}
			if _, ok := links(t, resp.header)["self"]; !ok {
				t.Errorf("no Link rel=self")
			}
			if resp.header.Get("X-Rate-Limit-Remaining") == "" {
				t.Errorf("no rate-limit headers")
			}
			if len(e.sim.Events()) != before {
				t.Errorf("a read recorded a System Log event")
			}
		})
	}
	t.Run("unknown user", func(t *testing.T) {
		e.do("GET", "/api/v1/users/00uNOSUCHUSER00000g7/groups", nil).wantError(t, http.StatusNotFound, CodeNotFound)
	})
}

func TestListUserGroupsPaginates(t *testing.T) {
	e := newEnv(t)
	want := []string{SeedGroupEveryone, SeedGroupEngineering}
	for i := range 250 {
		id, err := e.sim.AddGroup("Team "+strconv.Itoa(i), SeedUserAlice)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	slices.Sort(want)
	// The default page is Okta's 200; a larger limit is capped to it.
	all, pages := walk(t, e, "/api/v1/users/"+SeedUserAlice+"/groups?limit=500")
	if !slices.Equal(all, want) || pages != 2 {
		t.Fatalf("walked %d groups in %d pages, want %d in 2", len(all), pages, len(want))
	}
	all, pages = walk(t, e, "/api/v1/users/"+SeedUserAlice+"/groups?limit=100")
	if !slices.Equal(all, want) || pages != 3 {
		t.Fatalf("walked %d groups in %d pages, want %d in 3", len(all), pages, len(want))
	}
	// A cursor of another user's list is refused.
	next := links(t, e.do("GET", "/api/v1/users/"+SeedUserAlice+"/groups?limit=1", nil).want(t, 200).header)["next"]
	u, _ := url.Parse(next)
	e.do("GET", "/api/v1/users/"+SeedUserBob+"/groups?after="+url.QueryEscape(u.Query().Get("after")), nil).
		wantError(t, http.StatusBadRequest, CodeValidation)
}

func TestListUserRoles(t *testing.T) {
	e := newEnv(t)
	resp := e.do("GET", "/api/v1/users/"+SeedUserAdmin+"/roles", nil).want(t, http.StatusOK)
	roles := resp.array(t)
	if len(roles) != 2 {
		t.Fatalf("admin roles = %v, want SUPER_ADMIN and ORG_ADMIN", roles)
	}
	wantKeys := []string{"id", "label", "type", "status", "created", "lastUpdated", "assignmentType", "_links"}
	for _, r := range roles {
		for _, k := range wantKeys {
			if _, ok := r[k]; !ok {
				t.Errorf("role lacks %s: %v", k, r)
			}
		}
	}
	super, org := roles[0], roles[1]
	if str(super, "type") != RoleSuperAdmin || str(super, "label") != "Super Administrator" || str(super, "assignmentType") != "USER" ||
		str(super, "status") != "ACTIVE" || str(super, "_links", "assignee", "href") != e.srv.URL+"/api/v1/users/"+SeedUserAdmin {
		t.Errorf("direct role = %v", super)
	}
	if str(org, "type") != RoleOrgAdmin || str(org, "assignmentType") != "GROUP" ||
		str(org, "_links", "assignee", "href") != e.srv.URL+"/api/v1/groups/"+SeedGroupOktaAdmins {
		t.Errorf("group role = %v", org)
	}
	// Okta's own example: APP_ADMIN's assignment id.
	if roleID(RoleAppAdmin) != "IFIFAX2BIRGUSTQ" || roleID(RoleHelpDeskAdmin) != "JBCUYUC7IRCVGS27IFCE2SKO" {
		t.Errorf("role ids = %s, %s", roleID(RoleAppAdmin), roleID(RoleHelpDeskAdmin))
	}

	if got := e.do("GET", "/api/v1/users/"+SeedUserAlice+"/roles", nil).want(t, http.StatusOK); string(got.body) != "[]" {
		t.Errorf("a user without roles = %s, want []", got.body)
	}
	// Only an id names the user here.
	e.do("GET", "/api/v1/users/"+url.PathEscape(SeedLoginAdmin)+"/roles", nil).wantError(t, http.StatusNotFound, CodeNotFound)
	e.do("GET", "/api/v1/users/00uNOSUCHUSER00000g7/roles", nil).wantError(t, http.StatusNotFound, CodeNotFound)
}

func TestListGroupRoles(t *testing.T) {
	e := newEnv(t)
	roles := e.do("GET", "/api/v1/groups/"+SeedGroupOktaAdmins+"/roles", nil).want(t, http.StatusOK).array(t)
	if len(roles) != 1 || str(roles[0], "type") != RoleOrgAdmin || str(roles[0], "assignmentType") != "GROUP" ||
		str(roles[0], "_links", "assignee", "href") != e.srv.URL+"/api/v1/groups/"+SeedGroupOktaAdmins {
		t.Errorf("Okta Admins' roles = %v, want ORG_ADMIN assigned to the group", roles)
	}
	if got := e.do("GET", "/api/v1/groups/"+SeedGroupEngineering+"/roles", nil).want(t, http.StatusOK); string(got.body) != "[]" {
		t.Errorf("a group without roles = %s, want []", got.body)
	}
	if err := e.sim.AssignGroupAdminRole(SeedGroupSupport, RoleSuperAdmin); err != nil {
		t.Fatal(err)
	}
	roles = e.do("GET", "/api/v1/groups/"+SeedGroupSupport+"/roles", nil).want(t, http.StatusOK).array(t)
	if len(roles) != 1 || str(roles[0], "type") != RoleSuperAdmin {
		t.Errorf("Support's roles after assigning SUPER_ADMIN = %v", roles)
	}
	// Every member now holds it, as the user's own roles say.
	if got := e.sim.AdminRoles(SeedUserCarol); !slices.Contains(got, RoleSuperAdmin) {
		t.Errorf("Carol's roles = %v, want SUPER_ADMIN through Support", got)
	}
	if err := e.sim.AddGroupMember(SeedGroupSupport, SeedUserAlice); err != nil {
		t.Fatal(err)
	}
	if got := e.sim.AdminRoles(SeedUserAlice); !slices.Equal(got, []string{RoleSuperAdmin}) || !e.sim.IsGroupMember(SeedGroupSupport, SeedUserAlice) {
		t.Errorf("Alice's roles after joining Support = %v", got)
	}
	if e.sim.AddGroupMember("00gNOSUCHGROUP0000g7", SeedUserAlice) == nil || e.sim.AddGroupMember(SeedGroupSupport, "00uNOSUCHUSER00000g7") == nil {
		t.Error("AddGroupMember accepted an unknown group or user")
	}
	e.do("GET", "/api/v1/groups/00gNOSUCHGROUP0000g7/roles", nil).wantError(t, http.StatusNotFound, CodeNotFound)
}

func TestAssignAdminRoles(t *testing.T) {
	e := newEnv(t)
	types := func(id string) []string {
		t.Helper()
		var out []string
		for _, r := range e.do("GET", "/api/v1/users/"+id+"/roles", nil).want(t, http.StatusOK).array(t) {
			out = append(out, str(r, "type"))
		}
		return out
	}
	if got := types(SeedUserCarol); !slices.Equal(got, []string{RoleHelpDeskAdmin}) {
		t.Fatalf("Carol's roles = %v", got)
	}
	if err := e.sim.AssignAdminRole(SeedUserAlice, RoleAppAdmin); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AssignAdminRole(SeedUserAlice, RoleAppAdmin); err == nil {
		t.Errorf("a duplicate assignment was accepted")
	}
	if err := e.sim.AssignAdminRole(SeedUserAlice, "CUSTOM"); err == nil {
		t.Errorf("an unknown role type was accepted")
	}
	if err := e.sim.AssignAdminRole("00uNOSUCHUSER00000g7", RoleAppAdmin); err == nil {
		t.Errorf("a role was given to a user that does not exist")
	}
	if err := e.sim.AssignGroupAdminRole(SeedGroupEngineering, RoleReadOnlyAdmin); err != nil {
		t.Fatal(err)
	}
	if got := types(SeedUserAlice); !slices.Equal(got, []string{RoleAppAdmin, RoleReadOnlyAdmin}) {
		t.Errorf("Alice's roles = %v", got)
	}
	if got := e.sim.AdminRoles(SeedUserAlice); !slices.Equal(got, []string{RoleAppAdmin, RoleReadOnlyAdmin}) {
		t.Errorf("AdminRoles = %v", got)
	}
	// Leaving the group takes its role away at once.
	e.do("DELETE", "/api/v1/groups/"+SeedGroupEngineering+"/users/"+SeedUserAlice, nil).want(t, http.StatusNoContent)
	if got := types(SeedUserAlice); !slices.Equal(got, []string{RoleAppAdmin}) {
		t.Errorf("Alice's roles after leaving Engineering = %v", got)
	}
	if err := e.sim.UnassignAdminRole(SeedUserAlice, RoleAppAdmin); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.UnassignAdminRole(SeedUserAlice, RoleAppAdmin); err == nil {
		t.Errorf("unassigning a role the user lacks succeeded")
	}
	if got := types(SeedUserAlice); len(got) != 0 {
		t.Errorf("Alice's roles after unassigning = %v", got)
	}
	// hasAdminPrivilege follows the group's roles.
	stats := e.do("GET", "/api/v1/groups/"+SeedGroupEngineering+"?expand=stats", nil).want(t, http.StatusOK).object(t)
	if priv := stats["_embedded"].(map[string]any)["stats"].(map[string]any)["hasAdminPrivilege"]; priv != true {
		t.Errorf("hasAdminPrivilege = %v for a group with a role", priv)
	}
	if err := e.sim.UnassignGroupAdminRole(SeedGroupEngineering, RoleReadOnlyAdmin); err != nil {
		t.Fatal(err)
	}
}

// TestLookupScopes checks that an access token needs okta.users.read for a
// user's groups and okta.roles.read for its roles, and that neither stands
// in for the other.
func TestLookupScopes(t *testing.T) {
	k := signer{jose.ES256, newECKey(t), "lookup-1"}
	const client = "0oaLOOKUPAPP000000g7"
	e := newOAuthEnv(t, WithServiceApp(ServiceApp{ClientID: client, Scopes: []string{scopeUsersRead, scopeRolesRead},
		PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.public()}}}))
	users := e.bearer(t, k, client, scopeUsersRead)
	roles := e.bearer(t, k, client, scopeRolesRead)
	groupsPath := "/api/v1/users/" + SeedUserAdmin + "/groups"
	rolesPath := "/api/v1/users/" + SeedUserAdmin + "/roles"
	e.doToken("GET", groupsPath, nil, "Bearer "+users).want(t, http.StatusOK)
	e.doToken("GET", rolesPath, nil, "Bearer "+roles).want(t, http.StatusOK)
	e.doToken("GET", groupsPath, nil, "Bearer "+roles).wantError(t, http.StatusForbidden, CodeForbidden)
	resp := e.doToken("GET", rolesPath, nil, "Bearer "+users)
	resp.wantError(t, http.StatusForbidden, CodeForbidden)
	if h := resp.header.Get("WWW-Authenticate"); !strings.Contains(h, `scope="okta.roles.read"`) || !strings.Contains(h, "insufficient_scope") {
		t.Errorf("WWW-Authenticate = %q", h)
	}
}
