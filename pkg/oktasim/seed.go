package oktasim

import (
	"fmt"
	"time"
)

// seed fills the org with the sample data: users in every status, groups of
// every type, admin roles (assigned to users and to a group), apps with
// assignments, sessions, policies with rules, factors
// and some System Log history. Timestamps are relative to the clock at New,
// so a fixed clock gives a fixed org. Some objects carry fields Okta sends
// but its typed SDK models lack (credentials.emails, a group's source, an
// app's orn, a session's mfaActive, the FastPass factor), so that tests can
// check a client passes Okta's JSON through untouched.
func (s *Sim) seed() {
	now := s.now()
	day := 24 * time.Hour
	s.seedUsers(now, day)
	s.seedGroups(now, day)
	s.seedRoles(now, day)
	s.seedApps(now, day)
	s.seedSessions(now)
	s.seedPolicies(now, day)
	s.seedFactors(now, day)
	s.seedEvents(now, day)
}

type seedUser struct {
	id, status, first, last, login, department, title string
	hasPassword                                       bool
	ageDays                                           int
}

func (s *Sim) seedUsers(now time.Time, day time.Duration) {
	users := []seedUser{
		{SeedUserAdmin, StatusActive, "Ada", "Admin", SeedLoginAdmin, "IT", "Identity Administrator", true, 720},
		{SeedUserAlice, StatusActive, "Alice", "Anderson", SeedLoginAlice, "Engineering", "Staff Engineer", true, 540},
		{SeedUserBob, StatusActive, "Bob", "Baker", SeedLoginBob, "Engineering", "Support Engineer", true, 400},
		{SeedUserCarol, StatusActive, "Carol", "Chen", SeedLoginCarol, "Support", "Support Lead", true, 380},
		{SeedUserDave, StatusStaged, "Dave", "Diaz", SeedLoginDave, "Engineering", "Engineer", false, 3},
		{SeedUserErin, StatusProvisioned, "Erin", "Evans", SeedLoginErin, "Engineering", "Engineer", false, 3},
		{SeedUserFrank, StatusSuspended, "Frank", "Fischer", SeedLoginFrank, "Support", "Contractor", true, 200},
		{SeedUserGrace, StatusLockedOut, "Grace", "Garcia", SeedLoginGrace, "Engineering", "Engineer", true, 300},
		{SeedUserHeidi, StatusDeprovisioned, "Heidi", "Hughes", SeedLoginHeidi, "Support", "Former Contractor", true, 600},
		{SeedUserIvan, StatusPasswordExpired, "Ivan", "Ivanov", SeedLoginIvan, "Engineering", "Engineer", true, 250},
		{SeedUserJudy, StatusRecovery, "Judy", "Jones", SeedLoginJudy, "Support", "Support Agent", true, 150},
		{SeedUserSam, StatusActive, "Sam", "Singh", SeedLoginSam, "Security", "Security Engineer", true, 420},
		{SeedUserTess, StatusActive, "Tess", "Turner", SeedLoginTess, "Security", "Security Engineer", true, 400},
	}
	for i, su := range users {
		created := now.Add(-time.Duration(su.ageDays) * day)
		u := &user{
			id: su.id, status: su.status, created: created, lastUpdated: created.Add(day), provider: "OKTA",
			hasPassword: su.hasPassword,
			profile: map[string]any{
				"firstName": su.first, "lastName": su.last, "email": su.login, "login": su.login,
				"department": su.department, "title": su.title, "mobilePhone": nil, "secondEmail": nil,
				// A custom attribute from the org's schema extension.
				"employeeNumber": fmt.Sprintf("E%04d", 1001+i),
			},
		}
		if su.status != StatusStaged {
			u.statusChanged = created.Add(day)
		}
		if su.status != StatusStaged && su.status != StatusProvisioned {
			u.activated = created.Add(day)
		}
		if su.hasPassword {
			u.passwordChanged = created.Add(day)
			u.recoveryQuestion = "What is the food you least liked as a child?"
		}
		switch su.status {
		case StatusActive, StatusLockedOut, StatusPasswordExpired, StatusRecovery:
			u.lastLogin = now.Add(-6 * time.Hour)
		}
		s.putUser(u)
	}
	// Alice's profile carries a nested custom attribute.
	s.users[SeedUserAlice].profile["costCenter"] = "ENG-042"
	s.users[SeedUserAlice].profile["preferredLanguage"] = "en"
}

func (s *Sim) seedGroups(now time.Time, day time.Duration) {
	created := now.Add(-800 * day)
	mk := func(id, typ, name, desc string, class string, members ...string) *group {
		g := &group{id: id, typ: typ, created: created, lastUpdated: created, lastMembershipUpdated: now.Add(-2 * day),
			profile: map[string]any{"name": name, "description": desc}, objectClass: []string{class}, members: map[string]bool{}}
		for _, m := range members {
			g.members[m] = true
		}
		s.groups[id] = g
		return g
	}
	everyone := mk(SeedGroupEveryone, groupBuiltIn, "Everyone", "All users in your organization", "okta:user_group")
	for id := range s.users {
		everyone.members[id] = true
	}
	mk(SeedGroupOktaAdmins, groupOkta, "Okta Admins", "Administrators of the Okta org", "okta:user_group", SeedUserAdmin)
	mk(SeedGroupEngineering, groupOkta, "Engineering", "Everyone who builds the product", "okta:user_group",
		SeedUserAlice, SeedUserBob, SeedUserDave, SeedUserErin, SeedUserGrace, SeedUserIvan)
	mk(SeedGroupSupport, groupOkta, "Support", "Customer support", "okta:user_group",
		SeedUserBob, SeedUserCarol, SeedUserFrank, SeedUserHeidi, SeedUserJudy)
	mk(SeedGroupSecurityApprovers, groupOkta, "security-approvers", "Security engineers who approve agents' risky calls in Bollard",
		"okta:user_group", SeedUserSam, SeedUserTess)
	reps := mk(SeedGroupSalesforceReps, groupApp, "Salesforce Sales Reps", "Imported from Salesforce", "okta:app_group",
		SeedUserBob, SeedUserCarol)
	reps.profile["externalId"] = "00e5f000000Repq"
	// source names the app an APP_GROUP was imported from; Okta's SDK
	// Group model has no such field.
	reps.ext = obj{{"source", obj{{"id", SeedAppSalesforce}}}}
}

func (s *Sim) seedApps(now time.Time, day time.Duration) {
	created := now.Add(-500 * day)
	mk := func(id, name, label, mode, status string, settings map[string]any, users ...string) *app {
		a := &app{id: id, name: name, status: status, created: created, lastUpdated: created.Add(day),
			users: map[string]*appUser{}, groups: map[string]bool{}}
		a.applyAppBody(map[string]any{"label": label, "signOnMode": mode, "settings": settings})
		a.features = []any{}
		a.ext = obj{
			{"orn", "orn:okta:idp:00oSIMORG:apps:" + name + ":" + id},
			{"universalLogout", obj{{"status", "UNSUPPORTED"}, {"supportType", nil}, {"identityStack", nil}, {"protocol", nil}}},
		}
		for _, uid := range users {
			u := s.users[uid]
			a.users[uid] = &appUser{userID: uid, created: created.Add(2 * day), lastUpdated: created.Add(2 * day),
				statusChanged: created.Add(2 * day), scope: "USER", status: "ACTIVE",
				credentials: map[string]any{"userName": u.login()}, profile: map[string]any{}}
		}
		s.apps[id] = a
		return a
	}
	sf := mk(SeedAppSalesforce, "salesforce", "Salesforce.com", "SAML_2_0", objActive,
		map[string]any{"app": map[string]any{"instanceType": "PRODUCTION", "integrationType": "STANDARD", "loginUrl": nil}},
		SeedUserAdmin, SeedUserAlice, SeedUserBob)
	sf.users[SeedUserBob].profile["role"] = "Sales Engineer"
	gh := mk(SeedAppGitHub, "githubcloud", "GitHub Enterprise Cloud", "SAML_2_0", objActive,
		map[string]any{"app": map[string]any{"orgName": "example-co"}}, SeedUserAlice, SeedUserBob)
	gh.groups[SeedGroupEngineering] = true
	portal := mk(SeedAppPortal, "oidc_client", "Internal Portal", "OPENID_CONNECT", objActive,
		map[string]any{"app": map[string]any{}, "oauthClient": map[string]any{
			"redirect_uris": []any{"https://portal.example.com/callback"}, "grant_types": []any{"authorization_code"},
			"response_types": []any{"code"}, "application_type": "web", "consent_method": "REQUIRED",
		}}, SeedUserAlice, SeedUserCarol)
	portal.features = []any{}
	mk(SeedAppLegacyWiki, "bookmark", "Legacy Wiki", "BOOKMARK", objInactive,
		map[string]any{"app": map[string]any{"requestIntegration": false, "url": "https://wiki.example.com"}}, SeedUserCarol)
}

func (s *Sim) seedSessions(now time.Time) {
	mk := func(id, userID string, age time.Duration, amr ...string) {
		s.sessions[id] = &session{id: id, userID: userID, status: "ACTIVE", createdAt: now.Add(-age),
			expiresAt: now.Add(sessionIdle - age), lastPasswordVerification: now.Add(-age), lastFactorVerification: now.Add(-age),
			amr: amr, mfaActive: len(amr) > 1}
	}
	mk(SeedSessionAlice, SeedUserAlice, time.Hour, "pwd", "mfa", "okta_verify")
	mk(SeedSessionBob, SeedUserBob, 30*time.Minute, "pwd", "mfa", "email")
	mk(SeedSessionAdmin, SeedUserAdmin, 10*time.Minute, "pwd", "mfa", "otp")
}
