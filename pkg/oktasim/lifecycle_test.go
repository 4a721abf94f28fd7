package oktasim

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestUserLifecycleRules(t *testing.T) {
	tests := []struct {
		name      string
		op        string
		user      string
		status    int
		code      string // Okta errorCode when the transition is refused
		wantAfter string
	}{
		{"activate staged without password", "activate", SeedUserDave, 200, "", StatusProvisioned},
		{"activate deprovisioned with password", "activate", SeedUserHeidi, 200, "", StatusActive},
		{"activate active", "activate", SeedUserAlice, 403, CodeAlreadyActive, StatusActive},
		{"activate provisioned", "activate", SeedUserErin, 403, CodeAlreadyActive, StatusProvisioned},
		{"deactivate active", "deactivate", SeedUserAlice, 200, "", StatusDeprovisioned},
		{"deactivate suspended", "deactivate", SeedUserFrank, 200, "", StatusDeprovisioned},
		{"deactivate staged", "deactivate", SeedUserDave, 200, "", StatusDeprovisioned},
		{"deactivate deprovisioned", "deactivate", SeedUserHeidi, 404, CodeNotFound, StatusDeprovisioned},
		{"reactivate provisioned", "reactivate", SeedUserErin, 200, "", StatusProvisioned},
		{"reactivate active", "reactivate", SeedUserAlice, 403, CodeUserStatus, StatusActive},
		{"suspend active", "suspend", SeedUserAlice, 200, "", StatusSuspended},
		{"suspend staged", "suspend", SeedUserDave, 400, CodeValidation, StatusStaged},
		{"suspend suspended", "suspend", SeedUserFrank, 400, CodeValidation, StatusSuspended},
		{"suspend locked out", "suspend", SeedUserGrace, 400, CodeValidation, StatusLockedOut},
		{"suspend password expired", "suspend", SeedUserIvan, 400, CodeValidation, StatusPasswordExpired},
		{"unsuspend suspended", "unsuspend", SeedUserFrank, 200, "", StatusActive},
		{"unsuspend active", "unsuspend", SeedUserAlice, 400, CodeValidation, StatusActive},
		{"unlock locked out", "unlock", SeedUserGrace, 200, "", StatusActive},
		{"unlock active", "unlock", SeedUserAlice, 403, CodeUnlockForbidden, StatusActive},
		{"unlock recovery", "unlock", SeedUserJudy, 403, CodeUnlockForbidden, StatusRecovery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			before := len(e.sim.Events())
			resp := e.do("POST", "/api/v1/users/"+tt.user+"/lifecycle/"+tt.op, nil)
			if tt.code != "" {
				resp.wantError(t, tt.status, tt.code)
				if n := len(e.sim.Events()); n != before {
					t.Errorf("refused transition recorded %d events", n-before)
				}
			} else {
				resp.want(t, tt.status)
				if len(e.sim.Events()) == before {
					t.Errorf("transition recorded no event")
				}
			}
			if got := e.userStatus(tt.user); got != tt.wantAfter {
				t.Errorf("status after %s = %s, want %s", tt.op, got, tt.wantAfter)
			}
		})
	}
}

func TestLifecycleStampsStatusChanged(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(time.Hour)
	e.do("POST", "/api/v1/users/"+SeedUserAlice+"/lifecycle/suspend", nil).want(t, 200)
	u := e.do("GET", "/api/v1/users/"+SeedUserAlice, nil).want(t, 200).object(t)
	want := ts(testNow.Add(time.Hour))
	if u["status"] != StatusSuspended || u["statusChanged"] != want || u["lastUpdated"] != want {
		t.Errorf("status %v statusChanged %v lastUpdated %v, want SUSPENDED and %s", u["status"], u["statusChanged"], u["lastUpdated"], want)
	}
	if _, ok := u["transitioningToStatus"]; ok {
		t.Errorf("transitioningToStatus present after a completed transition")
	}
	links, _ := u["_links"].(map[string]any)
	if _, ok := links["unsuspend"]; !ok {
		t.Errorf("suspended user does not advertise unsuspend: %v", links)
	}
	if _, ok := links["suspend"]; ok {
		t.Errorf("suspended user still advertises suspend")
	}
}

func TestActivateWithoutEmailReturnsToken(t *testing.T) {
	e := newEnv(t)
	body := e.do("POST", "/api/v1/users/"+SeedUserDave+"/lifecycle/activate?sendEmail=false", nil).want(t, 200).object(t)
	if str(body, "activationToken") == "" || !strings.HasPrefix(str(body, "activationUrl"), e.srv.URL+"/welcome/") {
		t.Errorf("activation response = %v", body)
	}
	if body := e.do("POST", "/api/v1/users/"+SeedUserErin+"/lifecycle/reactivate", nil).want(t, 200).object(t); len(body) != 0 {
		t.Errorf("sendEmail default should answer {}, got %v", body)
	}
}

func TestDeleteUserDeactivatesFirst(t *testing.T) {
	e := newEnv(t)
	path := "/api/v1/users/" + SeedUserAlice
	e.do("DELETE", path, nil).want(t, http.StatusNoContent)
	if got := e.userStatus(SeedUserAlice); got != StatusDeprovisioned {
		t.Fatalf("after first DELETE status = %s, want DEPROVISIONED", got)
	}
	if e.sim.SessionActive(SeedSessionAlice) {
		t.Errorf("deactivation left the user's session alive")
	}
	e.do("GET", path, nil).want(t, 200)
	e.do("DELETE", path, nil).want(t, http.StatusNoContent)
	got := e.do("GET", path, nil).wantError(t, 404, CodeNotFound)
	if got.ErrorSummary != "Not found: Resource not found: "+SeedUserAlice+" (User)" {
		t.Errorf("errorSummary = %q", got.ErrorSummary)
	}
	if e.sim.IsGroupMember(SeedGroupEngineering, SeedUserAlice) || e.sim.IsAppAssigned(SeedAppSalesforce, SeedUserAlice) ||
		e.sim.HasFactor(SeedUserAlice, SeedFactorAliceSMS) {
		t.Errorf("deleted user left memberships, assignments or factors behind")
	}
	e.do("DELETE", path, nil).wantError(t, 404, CodeNotFound)
	if !hasEvent(e.sim.Events(), "user.lifecycle.deactivate") || !hasEvent(e.sim.Events(), "user.lifecycle.delete.completed") {
		t.Errorf("delete did not log deactivate and delete events")
	}
}

func TestAppDeleteOnlyWhenInactive(t *testing.T) {
	e := newEnv(t)
	path := "/api/v1/apps/" + SeedAppGitHub
	got := e.do("DELETE", path, nil).wantError(t, 403, CodeAppDeleteForbidden)
	if len(got.ErrorCauses) != 1 || !strings.Contains(got.ErrorCauses[0].ErrorSummary, "deactivated") {
		t.Errorf("errorCauses = %+v", got.ErrorCauses)
	}
	e.do("POST", path+"/lifecycle/deactivate", nil).want(t, 200)
	if st, _ := e.sim.AppStatus(SeedAppGitHub); st != objInactive {
		t.Fatalf("status after deactivate = %s", st)
	}
	e.do("DELETE", path, nil).want(t, http.StatusNoContent)
	got = e.do("GET", path, nil).wantError(t, 404, CodeNotFound)
	if !strings.HasSuffix(got.ErrorSummary, "(AppInstance)") {
		t.Errorf("errorSummary = %q", got.ErrorSummary)
	}
}

func TestAppActivationIsIdempotent(t *testing.T) {
	e := newEnv(t)
	before := len(e.sim.Events())
	e.do("POST", "/api/v1/apps/"+SeedAppGitHub+"/lifecycle/activate", nil).want(t, 200)
	if len(e.sim.Events()) != before {
		t.Errorf("activating an active app recorded an event")
	}
	e.do("POST", "/api/v1/apps/"+SeedAppLegacyWiki+"/lifecycle/activate", nil).want(t, 200)
	if st, _ := e.sim.AppStatus(SeedAppLegacyWiki); st != objActive || !hasEvent(e.sim.Events()[before:], "application.lifecycle.activate") {
		t.Errorf("activate: status %s, events %v", st, e.sim.Events()[before:])
	}
}

func TestOnlyOktaGroupsAreManaged(t *testing.T) {
	tests := []struct {
		name, method, path string
		body               any
	}{
		{"delete built-in", "DELETE", "/api/v1/groups/" + SeedGroupEveryone, nil},
		{"delete app group", "DELETE", "/api/v1/groups/" + SeedGroupSalesforceReps, nil},
		{"replace built-in", "PUT", "/api/v1/groups/" + SeedGroupEveryone, map[string]any{"profile": map[string]any{"name": "All"}}},
		{"replace app group", "PUT", "/api/v1/groups/" + SeedGroupSalesforceReps, map[string]any{"profile": map[string]any{"name": "Reps"}}},
		{"add to app group", "PUT", "/api/v1/groups/" + SeedGroupSalesforceReps + "/users/" + SeedUserAlice, nil},
		{"remove from everyone", "DELETE", "/api/v1/groups/" + SeedGroupEveryone + "/users/" + SeedUserAlice, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.do(tt.method, tt.path, tt.body).wantError(t, 403, CodeForbidden)
		})
	}
	t.Run("okta group", func(t *testing.T) {
		e := newEnv(t)
		e.do("DELETE", "/api/v1/groups/"+SeedGroupSupport, nil).want(t, http.StatusNoContent)
		e.do("GET", "/api/v1/groups/"+SeedGroupSupport, nil).wantError(t, 404, CodeNotFound)
	})
}

func TestGroupMembership(t *testing.T) {
	e := newEnv(t)
	path := "/api/v1/groups/" + SeedGroupSupport + "/users/" + SeedUserAlice
	e.do("PUT", path, nil).want(t, http.StatusNoContent)
	if !e.sim.IsGroupMember(SeedGroupSupport, SeedUserAlice) {
		t.Fatal("PUT did not add the member")
	}
	n := len(e.sim.Events())
	e.do("PUT", path, nil).want(t, http.StatusNoContent)
	if len(e.sim.Events()) != n {
		t.Errorf("adding an existing member recorded an event")
	}
	e.do("DELETE", path, nil).want(t, http.StatusNoContent)
	if e.sim.IsGroupMember(SeedGroupSupport, SeedUserAlice) {
		t.Fatal("DELETE did not remove the member")
	}
	e.do("PUT", "/api/v1/groups/"+SeedGroupSupport+"/users/00unobody0000000000x", nil).wantError(t, 404, CodeNotFound)
	e.do("PUT", "/api/v1/groups/00gnogroup000000000x/users/"+SeedUserAlice, nil).wantError(t, 404, CodeNotFound)
}

func TestDefaultPoliciesAreProtected(t *testing.T) {
	e := newEnv(t)
	e.do("DELETE", "/api/v1/policies/"+SeedPolicyPasswordDefault, nil).wantError(t, 403, CodeForbidden)
	e.do("POST", "/api/v1/policies/"+SeedPolicySignOnDefault+"/lifecycle/deactivate", nil).wantError(t, 403, CodeForbidden)
	if st, _ := e.sim.PolicyStatus(SeedPolicySignOnDefault); st != objActive {
		t.Errorf("default policy status = %s", st)
	}
	e.do("POST", "/api/v1/policies/"+SeedPolicyAccessInternal+"/lifecycle/activate", nil).want(t, http.StatusNoContent)
	if st, _ := e.sim.PolicyStatus(SeedPolicyAccessInternal); st != objActive {
		t.Errorf("activated policy status = %s", st)
	}
	e.do("DELETE", "/api/v1/policies/"+SeedPolicyAccessInternal, nil).want(t, http.StatusNoContent)
	e.do("GET", "/api/v1/policies/"+SeedPolicyAccessInternal, nil).wantError(t, 404, CodeNotFound)
}

func TestSessions(t *testing.T) {
	e := newEnv(t)
	path := "/api/v1/sessions/" + SeedSessionBob
	e.clock.Advance(20 * time.Minute)
	s := e.do("POST", path+"/lifecycle/refresh", nil).want(t, 200).object(t)
	if want := ts(testNow.Add(20*time.Minute + sessionIdle)); s["expiresAt"] != want {
		t.Errorf("expiresAt after refresh = %v, want %s", s["expiresAt"], want)
	}
	e.do("DELETE", path, nil).want(t, http.StatusNoContent)
	e.do("GET", path, nil).wantError(t, 404, CodeNotFound)
	e.do("DELETE", path, nil).wantError(t, 404, CodeNotFound)

	// A session past expiresAt is gone.
	e.clock.Advance(3 * time.Hour)
	e.do("GET", "/api/v1/sessions/"+SeedSessionAlice, nil).wantError(t, 404, CodeNotFound)

	// Suspending a user signs it out.
	e2 := newEnv(t)
	e2.do("POST", "/api/v1/users/"+SeedUserAdmin+"/lifecycle/suspend", nil).want(t, 200)
	e2.do("GET", "/api/v1/sessions/"+SeedSessionAdmin, nil).wantError(t, 404, CodeNotFound)
}

func TestFactors(t *testing.T) {
	t.Run("unenrolling push removes every Okta Verify factor", func(t *testing.T) {
		e := newEnv(t)
		e.do("DELETE", "/api/v1/users/"+SeedUserAlice+"/factors/"+SeedFactorAlicePush, nil).want(t, http.StatusNoContent)
		for _, f := range []string{SeedFactorAlicePush, SeedFactorAliceFastPass, SeedFactorAliceTOTP} {
			if e.sim.HasFactor(SeedUserAlice, f) {
				t.Errorf("factor %s still enrolled", f)
			}
		}
		if !e.sim.HasFactor(SeedUserAlice, SeedFactorAliceSMS) {
			t.Errorf("SMS factor was removed with Okta Verify")
		}
	})
	t.Run("fastpass shape", func(t *testing.T) {
		e := newEnv(t)
		f := e.do("GET", "/api/v1/users/"+SeedUserAlice+"/factors/"+SeedFactorAliceFastPass, nil).want(t, 200).object(t)
		profile, _ := f["profile"].(map[string]any)
		keys, _ := profile["keys"].([]any)
		if f["factorType"] != "signed_nonce" || f["provider"] != "OKTA" || len(keys) != 2 || profile["platform"] != "MACOS" {
			t.Errorf("FastPass factor = %v", f)
		}
	})
	t.Run("enroll", func(t *testing.T) {
		e := newEnv(t)
		f := e.do("POST", "/api/v1/users/"+SeedUserCarol+"/factors", map[string]any{"factorType": "token:software:totp", "provider": "GOOGLE"}).want(t, 200).object(t)
		if f["status"] != factorPending || !strings.HasPrefix(str(f, "id"), "uft") {
			t.Errorf("enrolled factor = %v", f)
		}
		e.do("POST", "/api/v1/users/"+SeedUserCarol+"/factors", map[string]any{"factorType": "token:software:totp", "provider": "GOOGLE"}).wantError(t, 400, CodeValidation)
		e.do("POST", "/api/v1/users/"+SeedUserCarol+"/factors", map[string]any{"factorType": "signed_nonce"}).wantError(t, 400, CodeValidation)
		e.do("POST", "/api/v1/users/"+SeedUserCarol+"/factors", map[string]any{"factorType": "sms"}).wantError(t, 400, CodeValidation)
		q := e.do("POST", "/api/v1/users/"+SeedUserCarol+"/factors", map[string]any{"factorType": "question", "profile": map[string]any{"question": "name_of_first_plush_toy", "answer": "bear"}}).want(t, 200).object(t)
		if profile, _ := q["profile"].(map[string]any); profile["answer"] != nil || q["status"] != factorActive {
			t.Errorf("question factor = %v", q)
		}
	})
	t.Run("factor of another user", func(t *testing.T) {
		e := newEnv(t)
		got := e.do("GET", "/api/v1/users/"+SeedUserBob+"/factors/"+SeedFactorAliceSMS, nil).wantError(t, 404, CodeNotFound)
		if !strings.HasSuffix(got.ErrorSummary, "(UserFactor)") {
			t.Errorf("errorSummary = %q", got.ErrorSummary)
		}
	})
}

func TestAppAssignments(t *testing.T) {
	e := newEnv(t)
	base := "/api/v1/apps/" + SeedAppPortal + "/users"
	au := e.do("POST", base, map[string]any{"id": SeedUserBob, "profile": map[string]any{"team": "blue"}}).want(t, 200).object(t)
	if au["id"] != SeedUserBob || au["scope"] != "USER" || str(au, "credentials", "userName") != SeedLoginBob || str(au, "profile", "team") != "blue" {
		t.Errorf("assignment = %v", au)
	}
	e.do("POST", base, map[string]any{"id": SeedUserBob}).wantError(t, 409, CodeAlreadyAssigned)
	e.do("POST", base, map[string]any{}).wantError(t, 400, CodeValidation)
	e.do("POST", base, map[string]any{"id": SeedUserHeidi}).wantError(t, 403, "E0000117")
	up := e.do("POST", base+"/"+SeedUserBob, map[string]any{"profile": map[string]any{"seat": "A1"}}).want(t, 200).object(t)
	if str(up, "profile", "team") != "blue" || str(up, "profile", "seat") != "A1" {
		t.Errorf("update did not merge the profile: %v", up)
	}
	e.do("DELETE", base+"/"+SeedUserBob, nil).want(t, http.StatusNoContent)
	e.do("GET", base+"/"+SeedUserBob, nil).wantError(t, 404, CodeNotFound)
	if e.sim.IsAppAssigned(SeedAppPortal, SeedUserBob) {
		t.Errorf("unassigned user still assigned")
	}
}

// TestSecretMarker checks that each secret the simulator invents carries
// the marker, which the audit masking test relies on to find a secret
// whose field it was not told about.
func TestSecretMarker(t *testing.T) {
	const marker = "MaRkEr"
	e := newEnv(t, WithSecretMarker(marker))
	session, err := e.sim.StartSession(SeedUserAlice)
	if err != nil {
		t.Fatal(err)
	}
	activated := e.do("POST", "/api/v1/users/"+SeedUserDave+"/lifecycle/activate?sendEmail=false", nil).want(t, 200).body
	totp := e.do("POST", "/api/v1/users/"+SeedUserCarol+"/factors", map[string]any{"factorType": "token:software:totp", "provider": "GOOGLE"}).want(t, 200).object(t)
	activation, _ := totp["_embedded"].(map[string]any)["activation"].(map[string]any)
	qr := activation["_links"].(map[string]any)["qrcode"].(map[string]any)
	for what, got := range map[string]string{
		"session id": session, "activation answer": string(activated),
		"sharedSecret": str(activation, "sharedSecret"), "qrcode href": str(qr, "href"),
	} {
		if !strings.Contains(got, marker) {
			t.Errorf("%s %q lacks the marker", what, got)
		}
	}
	if strings.Count(string(activated), marker) != 2 {
		t.Errorf("activation answer %s: want the marker in the token and its URL", activated)
	}
}
