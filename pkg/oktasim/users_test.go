package oktasim

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestCreateUser(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		body       map[string]any
		wantStatus string
	}{
		{"staged", "?activate=false", newUserBody("s@example.com"), StatusStaged},
		{"active with password", "", withPassword(newUserBody("a@example.com")), StatusActive},
		{"provisioned without password", "?activate=true", newUserBody("p@example.com"), StatusProvisioned},
		{"expired password", "?nextLogin=changePassword", withPassword(newUserBody("x@example.com")), StatusPasswordExpired},
		{"federated", "?provider=true", newUserBody("f@example.com"), StatusActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.do("POST", "/api/v1/users"+tt.query, tt.body).want(t, 200).object(t)
			id := str(u, "id")
			if u["status"] != tt.wantStatus || !strings.HasPrefix(id, "00u") || len(id) != 20 {
				t.Errorf("created user status %v id %q", u["status"], id)
			}
			if u["created"] != ts(testNow) || str(u, "credentials", "provider", "type") == "" {
				t.Errorf("created user = %v", u)
			}
			if _, ok := u["_links"].(map[string]any)["self"]; !ok {
				t.Errorf("no self link")
			}
			if !e.sim.IsGroupMember(SeedGroupEveryone, id) {
				t.Errorf("new user is not in Everyone")
			}
			if !hasEvent(e.sim.Events(), "user.lifecycle.create") {
				t.Errorf("no user.lifecycle.create event")
			}
		})
	}
}

func withPassword(body map[string]any) map[string]any {
	body["credentials"] = map[string]any{"password": map[string]any{"value": "correct horse battery staple"}}
	return body
}

func TestCreateUserValidation(t *testing.T) {
	tests := []struct {
		name, query string
		body        any
		status      int
		code, field string
		cause       string
	}{
		{"duplicate login", "", newUserBody(strings.ToUpper(SeedLoginAlice)), 400, CodeValidation, "login",
			"login: An object with this field already exists in the current organization"},
		{"duplicate login of a deactivated user", "", newUserBody(SeedLoginHeidi), 400, CodeValidation, "login",
			"login: An object with this field already exists in the current organization"},
		{"missing login", "", map[string]any{"profile": map[string]any{"firstName": "A", "lastName": "B", "email": "a@example.com"}}, 400, CodeValidation, "login",
			"login: The field cannot be left blank"},
		{"login not an email", "", newUserBody("nina"), 400, CodeValidation, "login",
			"login: Username must be in the form of an email address"},
		{"no profile", "", map[string]any{}, 400, CodeValidation, "login", "login: The field cannot be left blank"},
		{"malformed", "", "{", 400, CodeMalformedBody, "", ""},
		{"expire without activation", "?activate=false&nextLogin=changePassword", withPassword(newUserBody("e@example.com")), 400, "E0000125", "", ""},
		{"expire without password", "?nextLogin=changePassword", newUserBody("e@example.com"), 400, "E0000124", "", ""},
		{"app group", "", func() map[string]any {
			b := newUserBody("g@example.com")
			b["groupIds"] = []any{SeedGroupSalesforceReps}
			return b
		}(), 400, CodeValidation, "groupIds", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			n := len(e.sim.Events())
			got := e.do("POST", "/api/v1/users"+tt.query, tt.body).wantError(t, tt.status, tt.code)
			if tt.field != "" && got.ErrorSummary != "Api validation failed: "+tt.field {
				t.Errorf("errorSummary = %q", got.ErrorSummary)
			}
			if tt.cause != "" && !slices.ContainsFunc(got.ErrorCauses, func(c struct {
				ErrorSummary string `json:"errorSummary"`
			}) bool {
				return c.ErrorSummary == tt.cause
			}) {
				t.Errorf("errorCauses %+v lack %q", got.ErrorCauses, tt.cause)
			}
			if len(e.sim.Events()) != n {
				t.Errorf("refused create recorded an event")
			}
		})
	}
}

func TestGetUserByIDLoginOrShortName(t *testing.T) {
	e := newEnv(t)
	for _, ref := range []string{SeedUserBob, SeedLoginBob, "bob.baker", "BOB.BAKER@example.com"} {
		u := e.do("GET", "/api/v1/users/"+url.PathEscape(ref), nil).want(t, 200).object(t)
		if u["id"] != SeedUserBob {
			t.Errorf("GET %s = %v", ref, u["id"])
		}
	}
	got := e.do("GET", "/api/v1/users/nobody", nil).wantError(t, 404, CodeNotFound)
	if got.ErrorSummary != "Not found: Resource not found: nobody (User)" {
		t.Errorf("errorSummary = %q", got.ErrorSummary)
	}
	// Lifecycle endpoints take a login too.
	e.do("POST", "/api/v1/users/carol.chen/lifecycle/suspend", nil).want(t, 200)
	if e.userStatus(SeedUserCarol) != StatusSuspended {
		t.Errorf("suspend by short name did not apply")
	}
}

func TestUpdateMergesAndReplaceClears(t *testing.T) {
	e := newEnv(t)
	path := "/api/v1/users/" + SeedUserAlice
	u := e.do("POST", path, map[string]any{"profile": map[string]any{"title": "Principal Engineer", "nickName": "Al"}}).want(t, 200).object(t)
	if str(u, "profile", "title") != "Principal Engineer" || str(u, "profile", "nickName") != "Al" || str(u, "profile", "costCenter") != "ENG-042" {
		t.Errorf("partial update did not merge: %v", u["profile"])
	}
	if !hasEvent(e.sim.Events(), "user.account.update_profile") {
		t.Errorf("no update_profile event")
	}
	u = e.do("PUT", path, newUserBody(SeedLoginAlice)).want(t, 200).object(t)
	profile, _ := u["profile"].(map[string]any)
	if _, ok := profile["costCenter"]; ok || profile["firstName"] != "Nina" {
		t.Errorf("replace kept old fields: %v", profile)
	}
	if _, ok := u["credentials"].(map[string]any)["password"]; !ok {
		t.Errorf("replace without credentials dropped the password")
	}
	e.do("PUT", path, map[string]any{"profile": map[string]any{"firstName": "A"}}).wantError(t, 400, CodeValidation)
	e.do("POST", path, map[string]any{"profile": map[string]any{"login": SeedLoginBob}}).wantError(t, 400, CodeValidation)
	e.do("POST", path, map[string]any{"profile": "text"}).wantError(t, 400, CodeMalformedBody)
}

func TestListUsersSearchAndFilter(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		query string
		want  []string
	}{
		// A plain listing leaves deactivated users out.
		{"", []string{SeedUserAdmin, SeedUserAlice, SeedUserBob, SeedUserCarol, SeedUserDave, SeedUserErin, SeedUserFrank, SeedUserGrace, SeedUserIvan, SeedUserJudy, SeedUserSam, SeedUserTess}},
		{"search=" + url.QueryEscape(`status eq "DEPROVISIONED"`), []string{SeedUserHeidi}},
		{"search=" + url.QueryEscape(`profile.department eq "Support" and status eq "ACTIVE"`), []string{SeedUserCarol}},
		{"search=" + url.QueryEscape(`profile.department eq "support" or profile.title sw "Identity"`), []string{SeedUserAdmin, SeedUserCarol, SeedUserFrank, SeedUserHeidi, SeedUserJudy}},
		{"search=" + url.QueryEscape(`profile.costCenter pr`), []string{SeedUserAlice}},
		{"filter=" + url.QueryEscape(`status eq "LOCKED_OUT"`), []string{SeedUserGrace}},
		{"filter=" + url.QueryEscape(`lastUpdated gt "2024-06-01T00:00:00.000Z"`), []string{SeedUserDave, SeedUserErin, SeedUserFrank, SeedUserGrace, SeedUserIvan, SeedUserJudy}},
		{"q=ali", []string{SeedUserAlice}},
		{"q=baker", []string{SeedUserBob}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := ids(e.do("GET", "/api/v1/users?"+tt.query, nil).want(t, 200).array(t))
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	for _, bad := range []string{`status eq`, `status "ACTIVE"`, `(status eq "ACTIVE"`, `status eq "ACTIVE" and`} {
		e.do("GET", "/api/v1/users?search="+url.QueryEscape(bad), nil).wantError(t, 400, CodeInvalidSearch)
	}
}

func TestListGroupsAndMembers(t *testing.T) {
	e := newEnv(t)
	if got := ids(e.do("GET", "/api/v1/groups?q=sup", nil).want(t, 200).array(t)); !slices.Equal(got, []string{SeedGroupSupport}) {
		t.Errorf("q=sup: %v", got)
	}
	if got := ids(e.do("GET", "/api/v1/groups?filter="+url.QueryEscape(`type eq "APP_GROUP"`), nil).want(t, 200).array(t)); !slices.Equal(got, []string{SeedGroupSalesforceReps}) {
		t.Errorf("type filter: %v", got)
	}
	g := e.do("GET", "/api/v1/groups/"+SeedGroupEngineering+"?expand=stats", nil).want(t, 200).object(t)
	stats, _ := g["_embedded"].(map[string]any)["stats"].(map[string]any)
	if stats["usersCount"] != float64(6) || stats["appsCount"] != float64(1) {
		t.Errorf("stats = %v", stats)
	}
	members := ids(e.do("GET", "/api/v1/groups/"+SeedGroupSupport+"/users?search="+url.QueryEscape(`status eq "ACTIVE"`), nil).want(t, 200).array(t))
	if !slices.Equal(members, []string{SeedUserBob, SeedUserCarol}) {
		t.Errorf("active Support members: %v", members)
	}
	e.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "engineering"}}).wantError(t, 400, CodeValidation)
	e.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{}}).wantError(t, 400, CodeValidation)
}

func TestAppsAndPoliciesQueries(t *testing.T) {
	e := newEnv(t)
	if got := ids(e.do("GET", "/api/v1/apps?filter="+url.QueryEscape(`status eq "INACTIVE"`), nil).want(t, 200).array(t)); !slices.Equal(got, []string{SeedAppLegacyWiki}) {
		t.Errorf("inactive apps: %v", got)
	}
	if got := ids(e.do("GET", "/api/v1/apps?filter="+url.QueryEscape(`user.id eq "`+SeedUserCarol+`"`), nil).want(t, 200).array(t)); !slices.Equal(got, []string{SeedAppLegacyWiki, SeedAppPortal}) {
		t.Errorf("carol's apps: %v", got)
	}
	if got := ids(e.do("GET", "/api/v1/apps?q=git", nil).want(t, 200).array(t)); !slices.Equal(got, []string{SeedAppGitHub}) {
		t.Errorf("q=git: %v", got)
	}
	e.do("POST", "/api/v1/apps", map[string]any{"label": "Salesforce.com", "signOnMode": "BOOKMARK"}).wantError(t, 400, CodeDuplicateAppLabel)
	e.do("POST", "/api/v1/apps", map[string]any{"label": "X", "signOnMode": "TELEPATHY"}).wantError(t, 400, CodeValidation)
	a := e.do("POST", "/api/v1/apps?activate=false", map[string]any{"label": "Inactive One", "signOnMode": "BOOKMARK"}).want(t, 200).object(t)
	if a["status"] != objInactive || a["name"] != "bookmark" {
		t.Errorf("created app = %v", a)
	}

	for _, q := range []string{"", "type=NOPE"} {
		got := e.do("GET", "/api/v1/policies?"+q, nil).wantError(t, 400, CodeValidation)
		if got.ErrorSummary != "Api validation failed: type" || len(got.ErrorCauses) == 0 {
			t.Errorf("policies?%s: %+v", q, got)
		}
	}
	if got := ids(e.do("GET", "/api/v1/policies?type=ACCESS_POLICY&status=INACTIVE", nil).want(t, 200).array(t)); !slices.Equal(got, []string{SeedPolicyAccessInternal}) {
		t.Errorf("inactive access policies: %v", got)
	}
	rules := e.do("GET", "/api/v1/policies/"+SeedPolicyPasswordDefault+"/rules", nil).want(t, 200).array(t)
	if len(rules) != 1 || rules[0]["type"] != "PASSWORD" || rules[0]["id"] != SeedRulePasswordDefault {
		t.Errorf("rules = %v", rules)
	}
	e.do("POST", "/api/v1/policies", map[string]any{"type": "IDP_DISCOVERY", "name": "x"}).wantError(t, 400, CodeValidation)
	e.do("POST", "/api/v1/policies", map[string]any{"type": "PASSWORD", "name": "Default Policy"}).wantError(t, 400, CodeValidation)
	e.do("PUT", "/api/v1/policies/"+SeedPolicySignOnContractors, map[string]any{"type": "PASSWORD", "name": "x"}).wantError(t, 400, CodeValidation)
}
