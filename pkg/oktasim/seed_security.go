package oktasim

import (
	"sort"
	"time"
)

// jm keeps the seed literals short.
type jm = map[string]any

func (s *Sim) seedPolicies(now time.Time, day time.Duration) {
	created := now.Add(-800 * day)
	mk := func(id, typ, name, desc, status string, system bool, priority int, conditions, settings jm, rules ...*rule) {
		p := &policy{id: id, typ: typ, name: name, description: desc, status: status, system: system, priority: priority,
			created: created, lastUpdated: created.Add(day), conditions: conditions, settings: settings, rules: rules}
		for _, r := range rules {
			r.typ = ruleType(typ)
			r.created, r.lastUpdated = created, created.Add(day)
		}
		s.policies[id] = p
	}
	everyone := jm{"people": jm{"groups": jm{"include": []any{SeedGroupEveryone}}}}

	mk(SeedPolicySignOnDefault, "OKTA_SIGN_ON", "Default Policy", "The default policy applies in all situations if no other policy applies.",
		objActive, true, 2, everyone, nil,
		&rule{id: SeedRuleSignOnDefault, name: "Default Rule", status: objActive, priority: 1, system: true,
			conditions: jm{"people": jm{"users": jm{"exclude": []any{}}}, "network": jm{"connection": "ANYWHERE"}, "authContext": jm{"authType": "ANY"}},
			actions: jm{"signon": jm{"access": "ALLOW", "requireFactor": false, "primaryFactor": "PASSWORD_IDP_ANY_FACTOR",
				"session": jm{"usePersistentCookie": false, "maxSessionIdleMinutes": 120, "maxSessionLifetimeMinutes": 0}}}})
	mk(SeedPolicySignOnContractors, "OKTA_SIGN_ON", "Contractors", "Contractors always verify a second factor.",
		objActive, false, 1, jm{"people": jm{"groups": jm{"include": []any{SeedGroupSupport}}}}, nil,
		&rule{id: SeedRuleSignOnContractors, name: "Require MFA", status: objActive, priority: 1,
			conditions: jm{"people": jm{"users": jm{"exclude": []any{}}}, "network": jm{"connection": "ANYWHERE"}},
			actions: jm{"signon": jm{"access": "ALLOW", "requireFactor": true, "factorPromptMode": "ALWAYS", "rememberDeviceByDefault": false,
				"session": jm{"usePersistentCookie": false, "maxSessionIdleMinutes": 60, "maxSessionLifetimeMinutes": 720}}}})
	mk(SeedPolicyPasswordDefault, "PASSWORD", "Default Policy", "The default policy applies in all situations if no other policy applies.",
		objActive, true, 1, jm{"people": jm{"groups": jm{"include": []any{SeedGroupEveryone}}}, "authProvider": jm{"provider": "OKTA"}},
		jm{
			"password": jm{
				"complexity": jm{"minLength": 12, "minLowerCase": 1, "minUpperCase": 1, "minNumber": 1, "minSymbol": 0, "excludeUsername": true,
					"dictionary": jm{"common": jm{"exclude": true}}, "excludeAttributes": []any{}},
				"age":     jm{"maxAgeDays": 0, "expireWarnDays": 0, "minAgeMinutes": 0, "historyCount": 4},
				"lockout": jm{"maxAttempts": 10, "autoUnlockMinutes": 0, "userLockoutNotificationChannels": []any{}, "showLockoutFailures": false},
			},
			"recovery":   jm{"factors": jm{"recovery_question": jm{"status": "ACTIVE", "properties": jm{"complexity": jm{"minLength": 4}}}}},
			"delegation": jm{"options": jm{"skipUnlock": false}},
		},
		&rule{id: SeedRulePasswordDefault, name: "Default Rule", status: objActive, priority: 1, system: true,
			conditions: jm{"people": jm{"users": jm{"exclude": []any{}}}, "network": jm{"connection": "ANYWHERE"}},
			actions:    jm{"passwordChange": jm{"access": "ALLOW"}, "selfServicePasswordReset": jm{"access": "ALLOW"}, "selfServiceUnlock": jm{"access": "DENY"}}})
	mk(SeedPolicyMFAEnrollDefault, "MFA_ENROLL", "Default Policy", "The default policy applies in all situations if no other policy applies.",
		objActive, true, 1, everyone,
		jm{"type": "AUTHENTICATORS", "authenticators": []any{
			jm{"key": "okta_verify", "enroll": jm{"self": "REQUIRED"}},
			jm{"key": "okta_email", "enroll": jm{"self": "OPTIONAL"}},
			jm{"key": "phone_number", "enroll": jm{"self": "NOT_ALLOWED"}},
		}},
		&rule{id: SeedRuleMFAEnrollDefault, name: "Default Rule", status: objActive, priority: 1, system: true,
			conditions: jm{"people": jm{"users": jm{"exclude": []any{}}}, "network": jm{"connection": "ANYWHERE"}},
			actions:    jm{"enroll": jm{"self": "CHALLENGE"}}})
	mk(SeedPolicyAccessDefault, "ACCESS_POLICY", "Default Policy", "The default app sign-in policy.",
		objActive, true, 1, nil, nil,
		&rule{id: SeedRuleAccessDefault, name: "Catch-all Rule", status: objActive, priority: 99, system: true,
			conditions: jm{}, actions: jm{"appSignOn": jm{"access": "ALLOW", "verificationMethod": jm{
				"factorMode": "2FA", "type": "ASSURANCE", "reauthenticateIn": "PT12H",
				"constraints": []any{jm{"possession": jm{"deviceBound": "REQUIRED"}}},
			}}}})
	mk(SeedPolicyAccessInternal, "ACCESS_POLICY", "Internal apps", "Managed devices only.",
		objInactive, false, 2, nil, nil,
		&rule{id: SeedRuleAccessInternal, name: "Managed devices", status: objActive, priority: 1,
			conditions: jm{"device": jm{"managed": true, "registered": true}},
			actions:    jm{"appSignOn": jm{"access": "ALLOW", "verificationMethod": jm{"factorMode": "1FA", "type": "ASSURANCE", "reauthenticateIn": "PT2H"}}}})
}

func (s *Sim) seedFactors(now time.Time, day time.Duration) {
	enrolled := now.Add(-100 * day)
	mk := func(id, userID, typ, provider string, profile jm) *factor {
		f := &factor{id: id, userID: userID, factorType: typ, provider: provider, vendorName: provider, status: factorActive,
			created: enrolled, lastUpdated: enrolled, profile: profile}
		s.factors[id] = f
		enrolled = enrolled.Add(time.Hour) // a stable listing order
		return f
	}
	ecKey := func(kid, x, y string) jm {
		return jm{"kty": "EC", "use": "sig", "kid": kid, "x": x, "y": y, "crv": "P-256"}
	}
	mk(SeedFactorAliceSMS, SeedUserAlice, "sms", "OKTA", jm{"phoneNumber": "+1 XXX-XXX-4242"})
	mk(SeedFactorAlicePush, SeedUserAlice, "push", "OKTA", jm{
		"credentialId": SeedLoginAlice, "deviceType": "SmartPhone_IPhone", "name": "Alice's iPhone", "platform": "IOS", "version": "17.4.1",
		"keys": []any{ecKey("default", "gVh6Pq3iRnmS3dK0Ypsd1Rk3QfN1g0sC6z2uXrB8yVw", "oJ9f7W2xkZp1L4tQhN8sVb3mC0dR5eY6uT9iA2oP1qE")},
	})
	// Okta FastPass: factorType signed_nonce. Okta's SDKs long failed to
	// decode it, so it is the canonical pass-through test object.
	fp := mk(SeedFactorAliceFastPass, SeedUserAlice, "signed_nonce", "OKTA", jm{
		"credentialId": SeedLoginAlice, "deviceType": "Desktop_MacBook", "name": "Alice's MacBook Pro", "platform": "MACOS",
		"version": "14.4.1", "authenticatorVersion": "9.21.0",
		"keys": []any{
			ecKey("default", "Zq4w8Nn2o3Y5cR1sT7uV9xA0bC2dE4fG6hJ8kL0mN1o", "p2Q4r6S8t0U2v4W6x8Y0z2A4b6C8d0E2f4G6h8J0k2L"),
			jm{"kty": "EC", "use": "sig", "kid": "userVerification", "x": "M3n5P7r9T1v3X5z7B9d1F3h5J7l9N1p3R5t7V9x1Z3b",
				"y": "c5E7g9I1k3M5o7Q9s1U3w5Y7a9C1e3G5i7K9m1O3q5S", "crv": "P-256"},
		},
	})
	fp.ext = obj{{"_embedded", obj{{"challenge", obj{{"correctAnswer", nil}}}}}}
	mk(SeedFactorAliceTOTP, SeedUserAlice, "token:software:totp", "OKTA", jm{"credentialId": SeedLoginAlice})
	mk(SeedFactorBobEmail, SeedUserBob, "email", "OKTA", jm{"email": SeedLoginBob})
	mk(SeedFactorBobQuestion, SeedUserBob, "question", "OKTA", jm{"question": "disliked_food", "questionText": "What is the food you least liked as a child?"})
	wa := mk(SeedFactorBobWebAuthn, SeedUserBob, "webauthn", "FIDO", jm{"credentialId": "l3Br0n-7H3g047NqESqJynFtIgf3Ix9OfaRoNwLoloso99Xl2zS_O7EXUkmPeAIzTVtEL4dYjicJWBz7NpqhGA", "authenticatorName": "YubiKey 5 NFC"})
	wa.vendorName = "FIDO"
	mk(SeedFactorAdminTOTP, SeedUserAdmin, "token:software:totp", "GOOGLE", jm{"credentialId": SeedLoginAdmin})
	mk(SeedFactorCarolSMS, SeedUserCarol, "sms", "OKTA", jm{"phoneNumber": "+1 XXX-XXX-7788"})
}

// seedEvents writes a little System Log history, all within Okta's default
// seven-day window.
func (s *Sim) seedEvents(now time.Time, day time.Duration) {
	who := func(id string) target { return s.users[id].target() }
	base := eventSpec{severity: "INFO", result: "SUCCESS", ip: "198.51.100.23",
		agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"}
	ev := func(at time.Time, typ, msg string, actor target, targets ...target) eventSpec {
		e := base
		e.published, e.eventType, e.message, e.actor, e.targets = at, typ, msg, actor, targets
		e.uri = "/api/v1/authn"
		return e
	}
	events := []eventSpec{
		ev(now.Add(-3*day), "user.lifecycle.create", "Create Okta user", tokenOwner(), who(SeedUserErin)),
		ev(now.Add(-3*day+time.Minute), "user.lifecycle.create", "Create Okta user", tokenOwner(), who(SeedUserDave)),
		ev(now.Add(-2*day), "group.user_membership.add", "Add user to group membership", tokenOwner(),
			who(SeedUserBob), s.groups[SeedGroupSupport].target()),
		ev(now.Add(-26*time.Hour), "user.account.lock", "Max sign in attempts exceeded", who(SeedUserGrace), who(SeedUserGrace)),
		ev(now.Add(-time.Hour), "user.session.start", "User login to Okta", who(SeedUserAlice)),
		ev(now.Add(-30*time.Minute), "user.session.start", "User login to Okta", who(SeedUserBob)),
		ev(now.Add(-10*time.Minute), "user.session.start", "User login to Okta", tokenOwner()),
	}
	events[3].severity = "WARN"
	failed := ev(now.Add(-20*time.Minute), "user.session.start", "User login to Okta", who(SeedUserFrank))
	failed.result, failed.reason, failed.severity = "FAILURE", "VERIFICATION_ERROR", "WARN"
	events = append(events, failed)
	sort.SliceStable(events, func(i, j int) bool { return events[i].published.Before(events[j].published) })
	for _, e := range events {
		e.reqID = s.nextRequestID()
		s.appendEvent(e)
	}
}
