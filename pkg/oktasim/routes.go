package oktasim

import "strings"

// route is one method and path template. "{}" segments are parameters.
type route struct {
	method  string
	pattern []string
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

func endpoint(method, path string, h handlerFunc) route {
	var pattern []string
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if strings.HasPrefix(seg, "{") {
			seg = "{}"
		}
		pattern = append(pattern, seg)
	}
	return route{method: method, pattern: pattern, h: h}
}

// routes is every endpoint the simulator serves: the paths of Bollard's
// action catalog, with Okta's methods. More specific templates need no
// ordering because segment counts and literals never overlap.
var routes = []route{
	endpoint("GET", "/api/v1/users", (*Sim).listUsers),
	endpoint("POST", "/api/v1/users", (*Sim).createUser),
	endpoint("GET", "/api/v1/users/{userId}", (*Sim).getUser),
	endpoint("POST", "/api/v1/users/{userId}", (*Sim).updateUser),
	endpoint("PUT", "/api/v1/users/{userId}", (*Sim).replaceUser),
	endpoint("DELETE", "/api/v1/users/{userId}", (*Sim).deleteUser),

	endpoint("POST", "/api/v1/users/{userId}/lifecycle/activate", (*Sim).activateUser),
	endpoint("POST", "/api/v1/users/{userId}/lifecycle/deactivate", (*Sim).deactivateUser),
	endpoint("POST", "/api/v1/users/{userId}/lifecycle/reactivate", (*Sim).reactivateUser),
	endpoint("POST", "/api/v1/users/{userId}/lifecycle/suspend", (*Sim).suspendUser),
	endpoint("POST", "/api/v1/users/{userId}/lifecycle/unsuspend", (*Sim).unsuspendUser),
	endpoint("POST", "/api/v1/users/{userId}/lifecycle/unlock", (*Sim).unlockUser),

	endpoint("GET", "/api/v1/groups", (*Sim).listGroups),
	endpoint("POST", "/api/v1/groups", (*Sim).createGroup),
	endpoint("GET", "/api/v1/groups/{groupId}", (*Sim).getGroup),
	endpoint("PUT", "/api/v1/groups/{groupId}", (*Sim).replaceGroup),
	endpoint("DELETE", "/api/v1/groups/{groupId}", (*Sim).deleteGroup),
	endpoint("GET", "/api/v1/groups/{groupId}/users", (*Sim).listGroupMembers),
	endpoint("PUT", "/api/v1/groups/{groupId}/users/{userId}", (*Sim).addGroupMember),
	endpoint("DELETE", "/api/v1/groups/{groupId}/users/{userId}", (*Sim).removeGroupMember),

	endpoint("GET", "/api/v1/apps", (*Sim).listApps),
	endpoint("POST", "/api/v1/apps", (*Sim).createApp),
	endpoint("GET", "/api/v1/apps/{appId}", (*Sim).getApp),
	endpoint("PUT", "/api/v1/apps/{appId}", (*Sim).replaceApp),
	endpoint("DELETE", "/api/v1/apps/{appId}", (*Sim).deleteApp),
	endpoint("POST", "/api/v1/apps/{appId}/lifecycle/activate", (*Sim).activateApp),
	endpoint("POST", "/api/v1/apps/{appId}/lifecycle/deactivate", (*Sim).deactivateApp),

	endpoint("GET", "/api/v1/apps/{appId}/users", (*Sim).listAppUsers),
	endpoint("POST", "/api/v1/apps/{appId}/users", (*Sim).assignAppUser),
	endpoint("GET", "/api/v1/apps/{appId}/users/{userId}", (*Sim).getAppUser),
	endpoint("POST", "/api/v1/apps/{appId}/users/{userId}", (*Sim).updateAppUser),
	endpoint("DELETE", "/api/v1/apps/{appId}/users/{userId}", (*Sim).unassignAppUser),

	endpoint("GET", "/api/v1/sessions/{sessionId}", (*Sim).getSession),
	endpoint("POST", "/api/v1/sessions/{sessionId}/lifecycle/refresh", (*Sim).refreshSession),
	endpoint("DELETE", "/api/v1/sessions/{sessionId}", (*Sim).revokeSession),

	endpoint("GET", "/api/v1/policies", (*Sim).listPolicies),
	endpoint("POST", "/api/v1/policies", (*Sim).createPolicy),
	endpoint("GET", "/api/v1/policies/{policyId}", (*Sim).getPolicy),
	endpoint("PUT", "/api/v1/policies/{policyId}", (*Sim).replacePolicy),
	endpoint("DELETE", "/api/v1/policies/{policyId}", (*Sim).deletePolicy),
	endpoint("POST", "/api/v1/policies/{policyId}/lifecycle/activate", (*Sim).activatePolicy),
	endpoint("POST", "/api/v1/policies/{policyId}/lifecycle/deactivate", (*Sim).deactivatePolicy),
	endpoint("GET", "/api/v1/policies/{policyId}/rules", (*Sim).listPolicyRules),

	endpoint("GET", "/api/v1/users/{userId}/factors", (*Sim).listFactors),
	endpoint("POST", "/api/v1/users/{userId}/factors", (*Sim).enrollFactor),
	endpoint("GET", "/api/v1/users/{userId}/factors/{factorId}", (*Sim).getFactor),
	endpoint("DELETE", "/api/v1/users/{userId}/factors/{factorId}", (*Sim).unenrollFactor),

	endpoint("GET", "/api/v1/logs", (*Sim).listLogs),
}
