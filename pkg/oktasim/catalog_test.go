package oktasim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// catalogCase is a valid request for one catalog action against the seed
// org, and the status Okta answers it with.
type catalogCase struct {
	params map[string]string
	query  url.Values
	body   any
	status int
}

var catalogCases = map[string]catalogCase{
	"users.list":    {query: url.Values{"limit": {"5"}}, status: http.StatusOK},
	"users.create":  {query: url.Values{"activate": {"false"}}, body: newUserBody("nina.new@example.com"), status: http.StatusOK},
	"users.get":     {params: map[string]string{"userId": SeedLoginAlice}, status: http.StatusOK},
	"users.update":  {params: map[string]string{"userId": SeedUserAlice}, body: map[string]any{"profile": map[string]any{"title": "Principal"}}, status: http.StatusOK},
	"users.replace": {params: map[string]string{"userId": SeedUserAlice}, body: newUserBody(SeedLoginAlice), status: http.StatusOK},
	"users.delete":  {params: map[string]string{"userId": SeedUserHeidi}, status: http.StatusNoContent},

	"user_lifecycle.activate":   {params: map[string]string{"userId": SeedUserDave}, query: url.Values{"sendEmail": {"false"}}, status: http.StatusOK},
	"user_lifecycle.deactivate": {params: map[string]string{"userId": SeedUserCarol}, status: http.StatusOK},
	"user_lifecycle.reactivate": {params: map[string]string{"userId": SeedUserErin}, status: http.StatusOK},
	"user_lifecycle.suspend":    {params: map[string]string{"userId": SeedUserCarol}, status: http.StatusOK},
	"user_lifecycle.unsuspend":  {params: map[string]string{"userId": SeedUserFrank}, status: http.StatusOK},
	"user_lifecycle.unlock":     {params: map[string]string{"userId": SeedUserGrace}, status: http.StatusOK},

	"groups.list":          {query: url.Values{"q": {"Eng"}}, status: http.StatusOK},
	"groups.create":        {body: map[string]any{"profile": map[string]any{"name": "Finance", "description": "Money"}}, status: http.StatusOK},
	"groups.get":           {params: map[string]string{"groupId": SeedGroupEngineering}, status: http.StatusOK},
	"groups.replace":       {params: map[string]string{"groupId": SeedGroupSupport}, body: map[string]any{"profile": map[string]any{"name": "Customer Support"}}, status: http.StatusOK},
	"groups.delete":        {params: map[string]string{"groupId": SeedGroupSupport}, status: http.StatusNoContent},
	"groups.list_members":  {params: map[string]string{"groupId": SeedGroupEngineering}, status: http.StatusOK},
	"groups.add_member":    {params: map[string]string{"groupId": SeedGroupSupport, "userId": SeedUserAlice}, status: http.StatusNoContent},
	"groups.remove_member": {params: map[string]string{"groupId": SeedGroupEngineering, "userId": SeedUserAlice}, status: http.StatusNoContent},

	"apps.list":       {status: http.StatusOK},
	"apps.create":     {body: map[string]any{"label": "Team Wiki", "signOnMode": "BOOKMARK", "settings": map[string]any{"app": map[string]any{"url": "https://wiki.example.com/team"}}}, status: http.StatusOK},
	"apps.get":        {params: map[string]string{"appId": SeedAppGitHub}, status: http.StatusOK},
	"apps.replace":    {params: map[string]string{"appId": SeedAppLegacyWiki}, body: map[string]any{"label": "Old Wiki", "signOnMode": "BOOKMARK"}, status: http.StatusOK},
	"apps.delete":     {params: map[string]string{"appId": SeedAppLegacyWiki}, status: http.StatusNoContent},
	"apps.activate":   {params: map[string]string{"appId": SeedAppLegacyWiki}, status: http.StatusOK},
	"apps.deactivate": {params: map[string]string{"appId": SeedAppGitHub}, status: http.StatusOK},

	"app_assignments.list":     {params: map[string]string{"appId": SeedAppSalesforce}, status: http.StatusOK},
	"app_assignments.assign":   {params: map[string]string{"appId": SeedAppSalesforce}, body: map[string]any{"id": SeedUserCarol, "scope": "USER"}, status: http.StatusOK},
	"app_assignments.get":      {params: map[string]string{"appId": SeedAppSalesforce, "userId": SeedUserBob}, status: http.StatusOK},
	"app_assignments.update":   {params: map[string]string{"appId": SeedAppSalesforce, "userId": SeedUserBob}, body: map[string]any{"profile": map[string]any{"role": "Manager"}}, status: http.StatusOK},
	"app_assignments.unassign": {params: map[string]string{"appId": SeedAppSalesforce, "userId": SeedUserBob}, status: http.StatusNoContent},

	"sessions.get":     {params: map[string]string{"sessionId": SeedSessionAlice}, status: http.StatusOK},
	"sessions.refresh": {params: map[string]string{"sessionId": SeedSessionAlice}, status: http.StatusOK},
	"sessions.revoke":  {params: map[string]string{"sessionId": SeedSessionAlice}, status: http.StatusNoContent},

	"policies.list":       {query: url.Values{"type": {"PASSWORD"}}, status: http.StatusOK},
	"policies.create":     {body: map[string]any{"type": "OKTA_SIGN_ON", "name": "Executives", "description": "MFA always"}, status: http.StatusOK},
	"policies.get":        {params: map[string]string{"policyId": SeedPolicyPasswordDefault}, status: http.StatusOK},
	"policies.replace":    {params: map[string]string{"policyId": SeedPolicySignOnContractors}, body: map[string]any{"type": "OKTA_SIGN_ON", "name": "Contractors v2"}, status: http.StatusOK},
	"policies.delete":     {params: map[string]string{"policyId": SeedPolicySignOnContractors}, status: http.StatusNoContent},
	"policies.activate":   {params: map[string]string{"policyId": SeedPolicyAccessInternal}, status: http.StatusNoContent},
	"policies.deactivate": {params: map[string]string{"policyId": SeedPolicySignOnContractors}, status: http.StatusNoContent},
	"policies.list_rules": {params: map[string]string{"policyId": SeedPolicySignOnDefault}, status: http.StatusOK},

	"factors.list":     {params: map[string]string{"userId": SeedUserAlice}, status: http.StatusOK},
	"factors.enroll":   {params: map[string]string{"userId": SeedUserCarol}, body: map[string]any{"factorType": "email", "provider": "OKTA", "profile": map[string]any{"email": SeedLoginCarol}}, status: http.StatusOK},
	"factors.get":      {params: map[string]string{"userId": SeedUserAlice, "factorId": SeedFactorAliceFastPass}, status: http.StatusOK},
	"factors.unenroll": {params: map[string]string{"userId": SeedUserBob, "factorId": SeedFactorBobEmail}, status: http.StatusNoContent},

	"logs.list": {query: url.Values{"limit": {"3"}, "sortOrder": {"DESCENDING"}}, status: http.StatusOK},
}

// TestEveryCatalogActionIsServed sends a valid request for every action in
// Bollard's catalog, each against a fresh seed org, and checks Okta's
// success status. A new catalog action without a case here fails the test.
func TestEveryCatalogActionIsServed(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range catalog.Actions() {
		seen[a.Name] = true
		t.Run(a.Name, func(t *testing.T) {
			tc, ok := catalogCases[a.Name]
			if !ok {
				t.Fatalf("no simulator case for catalog action %s (%s %s)", a.Name, a.Method, a.Path)
			}
			e := newEnv(t)
			path := a.Path
			for _, name := range a.PathParams() {
				v, ok := tc.params[name]
				if !ok {
					t.Fatalf("case lacks path parameter %s", name)
				}
				path = strings.Replace(path, "{"+name+"}", url.PathEscape(v), 1)
			}
			if len(tc.query) > 0 {
				path += "?" + tc.query.Encode()
			}
			before := len(e.sim.Events())
			resp := e.do(a.Method, path, tc.body).want(t, tc.status)
			switch {
			case tc.status == http.StatusNoContent:
				if len(resp.body) != 0 {
					t.Errorf("204 with a body: %s", resp.body)
				}
			case a.Paginated() || strings.HasSuffix(a.Name, ".list_rules") || a.Name == "factors.list":
				resp.array(t)
			default:
				resp.object(t)
			}
			if a.Paginated() {
				if _, ok := links(t, resp.header)["self"]; !ok {
					t.Errorf("list response has no Link rel=self")
				}
			}
			changed := len(e.sim.Events()) > before
			if a.Access == catalog.Manage && !changed {
				t.Errorf("%s changed the org but recorded no System Log event", a.Name)
			}
			if a.Access == catalog.Read && changed {
				t.Errorf("%s only reads but recorded a System Log event", a.Name)
			}
			if a.Event != "" && !hasEvent(e.sim.Events()[before:], a.Event) {
				t.Errorf("no %s event recorded", a.Event)
			}
		})
	}
	for name := range catalogCases {
		if !seen[name] {
			t.Errorf("case %s names no catalog action", name)
		}
	}
}

func hasEvent(events []Event, eventType string) bool {
	for _, e := range events {
		if e.EventType == eventType {
			return true
		}
	}
	return false
}

// TestRouteScopesMatchCatalog checks the scope the simulator demands of an
// access token for each endpoint against the scope Bollard's catalog
// expects Okta to demand. The simulator keeps its own table (it stands for
// Okta); this keeps the two from drifting apart.
func TestRouteScopesMatchCatalog(t *testing.T) {
	for _, a := range catalog.Actions() {
		t.Run(a.Name, func(t *testing.T) {
			path := a.Path
			for _, name := range a.PathParams() {
				path = strings.Replace(path, "{"+name+"}", "x", 1)
			}
			segs, _ := splitPath(path)
			rt, _, _ := match(a.Method, segs)
			if rt == nil {
				t.Fatalf("no route for %s %s", a.Method, a.Path)
			}
			if rt.scope != a.Scope {
				t.Errorf("simulator demands %s, catalog expects %s", rt.scope, a.Scope)
			}
		})
	}
}

// nonCatalogRoutes are the endpoints the simulator serves that are not
// actions agents may ask for: lookups Bollard makes with its own
// credential (pkg/target reads a user's groups and admin roles, and a
// group's admin roles, before a call that touches them). Keyed by method and path template with
// "{}" for parameters, as routes are.
var nonCatalogRoutes = map[string]string{
	"GET /api/v1/users/{}/groups": "pkg/target: the target user's groups",
	"GET /api/v1/users/{}/roles":  "pkg/target: the target user's admin roles",
	"GET /api/v1/groups/{}/roles": "pkg/target: the admin roles a target group holds",
}

// hookRoutes are Okta's event hook management endpoints. Bollard receives
// the events a hook delivers; it never manages hooks, so these are no
// actions agents may ask for either. They are served so that tests and dev
// mode can register a hook the way an admin does at Okta.
var hookRoutes = map[string]string{
	"GET /api/v1/eventHooks":                          "list event hooks",
	"POST /api/v1/eventHooks":                         "create an event hook",
	"GET /api/v1/eventHooks/{}":                       "get an event hook",
	"DELETE /api/v1/eventHooks/{}":                    "delete an inactive event hook",
	"POST /api/v1/eventHooks/{}/lifecycle/verify":     "verify an event hook's endpoint",
	"POST /api/v1/eventHooks/{}/lifecycle/activate":   "activate an event hook",
	"POST /api/v1/eventHooks/{}/lifecycle/deactivate": "deactivate an event hook",
}

func routeKey(method string, pattern []string) string {
	return method + " /" + strings.Join(pattern, "/")
}

// TestEveryRouteIsAccountedFor checks the other direction from
// TestEveryCatalogActionIsServed: each simulator route is a catalog action,
// a lookup listed in nonCatalogRoutes or event hook management listed in
// hookRoutes, so an endpoint added for Bollard's own use is never mistaken
// for one agents can call, and vice versa.
func TestEveryRouteIsAccountedFor(t *testing.T) {
	inCatalog := map[string]bool{}
	for _, a := range catalog.Actions() {
		rt := endpoint(a.Method, a.Path, "", nil)
		inCatalog[routeKey(rt.method, rt.pattern)] = true
	}
	served := map[string]bool{}
	for _, rt := range routes {
		key := routeKey(rt.method, rt.pattern)
		served[key] = true
		_, lookup := nonCatalogRoutes[key]
		_, hook := hookRoutes[key]
		switch {
		case inCatalog[key] && (lookup || hook):
			t.Errorf("%s is a catalog action and also listed in nonCatalogRoutes or hookRoutes", key)
		case !inCatalog[key] && !lookup && !hook:
			t.Errorf("%s is neither a catalog action nor listed in nonCatalogRoutes or hookRoutes", key)
		case lookup && rt.method != http.MethodGet:
			t.Errorf("%s: Bollard's own lookups must only read", key)
		}
	}
	for _, listed := range []map[string]string{nonCatalogRoutes, hookRoutes} {
		for key := range listed {
			if !served[key] {
				t.Errorf("%s is listed as served, but the simulator does not serve it", key)
			}
		}
	}
}
