package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/target"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// secretMarker is in every secret of the catalog walk: those the test puts
// in requests, and those the simulator invents in its answers
// (oktasim.WithSecretMarker). Letters and digits only, so that a session id
// carrying it is still a valid id; upper case, so that no hex HMAC can
// contain it.
const secretMarker = "Zq7SECRETzQ"

// sec is a secret value for a request field.
func sec(what string) string { return secretMarker + what }

// walkFixture is one fresh simulated org with a session of Alice's whose
// id carries the marker, and a TOTP factor of Carol's that waits for
// activation, so that its answers hold a shared secret.
type walkFixture struct {
	session, totp string
}

// maskWalkCases are, for each catalog action, requests an agent may send:
// each with every secret-bearing field the action's request can carry,
// chosen so that Okta (the simulator) accepts it and its answer holds the
// secrets the action can return. Where the fields come from is listed by
// sensitiveKeys in mask.go.
var maskWalkCases = map[string][]func(f walkFixture) map[string]any{
	"users.list": {func(walkFixture) map[string]any { return map[string]any{"limit": 5.0} }},
	"users.create": {
		func(walkFixture) map[string]any {
			return map[string]any{"activate": false, "body": newUser("nina.new@example.com", map[string]any{
				"password":          map[string]any{"value": sec("password")},
				"recovery_question": map[string]any{"question": "first pet?", "answer": sec("answer")},
			})}
		},
		func(walkFixture) map[string]any {
			return map[string]any{"activate": true, "body": newUser("olga.new@example.com", map[string]any{
				"password": map[string]any{"hash": map[string]any{"algorithm": "BCRYPT", "workFactor": 10.0,
					"salt": "rwh3vH166HCH/NT9XV5FYu", "value": sec("passwordHash")}},
			})}
		},
	},
	"users.get": {func(walkFixture) map[string]any { return map[string]any{"userId": oktasim.SeedLoginAlice} }},
	"users.update": {func(walkFixture) map[string]any {
		return map[string]any{"userId": oktasim.SeedUserAlice, "strict": true, "body": map[string]any{"credentials": map[string]any{
			"password":          map[string]any{"value": sec("password")},
			"recovery_question": map[string]any{"question": "first pet?", "answer": sec("answer")},
		}}}
	}},
	"users.replace": {func(walkFixture) map[string]any {
		return map[string]any{"userId": oktasim.SeedUserAlice, "body": newUser(oktasim.SeedLoginAlice, map[string]any{
			"password":          map[string]any{"value": sec("password")},
			"recovery_question": map[string]any{"question": "first pet?", "answer": sec("answer")},
		})}
	}},
	"users.delete": {func(walkFixture) map[string]any { return map[string]any{"userId": oktasim.SeedUserHeidi} }},

	// Activation answers the token and its URL when Okta does not email it.
	"user_lifecycle.activate": {func(walkFixture) map[string]any {
		return map[string]any{"userId": oktasim.SeedUserDave, "sendEmail": false}
	}},
	"user_lifecycle.deactivate": {func(walkFixture) map[string]any { return map[string]any{"userId": oktasim.SeedUserCarol} }},
	"user_lifecycle.reactivate": {func(walkFixture) map[string]any {
		return map[string]any{"userId": oktasim.SeedUserErin, "sendEmail": false}
	}},
	"user_lifecycle.suspend":   {func(walkFixture) map[string]any { return map[string]any{"userId": oktasim.SeedUserCarol} }},
	"user_lifecycle.unsuspend": {func(walkFixture) map[string]any { return map[string]any{"userId": oktasim.SeedUserFrank} }},
	"user_lifecycle.unlock":    {func(walkFixture) map[string]any { return map[string]any{"userId": oktasim.SeedUserGrace} }},

	"groups.list": {func(walkFixture) map[string]any { return map[string]any{"q": "Eng"} }},
	"groups.create": {func(walkFixture) map[string]any {
		return map[string]any{"body": map[string]any{"profile": map[string]any{"name": "Finance", "description": "Money"}}}
	}},
	"groups.get": {func(walkFixture) map[string]any { return map[string]any{"groupId": oktasim.SeedGroupEngineering} }},
	"groups.replace": {func(walkFixture) map[string]any {
		return map[string]any{"groupId": oktasim.SeedGroupSupport, "body": map[string]any{"profile": map[string]any{"name": "Customer Support"}}}
	}},
	"groups.delete":       {func(walkFixture) map[string]any { return map[string]any{"groupId": oktasim.SeedGroupSupport} }},
	"groups.list_members": {func(walkFixture) map[string]any { return map[string]any{"groupId": oktasim.SeedGroupEngineering} }},
	"groups.add_member": {func(walkFixture) map[string]any {
		return map[string]any{"groupId": oktasim.SeedGroupSupport, "userId": oktasim.SeedUserAlice}
	}},
	"groups.remove_member": {func(walkFixture) map[string]any {
		return map[string]any{"groupId": oktasim.SeedGroupEngineering, "userId": oktasim.SeedUserAlice}
	}},

	// Apps carry client secrets, private JWKs and shared passwords, and
	// Okta answers with the credentials it keeps.
	"apps.list": {func(walkFixture) map[string]any { return map[string]any{"limit": 5.0} }},
	"apps.create": {
		func(walkFixture) map[string]any {
			return map[string]any{"activate": false, "body": oidcApp("Agent Portal")}
		},
		func(walkFixture) map[string]any {
			return map[string]any{"body": map[string]any{"label": "Shared Wiki", "signOnMode": "BASIC_AUTH",
				"credentials": map[string]any{"scheme": "SHARED_USERNAME_AND_PASSWORD", "userName": "wiki-bot",
					"password": map[string]any{"value": sec("sharedPassword")}},
				"settings": map[string]any{"app": map[string]any{"url": "https://wiki.example.com", "authURL": "https://wiki.example.com/login"}}}}
		},
	},
	"apps.get": {func(walkFixture) map[string]any { return map[string]any{"appId": oktasim.SeedAppPortal} }},
	"apps.replace": {func(walkFixture) map[string]any {
		return map[string]any{"appId": oktasim.SeedAppPortal, "body": oidcApp("Internal Portal")}
	}},
	"apps.delete":     {func(walkFixture) map[string]any { return map[string]any{"appId": oktasim.SeedAppLegacyWiki} }},
	"apps.activate":   {func(walkFixture) map[string]any { return map[string]any{"appId": oktasim.SeedAppLegacyWiki} }},
	"apps.deactivate": {func(walkFixture) map[string]any { return map[string]any{"appId": oktasim.SeedAppGitHub} }},

	"app_assignments.list": {func(walkFixture) map[string]any { return map[string]any{"appId": oktasim.SeedAppSalesforce} }},
	"app_assignments.assign": {func(walkFixture) map[string]any {
		return map[string]any{"appId": oktasim.SeedAppSalesforce, "body": map[string]any{"id": oktasim.SeedUserCarol, "scope": "USER",
			"credentials": map[string]any{"userName": "carol", "password": map[string]any{"value": sec("appPassword")}}}}
	}},
	"app_assignments.get": {func(walkFixture) map[string]any {
		return map[string]any{"appId": oktasim.SeedAppSalesforce, "userId": oktasim.SeedUserBob}
	}},
	"app_assignments.update": {func(walkFixture) map[string]any {
		return map[string]any{"appId": oktasim.SeedAppSalesforce, "userId": oktasim.SeedUserBob, "body": map[string]any{
			"credentials": map[string]any{"password": map[string]any{"value": sec("appPassword")}}}}
	}},
	"app_assignments.unassign": {func(walkFixture) map[string]any {
		return map[string]any{"appId": oktasim.SeedAppSalesforce, "userId": oktasim.SeedUserBob}
	}},

	// A session id is a bearer secret: whoever has it is signed in.
	"sessions.get":     {func(f walkFixture) map[string]any { return map[string]any{"sessionId": f.session} }},
	"sessions.refresh": {func(f walkFixture) map[string]any { return map[string]any{"sessionId": f.session} }},
	"sessions.revoke":  {func(f walkFixture) map[string]any { return map[string]any{"sessionId": f.session} }},

	"policies.list": {func(walkFixture) map[string]any { return map[string]any{"type": "PASSWORD"} }},
	"policies.create": {func(walkFixture) map[string]any {
		return map[string]any{"body": map[string]any{"type": "OKTA_SIGN_ON", "name": "Executives", "description": "MFA always"}}
	}},
	"policies.get": {func(walkFixture) map[string]any { return map[string]any{"policyId": oktasim.SeedPolicyPasswordDefault} }},
	"policies.replace": {func(walkFixture) map[string]any {
		return map[string]any{"policyId": oktasim.SeedPolicySignOnContractors, "body": map[string]any{"type": "OKTA_SIGN_ON", "name": "Contractors v2"}}
	}},
	"policies.delete": {func(walkFixture) map[string]any {
		return map[string]any{"policyId": oktasim.SeedPolicySignOnContractors}
	}},
	"policies.activate": {func(walkFixture) map[string]any { return map[string]any{"policyId": oktasim.SeedPolicyAccessInternal} }},
	"policies.deactivate": {func(walkFixture) map[string]any {
		return map[string]any{"policyId": oktasim.SeedPolicySignOnContractors}
	}},
	"policies.list_rules": {func(walkFixture) map[string]any { return map[string]any{"policyId": oktasim.SeedPolicySignOnDefault} }},

	// Factors: a security question's answer, the pass codes some types are
	// enrolled with, a hardware token's seed; a TOTP factor waiting for
	// activation is answered with its shared secret and QR code link.
	"factors.list": {func(walkFixture) map[string]any { return map[string]any{"userId": oktasim.SeedUserCarol} }},
	"factors.enroll": {
		func(walkFixture) map[string]any {
			return map[string]any{"userId": oktasim.SeedUserIvan, "body": map[string]any{"factorType": "question", "provider": "OKTA",
				"profile": map[string]any{"question": "disliked_food", "answer": sec("answer")}}}
		},
		func(walkFixture) map[string]any {
			return map[string]any{"userId": oktasim.SeedUserDave, "activate": true, "tokenLifetimeSeconds": 300.0, "body": map[string]any{
				"factorType": "sms", "provider": "OKTA", "profile": map[string]any{"phoneNumber": "+1 415 555 0100"},
				"verify": map[string]any{"passCode": sec("passCode"), "nextPassCode": sec("nextPassCode")}}}
		},
		func(walkFixture) map[string]any {
			return map[string]any{"userId": oktasim.SeedUserIvan, "body": map[string]any{"factorType": "token:software:totp", "provider": "GOOGLE",
				"profile": map[string]any{"sharedSecret": sec("sharedSecret")}}}
		},
	},
	"factors.get": {func(f walkFixture) map[string]any {
		return map[string]any{"userId": oktasim.SeedUserCarol, "factorId": f.totp}
	}},
	"factors.unenroll": {func(f walkFixture) map[string]any {
		return map[string]any{"userId": oktasim.SeedUserCarol, "factorId": f.totp, "removeRecoveryEnrollment": true}
	}},

	// The System Log names sessions (externalSessionId, targets, request
	// URIs); the fixture's sign-in and calls put the marked one there.
	"logs.list": {func(walkFixture) map[string]any { return map[string]any{"limit": 1000.0, "sortOrder": "DESCENDING"} }},
}

func newUser(login string, credentials map[string]any) map[string]any {
	return map[string]any{"profile": map[string]any{"firstName": "Nina", "lastName": "New", "email": login, "login": login},
		"credentials": credentials}
}

// oidcApp is an OpenID Connect app with a client secret and a private JWK
// (an agent's mistake: Okta wants only the public members).
func oidcApp(label string) map[string]any {
	return map[string]any{"name": "oidc_client", "label": label, "signOnMode": "OPENID_CONNECT",
		"credentials": map[string]any{"oauthClient": map[string]any{"client_id": "agent-portal", "autoKeyRotation": false,
			"client_secret": sec("client_secret"), "token_endpoint_auth_method": "client_secret_post"}},
		"settings": map[string]any{"oauthClient": map[string]any{
			"redirect_uris": []any{"https://portal.example.com/callback"}, "grant_types": []any{"authorization_code"},
			"response_types": []any{"code"}, "application_type": "web",
			"jwks": map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "k1", "use": "sig", "e": "AQAB", "n": "u1SU1LfVLPHCozMxH2Mo",
				"d": sec("d"), "p": sec("p"), "q": sec("q"), "dp": sec("dp"), "dq": sec("dq"), "qi": sec("qi")}}}}}}
}

// TestCatalogWalkMasksEverySecret sends, for every catalog action, requests
// holding every secret its request can carry to the simulator, and writes
// the audit record the gateway would: Resource and Params from
// catalog.Bind, and a context with the target facts pkg/target looks up.
// The context also holds the action's answer and the System Log after it,
// because facts taken from Okta's answers land in the context. No secret,
// the test's or one the simulator invented, may appear in the record.
func TestCatalogWalkMasksEverySecret(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range catalog.Actions() {
		seen[a.Name] = true
		cases := maskWalkCases[a.Name]
		if len(cases) == 0 {
			t.Errorf("%s: no case in maskWalkCases: add one with every secret-bearing field the action's request can carry", a.Name)
			continue
		}
		for i, params := range cases {
			t.Run(fmt.Sprintf("%s/%d", a.Name, i), func(t *testing.T) {
				rec, carried := walkRecord(t, a, params)
				var out tooltest.Buffer
				l := newTestLogger(t, WithStdout(&out))
				if err := l.Write(t.Context(), rec); err != nil {
					t.Fatal(err)
				}
				got := decodeLines(t, out.Bytes())[0]
				for _, leak := range findMarker(got, "") {
					t.Errorf("secret written in clear at %s", leak)
				}
				// Masking must not swallow the answer whole: its shape stays.
				if want, reply := rec.Context["reply"], got["context"].(map[string]any)["reply"]; fmt.Sprintf("%T", want) != fmt.Sprintf("%T", reply) {
					t.Errorf("the answer became a %T", reply)
				}
				if !carried {
					t.Error("nothing in the record carried a secret before masking: the walk tests nothing")
				}
			})
		}
	}
	for name := range maskWalkCases {
		if !seen[name] {
			t.Errorf("maskWalkCases has %s, which is no catalog action", name)
		}
	}
}

// walkRecord runs one request against a fresh simulated org the way the
// gateway does (bind, look up the target, call Okta) and returns its audit
// record, and whether anything in it carried the marker before masking.
func walkRecord(t *testing.T, a *catalog.Action, params func(walkFixture) map[string]any) (*Record, bool) {
	t.Helper()
	ctx := t.Context()
	sim := oktasim.New(oktasim.WithSecretMarker(secretMarker), oktasim.WithClock(func() time.Time { return testTime }))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := forward.New(srv.URL, forward.WithAPIToken(sim.APIToken()))
	if err != nil {
		t.Fatal(err)
	}
	do := func(name string, p map[string]any) any {
		t.Helper()
		call, err := catalog.Bind(name, p)
		if err != nil {
			t.Fatalf("bind %s: %v", name, err)
		}
		resp, err := c.Do(ctx, call, "dec-walk")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var v any
		if len(resp.Body) > 0 {
			if err := json.Unmarshal(resp.Body, &v); err != nil {
				t.Fatalf("%s answered %s: %v", name, resp.Body, err)
			}
		}
		return v
	}

	var f walkFixture
	if f.session, err = sim.StartSession(oktasim.SeedUserAlice); err != nil {
		t.Fatal(err)
	}
	totp := do("factors.enroll", map[string]any{"userId": oktasim.SeedUserCarol,
		"body": map[string]any{"factorType": "token:software:totp", "provider": "GOOGLE"}})
	f.totp, _ = totp.(map[string]any)["id"].(string)

	call, err := catalog.Bind(a.Name, params(f))
	if err != nil {
		t.Fatalf("bind: %v", err)
	}
	facts, err := target.New(c).Facts(ctx, call, target.Lookup{DecisionID: "dec-walk"})
	if err != nil {
		t.Fatal(err)
	}
	answer := do(a.Name, params(f))
	log := do("logs.list", map[string]any{"limit": 1000.0})
	rec := &Record{
		Time: testTime, DecisionID: "dec-walk", AgentID: "walker", Action: a.Name, Area: a.Area, Access: string(a.Access),
		Resource: call.Resource, Params: call.Params,
		Context: map[string]any{
			"counts": map[string]any{"destructive": map[string]any{"hour": 0, "day": 0}},
			"target": facts, "reply": answer, "log": log,
		},
		Result: "ok", OktaStatus: 200,
	}
	raw, err := json.Marshal(map[string]any{"r": rec.Resource, "p": rec.Params, "c": rec.Context})
	if err != nil {
		t.Fatal(err)
	}
	return rec, bytes.Contains(raw, []byte(secretMarker))
}

// findMarker lists the paths of the strings in v that hold the marker.
func findMarker(v any, path string) []string {
	var out []string
	switch v := v.(type) {
	case string:
		if strings.Contains(v, secretMarker) {
			out = append(out, path)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if strings.Contains(k, secretMarker) {
				out = append(out, path+"."+k+" (key)")
			}
			out = append(out, findMarker(v[k], path+"."+k)...)
		}
	case []any:
		for i, e := range v {
			out = append(out, findMarker(e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}
