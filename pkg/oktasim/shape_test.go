package oktasim

import (
	"strings"
	"testing"
)

// TestObjectShapes checks that every object type carries Okta's fields and
// id prefix, and that the seed includes fields Okta sends but its typed SDK
// models lack, for pass-through tests elsewhere.
func TestObjectShapes(t *testing.T) {
	tests := []struct {
		name, path, prefix string
		keys               []string
		extension          []string // a path to a field Okta's SDK does not model
	}{
		{"user", "/api/v1/users/" + SeedUserAlice, "00u",
			[]string{"id", "status", "created", "activated", "statusChanged", "lastLogin", "lastUpdated", "passwordChanged", "type", "profile", "credentials", "_links"},
			[]string{"credentials", "emails"}},
		{"group", "/api/v1/groups/" + SeedGroupSalesforceReps, "00g",
			[]string{"id", "created", "lastUpdated", "lastMembershipUpdated", "objectClass", "type", "profile", "_links"},
			[]string{"source", "id"}},
		{"app", "/api/v1/apps/" + SeedAppSalesforce, "0oa",
			[]string{"id", "name", "label", "status", "lastUpdated", "created", "accessibility", "visibility", "features", "signOnMode", "credentials", "settings", "_links"},
			[]string{"orn"}},
		{"app user", "/api/v1/apps/" + SeedAppSalesforce + "/users/" + SeedUserBob, "00u",
			[]string{"id", "externalId", "created", "lastUpdated", "scope", "status", "statusChanged", "passwordChanged", "syncState", "credentials", "profile", "_links"},
			nil},
		{"session", "/api/v1/sessions/" + SeedSessionAlice, "102",
			[]string{"id", "userId", "login", "createdAt", "expiresAt", "status", "lastPasswordVerification", "lastFactorVerification", "amr", "idp", "_links"},
			[]string{"mfaActive"}},
		{"policy", "/api/v1/policies/" + SeedPolicyPasswordDefault, "00p",
			[]string{"type", "id", "status", "name", "description", "priority", "system", "conditions", "settings", "created", "lastUpdated", "_links"},
			nil},
		{"factor", "/api/v1/users/" + SeedUserAlice + "/factors/" + SeedFactorAliceFastPass, "crp",
			[]string{"id", "factorType", "provider", "vendorName", "status", "created", "lastUpdated", "profile", "_links"},
			[]string{"profile", "keys"}},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := e.do("GET", tt.path, nil).want(t, 200).object(t)
			if id := str(o, "id"); !strings.HasPrefix(id, tt.prefix) {
				t.Errorf("id %q lacks prefix %s", id, tt.prefix)
			}
			for _, k := range tt.keys {
				if _, ok := o[k]; !ok {
					t.Errorf("missing %s", k)
				}
			}
			if tt.extension != nil {
				var v any = o
				for _, p := range tt.extension {
					m, _ := v.(map[string]any)
					v = m[p]
				}
				if v == nil {
					t.Errorf("extension field %v missing", tt.extension)
				}
			}
			if _, ok := o["_links"].(map[string]any)["self"]; !ok && tt.name != "app" && tt.name != "app user" && tt.name != "group" {
				t.Errorf("no self link")
			}
		})
	}
	t.Run("log event", func(t *testing.T) {
		ev := e.do("GET", "/api/v1/logs?limit=1", nil).want(t, 200).array(t)[0]
		for _, k := range []string{"actor", "client", "authenticationContext", "displayMessage", "eventType", "outcome", "published", "securityContext", "severity", "debugContext", "legacyEventType", "transaction", "uuid", "version", "request", "target"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("log event missing %s", k)
			}
		}
	})
	t.Run("rules", func(t *testing.T) {
		r := e.do("GET", "/api/v1/policies/"+SeedPolicySignOnDefault+"/rules", nil).want(t, 200).array(t)[0]
		if !strings.HasPrefix(str(r, "id"), "0pr") || r["type"] != "SIGN_ON" || r["system"] != true {
			t.Errorf("rule = %v", r)
		}
	})
}
