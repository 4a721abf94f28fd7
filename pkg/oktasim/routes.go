package oktasim

import "strings"

// route is one method and path template. "{}" segments are parameters.
// scope is the OAuth scope an access token must carry to call it.
type route struct {
	method  string
	pattern []string
	scope   string
	h       handlerFunc
}

func (rt *route) match(segs []string) ([]string, bool) {
	if len(segs) != len(rt.pattern) {
		return nil, false
	}
	var params []string
	for i, p := range rt.pattern {
		if p == "{}" {
			params = append(params, segs[i])
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

func endpoint(method, path, scope string, h handlerFunc) route {
	var pattern []string
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if strings.HasPrefix(seg, "{") {
			seg = "{}"
		}
		pattern = append(pattern, seg)
	}
	return route{method: method, pattern: pattern, scope: scope, h: h}
}

// The scopes of Okta's Management API, as its OpenAPI document lists them
// per operation: each operation names exactly one, and a manage scope does
// not stand in for the read scope of the same area. They are spelled out
// here rather than taken from Bollard's catalog because the simulator stands
// for Okta, which knows nothing of Bollard.
const (
	scopeUsersRead      = "okta.users.read"
	scopeUsersManage    = "okta.users.manage"
	scopeGroupsRead     = "okta.groups.read"
	scopeGroupsManage   = "okta.groups.manage"
	scopeAppsRead       = "okta.apps.read"
	scopeAppsManage     = "okta.apps.manage"
	scopeSessionsRead   = "okta.sessions.read"
	scopeSessionsManage = "okta.sessions.manage"
	scopePoliciesRead   = "okta.policies.read"
	scopePoliciesManage = "okta.policies.manage"
	scopeLogsRead       = "okta.logs.read"
	scopeRolesRead      = "okta.roles.read"
	scopeHooksRead      = "okta.eventHooks.read"
	scopeHooksManage    = "okta.eventHooks.manage"
)

// routes is every endpoint the simulator serves: the paths of Bollard's
// action catalog, with Okta's methods and scopes, and the lookups Bollard
// makes for itself (a user's groups and admin roles, a group's admin
// roles, which policies weigh before a call that touches them; see
// nonCatalogRoutes in catalog_test.go), and Okta's event hook management, with which an org is told where to push
// events (hooks_api.go; hookRoutes in catalog_test.go). More specific
// templates need no ordering because segment counts and literals never
// overlap.
var routes = []route{
	endpoint("GET", "/api/v1/users", scopeUsersRead, (*Sim).listUsers),
	endpoint("POST", "/api/v1/users", scopeUsersManage, (*Sim).createUser),
	endpoint("GET", "/api/v1/users/{userId}", scopeUsersRead, (*Sim).getUser),
	endpoint("POST", "/api/v1/users/{userId}", scopeUsersManage, (*Sim).updateUser),
	endpoint("PUT", "/api/v1/users/{userId}", scopeUsersManage, (*Sim).replaceUser),
	endpoint("DELETE", "/api/v1/users/{userId}", scopeUsersManage, (*Sim).deleteUser),

	endpoint("GET", "/api/v1/users/{userId}/groups", scopeUsersRead, (*Sim).listUserGroups),
	endpoint("GET", "/api/v1/users/{userId}/roles", scopeRolesRead, (*Sim).listUserRoles),

	endpoint("POST", "/api/v1/users/{userId}/lifecycle/activate", scopeUsersManage, (*Sim).activateUser),
	endpoint("POST", "/api/v1/users/{userId}/lifecycle/deactivate", scopeUsersManage, (*Sim).deactivateUser),
	endpoint("POST", "/api/v1/users/{userId}/lifecycle/reactivate", scopeUsersManage, (*Sim).reactivateUser),
	endpoint("POST", "/api/v1/users/{userId}/lifecycle/suspend", scopeUsersManage, (*Sim).suspendUser),
	endpoint("POST", "/api/v1/users/{userId}/lifecycle/unsuspend", scopeUsersManage, (*Sim).unsuspendUser),
	endpoint("POST", "/api/v1/users/{userId}/lifecycle/unlock", scopeUsersManage, (*Sim).unlockUser),

	endpoint("GET", "/api/v1/groups", scopeGroupsRead, (*Sim).listGroups),
	endpoint("POST", "/api/v1/groups", scopeGroupsManage, (*Sim).createGroup),
	endpoint("GET", "/api/v1/groups/{groupId}", scopeGroupsRead, (*Sim).getGroup),
	endpoint("PUT", "/api/v1/groups/{groupId}", scopeGroupsManage, (*Sim).replaceGroup),
	endpoint("DELETE", "/api/v1/groups/{groupId}", scopeGroupsManage, (*Sim).deleteGroup),
	endpoint("GET", "/api/v1/groups/{groupId}/users", scopeGroupsRead, (*Sim).listGroupMembers),
	endpoint("PUT", "/api/v1/groups/{groupId}/users/{userId}", scopeGroupsManage, (*Sim).addGroupMember),
	endpoint("DELETE", "/api/v1/groups/{groupId}/users/{userId}", scopeGroupsManage, (*Sim).removeGroupMember),
	endpoint("GET", "/api/v1/groups/{groupId}/roles", scopeRolesRead, (*Sim).listGroupRoles),

	endpoint("GET", "/api/v1/apps", scopeAppsRead, (*Sim).listApps),
	endpoint("POST", "/api/v1/apps", scopeAppsManage, (*Sim).createApp),
	endpoint("GET", "/api/v1/apps/{appId}", scopeAppsRead, (*Sim).getApp),
	endpoint("PUT", "/api/v1/apps/{appId}", scopeAppsManage, (*Sim).replaceApp),
	endpoint("DELETE", "/api/v1/apps/{appId}", scopeAppsManage, (*Sim).deleteApp),
	endpoint("POST", "/api/v1/apps/{appId}/lifecycle/activate", scopeAppsManage, (*Sim).activateApp),
	endpoint("POST", "/api/v1/apps/{appId}/lifecycle/deactivate", scopeAppsManage, (*Sim).deactivateApp),

	endpoint("GET", "/api/v1/apps/{appId}/users", scopeAppsRead, (*Sim).listAppUsers),
	endpoint("POST", "/api/v1/apps/{appId}/users", scopeAppsManage, (*Sim).assignAppUser),
	endpoint("GET", "/api/v1/apps/{appId}/users/{userId}", scopeAppsRead, (*Sim).getAppUser),
	endpoint("POST", "/api/v1/apps/{appId}/users/{userId}", scopeAppsManage, (*Sim).updateAppUser),
	endpoint("DELETE", "/api/v1/apps/{appId}/users/{userId}", scopeAppsManage, (*Sim).unassignAppUser),

	endpoint("GET", "/api/v1/sessions/{sessionId}", scopeSessionsRead, (*Sim).getSession),
	endpoint("POST", "/api/v1/sessions/{sessionId}/lifecycle/refresh", scopeSessionsManage, (*Sim).refreshSession),
	endpoint("DELETE", "/api/v1/sessions/{sessionId}", scopeSessionsManage, (*Sim).revokeSession),

	endpoint("GET", "/api/v1/policies", scopePoliciesRead, (*Sim).listPolicies),
	endpoint("POST", "/api/v1/policies", scopePoliciesManage, (*Sim).createPolicy),
	endpoint("GET", "/api/v1/policies/{policyId}", scopePoliciesRead, (*Sim).getPolicy),
	endpoint("PUT", "/api/v1/policies/{policyId}", scopePoliciesManage, (*Sim).replacePolicy),
	endpoint("DELETE", "/api/v1/policies/{policyId}", scopePoliciesManage, (*Sim).deletePolicy),
	endpoint("POST", "/api/v1/policies/{policyId}/lifecycle/activate", scopePoliciesManage, (*Sim).activatePolicy),
	endpoint("POST", "/api/v1/policies/{policyId}/lifecycle/deactivate", scopePoliciesManage, (*Sim).deactivatePolicy),
	endpoint("GET", "/api/v1/policies/{policyId}/rules", scopePoliciesRead, (*Sim).listPolicyRules),

	endpoint("GET", "/api/v1/users/{userId}/factors", scopeUsersRead, (*Sim).listFactors),
	endpoint("POST", "/api/v1/users/{userId}/factors", scopeUsersManage, (*Sim).enrollFactor),
	endpoint("GET", "/api/v1/users/{userId}/factors/{factorId}", scopeUsersRead, (*Sim).getFactor),
	endpoint("DELETE", "/api/v1/users/{userId}/factors/{factorId}", scopeUsersManage, (*Sim).unenrollFactor),

	endpoint("GET", "/api/v1/logs", scopeLogsRead, (*Sim).listLogs),

	endpoint("GET", "/api/v1/eventHooks", scopeHooksRead, (*Sim).listEventHooks),
	endpoint("POST", "/api/v1/eventHooks", scopeHooksManage, (*Sim).createEventHook),
	endpoint("GET", "/api/v1/eventHooks/{eventHookId}", scopeHooksRead, (*Sim).getEventHook),
	endpoint("DELETE", "/api/v1/eventHooks/{eventHookId}", scopeHooksManage, (*Sim).deleteEventHook),
	endpoint("POST", "/api/v1/eventHooks/{eventHookId}/lifecycle/verify", scopeHooksManage, (*Sim).verifyEventHook),
	endpoint("POST", "/api/v1/eventHooks/{eventHookId}/lifecycle/activate", scopeHooksManage, (*Sim).activateEventHook),
	endpoint("POST", "/api/v1/eventHooks/{eventHookId}/lifecycle/deactivate", scopeHooksManage, (*Sim).deactivateEventHook),
}
