package catalog

// The page-size maxima Okta documents for each list endpoint.
const (
	maxUsersPage       = 200
	maxGroupsPage      = 10000
	maxMembersPage     = 1000
	maxAppsPage        = 200
	maxAssignmentsPage = 500
	maxPoliciesPage    = 200
	maxLogsPage        = 1000
)

const (
	searchLen = 2048
	qLen      = 256
	expandLen = 64
)

var areas = []Area{
	{Name: "users", Service: "UsersService", Description: "List, read, create, update, replace and delete users."},
	{Name: "user_lifecycle", Service: "UserLifecycleService", Description: "Activate, deactivate, reactivate, suspend, unsuspend and unlock users."},
	{Name: "groups", Service: "GroupsService", Description: "List, read, create, replace and delete groups; list, add and remove members."},
	{Name: "apps", Service: "AppsService", Description: "List, read, create, replace, delete, activate and deactivate applications."},
	{Name: "app_assignments", Service: "AppAssignmentsService", Description: "List, assign, read, update and unassign application users."},
	{Name: "sessions", Service: "SessionsService", Description: "Read, refresh and revoke user sessions."},
	{Name: "policies", Service: "PoliciesService", Description: "List, read, create, replace, delete, activate and deactivate policies; list rules."},
	{Name: "factors", Service: "FactorsService", Description: "List, enroll, read and unenroll a user's MFA factors."},
	{Name: "logs", Service: "LogsService", Description: "Read the System Log."},
}

var (
	userID   = pathUser("user id, login or login short name")
	userOnly = pathID("userId", "user id")
	groupID  = pathID("groupId", "group id")
	appID    = pathID("appId", "application id")
	sessID   = pathID("sessionId", "session id")
	policyID = pathID("policyId", "policy id")
	factorID = pathID("factorId", "factor id")
	sendMail = qBool("sendEmail", "send the user Okta's notification email")
	sortDir  = qEnum("sortOrder", false, "sort direction", "asc", "desc")
	expand   = qString("expand", expandLen, "embed related objects")
)

var policyTypes = []string{
	"OKTA_SIGN_ON", "PASSWORD", "MFA_ENROLL", "IDP_DISCOVERY", "ACCESS_POLICY",
	"PROFILE_ENROLLMENT", "CONTINUOUS_ACCESS", "ENTITY_RISK",
}

var table = []Action{
	// users
	{Name: "users.list", Area: "users", Access: Read, Scope: "okta.users.read", Method: "GET", Path: "/api/v1/users", RPC: "ListUsers",
		Description: "List users, with optional q, search, filter, limit (max 200) and after cursor", MaxLimit: maxUsersPage,
		Params: []Param{qText("prefix match on first name, last name or email", "profile.firstName", "profile.lastName", "profile.email"),
			qExpr("search", searchLen, "SCIM-style search expression"),
			qExpr("filter", searchLen, "filter expression"), qSort("attribute to sort search results by"), sortDir, qLimit(maxUsersPage), qAfter()}},
	{Name: "users.create", Area: "users", Access: Manage, Scope: "okta.users.manage", Method: "POST", Path: "/api/v1/users", RPC: "CreateUser",
		Event: "user.lifecycle.create", Description: "Create a user; activate query flag; optional credentials",
		Params: []Param{qBool("activate", "activate the user on creation (Okta's default is true)"), qBool("provider", "create with a federated provider"),
			qEnum("nextLogin", false, "force a password change at next sign-in", "changePassword"), body(true, "the user: profile, optional credentials and groupIds")}},
	{Name: "users.get", Area: "users", Access: Read, Scope: "okta.users.read", Method: "GET", Path: "/api/v1/users/{userId}", RPC: "GetUser",
		Description: "Read one user by id, login or login shortname", Params: []Param{userID, expand}},
	{Name: "users.update", Area: "users", Access: Manage, Scope: "okta.users.manage", Method: "POST", Path: "/api/v1/users/{userId}", RPC: "UpdateUser",
		Event: "user.account.update_profile", Description: "Partial update of profile or credentials",
		Params: []Param{userID, qBool("strict", "validate the password against the password policy"), body(true, "the profile or credential fields to change")}},
	{Name: "users.replace", Area: "users", Access: Manage, Scope: "okta.users.manage", Method: "PUT", Path: "/api/v1/users/{userId}", RPC: "ReplaceUser",
		Description: "Replace the whole profile; unset fields are cleared",
		Params:      []Param{userID, qBool("strict", "validate the password against the password policy"), body(true, "the complete user profile")}},
	{Name: "users.delete", Area: "users", Access: Manage, Scope: "okta.users.manage", Method: "DELETE", Path: "/api/v1/users/{userId}", RPC: "DeleteUser",
		Destructive: true, Description: "Delete a user; Okta requires the user to be DEPROVISIONED first, otherwise the first DELETE deactivates",
		Params: []Param{userID, sendMail}},

	// user_lifecycle
	{Name: "user_lifecycle.activate", Area: "user_lifecycle", Access: Manage, Scope: "okta.users.manage", Method: "POST", Path: "/api/v1/users/{userId}/lifecycle/activate", RPC: "ActivateUser",
		Description: "Activate a STAGED or DEPROVISIONED user", Params: []Param{userID, sendMail}},
	{Name: "user_lifecycle.deactivate", Area: "user_lifecycle", Access: Manage, Scope: "okta.users.manage", Method: "POST", Path: "/api/v1/users/{userId}/lifecycle/deactivate", RPC: "DeactivateUser",
		Event: "user.lifecycle.deactivate", Destructive: true, Description: "Deactivate (DEPROVISIONED); signs out and blocks sign-in", Params: []Param{userID, sendMail}},
	{Name: "user_lifecycle.reactivate", Area: "user_lifecycle", Access: Manage, Scope: "okta.users.manage", Method: "POST", Path: "/api/v1/users/{userId}/lifecycle/reactivate", RPC: "ReactivateUser",
		Description: "Reactivate a PROVISIONED user that never finished activation", Params: []Param{userID, sendMail}},
	{Name: "user_lifecycle.suspend", Area: "user_lifecycle", Access: Manage, Scope: "okta.users.manage", Method: "POST", Path: "/api/v1/users/{userId}/lifecycle/suspend", RPC: "SuspendUser",
		Destructive: true, Description: "Suspend an ACTIVE user; reversible", Params: []Param{userID}},
	{Name: "user_lifecycle.unsuspend", Area: "user_lifecycle", Access: Manage, Scope: "okta.users.manage", Method: "POST", Path: "/api/v1/users/{userId}/lifecycle/unsuspend", RPC: "UnsuspendUser",
		Description: "Return a SUSPENDED user to ACTIVE", Params: []Param{userID}},
	{Name: "user_lifecycle.unlock", Area: "user_lifecycle", Access: Manage, Scope: "okta.users.manage", Method: "POST", Path: "/api/v1/users/{userId}/lifecycle/unlock", RPC: "UnlockUser",
		Description: "Unlock a LOCKED_OUT user without resetting the password", Params: []Param{userID}},

	// groups
	{Name: "groups.list", Area: "groups", Access: Read, Scope: "okta.groups.read", Method: "GET", Path: "/api/v1/groups", RPC: "ListGroups",
		Description: "List groups, with optional q, search, filter, limit and after", MaxLimit: maxGroupsPage,
		Params: []Param{qText("prefix match on the group name", "profile.name"), qExpr("search", searchLen, "SCIM-style search expression"),
			qExpr("filter", searchLen, "filter expression"), qSort("attribute to sort search results by"), sortDir, expand, qLimit(maxGroupsPage), qAfter()}},
	{Name: "groups.create", Area: "groups", Access: Manage, Scope: "okta.groups.manage", Method: "POST", Path: "/api/v1/groups", RPC: "CreateGroup",
		Description: "Create an OKTA_GROUP", Params: []Param{body(true, "the group: profile.name and profile.description")}},
	{Name: "groups.get", Area: "groups", Access: Read, Scope: "okta.groups.read", Method: "GET", Path: "/api/v1/groups/{groupId}", RPC: "GetGroup",
		Description: "Read one group", Params: []Param{groupID}},
	{Name: "groups.replace", Area: "groups", Access: Manage, Scope: "okta.groups.manage", Method: "PUT", Path: "/api/v1/groups/{groupId}", RPC: "ReplaceGroup",
		Description: "Replace a group's profile", Params: []Param{groupID, body(true, "the group's new profile")}},
	{Name: "groups.delete", Area: "groups", Access: Manage, Scope: "okta.groups.manage", Method: "DELETE", Path: "/api/v1/groups/{groupId}", RPC: "DeleteGroup",
		Destructive: true, Description: "Delete an OKTA_GROUP", Params: []Param{groupID}},
	{Name: "groups.list_members", Area: "groups", Access: Read, Scope: "okta.groups.read", Method: "GET", Path: "/api/v1/groups/{groupId}/users", RPC: "ListGroupMembers",
		Description: "List the member users of a group", MaxLimit: maxMembersPage,
		Params: []Param{groupID, qExpr("search", searchLen, "SCIM-style search expression"), qSort("attribute to sort by"), sortDir, qLimit(maxMembersPage), qAfter()}},
	{Name: "groups.add_member", Area: "groups", Access: Manage, Scope: "okta.groups.manage", Method: "PUT", Path: "/api/v1/groups/{groupId}/users/{userId}", RPC: "AddGroupMember",
		Event: "group.user_membership.add", Description: "Add a user to a group", Params: []Param{groupID, userOnly}},
	{Name: "groups.remove_member", Area: "groups", Access: Manage, Scope: "okta.groups.manage", Method: "DELETE", Path: "/api/v1/groups/{groupId}/users/{userId}", RPC: "RemoveGroupMember",
		Event: "group.user_membership.remove", Destructive: true, Description: "Remove a user from a group", Params: []Param{groupID, userOnly}},

	// apps
	{Name: "apps.list", Area: "apps", Access: Read, Scope: "okta.apps.read", Method: "GET", Path: "/api/v1/apps", RPC: "ListApps",
		Description: "List applications, with q, filter, limit and after", MaxLimit: maxAppsPage,
		Params: []Param{qText("prefix match on name or label", "name", "label"), qExpr("filter", searchLen, "filter expression"), expand,
			qBool("includeNonDeleted", "include apps that are not deleted"), qLimit(maxAppsPage), qAfter()}},
	{Name: "apps.create", Area: "apps", Access: Manage, Scope: "okta.apps.manage", Method: "POST", Path: "/api/v1/apps", RPC: "CreateApp",
		Description: "Create an application integration; activate query flag",
		Params:      []Param{qBool("activate", "activate the app on creation (Okta's default is true)"), body(true, "the application: name, label, signOnMode, settings")}},
	{Name: "apps.get", Area: "apps", Access: Read, Scope: "okta.apps.read", Method: "GET", Path: "/api/v1/apps/{appId}", RPC: "GetApp",
		Description: "Read one application", Params: []Param{appID, expand}},
	{Name: "apps.replace", Area: "apps", Access: Manage, Scope: "okta.apps.manage", Method: "PUT", Path: "/api/v1/apps/{appId}", RPC: "ReplaceApp",
		Description: "Replace an application", Params: []Param{appID, body(true, "the complete application")}},
	{Name: "apps.delete", Area: "apps", Access: Manage, Scope: "okta.apps.manage", Method: "DELETE", Path: "/api/v1/apps/{appId}", RPC: "DeleteApp",
		Destructive: true, Description: "Delete an application; Okta requires it to be INACTIVE first", Params: []Param{appID}},
	{Name: "apps.activate", Area: "apps", Access: Manage, Scope: "okta.apps.manage", Method: "POST", Path: "/api/v1/apps/{appId}/lifecycle/activate", RPC: "ActivateApp",
		Event: "application.lifecycle.activate", Description: "Activate an application", Params: []Param{appID}},
	{Name: "apps.deactivate", Area: "apps", Access: Manage, Scope: "okta.apps.manage", Method: "POST", Path: "/api/v1/apps/{appId}/lifecycle/deactivate", RPC: "DeactivateApp",
		Destructive: true, Description: "Deactivate an application", Params: []Param{appID}},

	// app_assignments
	{Name: "app_assignments.list", Area: "app_assignments", Access: Read, Scope: "okta.apps.read", Method: "GET", Path: "/api/v1/apps/{appId}/users", RPC: "ListAppAssignments",
		Description: "List users assigned to an application", MaxLimit: maxAssignmentsPage,
		Params: []Param{appID, qText("prefix match on the user's name or email",
			"profile.userName", "profile.firstName", "profile.lastName", "profile.email", "credentials.userName"), expand, qLimit(maxAssignmentsPage), qAfter()}},
	{Name: "app_assignments.assign", Area: "app_assignments", Access: Manage, Scope: "okta.apps.manage", Method: "POST", Path: "/api/v1/apps/{appId}/users", RPC: "AssignAppUser",
		Event: "application.user_membership.add", Description: "Assign a user to an application",
		Params: []Param{appID, body(true, "the assignment: id of the user, optional scope, credentials and profile")}},
	{Name: "app_assignments.get", Area: "app_assignments", Access: Read, Scope: "okta.apps.read", Method: "GET", Path: "/api/v1/apps/{appId}/users/{userId}", RPC: "GetAppAssignment",
		Description: "Read one assignment and its app-specific profile", Params: []Param{appID, userOnly, expand}},
	{Name: "app_assignments.update", Area: "app_assignments", Access: Manage, Scope: "okta.apps.manage", Method: "POST", Path: "/api/v1/apps/{appId}/users/{userId}", RPC: "UpdateAppAssignment",
		Description: "Update an assignment's app-specific profile or credentials", Params: []Param{appID, userOnly, body(true, "the profile or credentials to change")}},
	{Name: "app_assignments.unassign", Area: "app_assignments", Access: Manage, Scope: "okta.apps.manage", Method: "DELETE", Path: "/api/v1/apps/{appId}/users/{userId}", RPC: "UnassignAppUser",
		Destructive: true, Description: "Remove a user's direct assignment", Params: []Param{appID, userOnly, sendMail}},

	// sessions
	{Name: "sessions.get", Area: "sessions", Access: Read, Scope: "okta.sessions.read", Method: "GET", Path: "/api/v1/sessions/{sessionId}", RPC: "GetSession",
		Description: "Read a session: status, user, expiry", Params: []Param{sessID}},
	{Name: "sessions.refresh", Area: "sessions", Access: Manage, Scope: "okta.sessions.manage", Method: "POST", Path: "/api/v1/sessions/{sessionId}/lifecycle/refresh", RPC: "RefreshSession",
		Description: "Extend a session up to the policy maximum", Params: []Param{sessID}},
	{Name: "sessions.revoke", Area: "sessions", Access: Manage, Scope: "okta.sessions.manage", Method: "DELETE", Path: "/api/v1/sessions/{sessionId}", RPC: "RevokeSession",
		Destructive: true, Description: "Revoke a session; the user must sign in again", Params: []Param{sessID}},

	// policies
	{Name: "policies.list", Area: "policies", Access: Read, Scope: "okta.policies.read", Method: "GET", Path: "/api/v1/policies", RPC: "ListPolicies",
		Description: "List policies of a type (type query parameter is required)", MaxLimit: maxPoliciesPage,
		Params: []Param{qEnum("type", true, "the policy type", policyTypes...), qEnum("status", false, "only ACTIVE or INACTIVE policies", "ACTIVE", "INACTIVE"),
			expand, qSort("attribute to sort by"), qLimit(maxPoliciesPage), qAfter()}},
	{Name: "policies.create", Area: "policies", Access: Manage, Scope: "okta.policies.manage", Method: "POST", Path: "/api/v1/policies", RPC: "CreatePolicy",
		Description: "Create a policy", Params: []Param{qBool("activate", "activate the policy on creation (Okta's default is true)"), body(true, "the policy: type, name, conditions, settings")}},
	{Name: "policies.get", Area: "policies", Access: Read, Scope: "okta.policies.read", Method: "GET", Path: "/api/v1/policies/{policyId}", RPC: "GetPolicy",
		Description: "Read one policy", Params: []Param{policyID, expand}},
	{Name: "policies.replace", Area: "policies", Access: Manage, Scope: "okta.policies.manage", Method: "PUT", Path: "/api/v1/policies/{policyId}", RPC: "ReplacePolicy",
		Description: "Replace a policy", Params: []Param{policyID, body(true, "the complete policy")}},
	{Name: "policies.delete", Area: "policies", Access: Manage, Scope: "okta.policies.manage", Method: "DELETE", Path: "/api/v1/policies/{policyId}", RPC: "DeletePolicy",
		Destructive: true, Description: "Delete a policy", Params: []Param{policyID}},
	{Name: "policies.activate", Area: "policies", Access: Manage, Scope: "okta.policies.manage", Method: "POST", Path: "/api/v1/policies/{policyId}/lifecycle/activate", RPC: "ActivatePolicy",
		Description: "Activate a policy", Params: []Param{policyID}},
	{Name: "policies.deactivate", Area: "policies", Access: Manage, Scope: "okta.policies.manage", Method: "POST", Path: "/api/v1/policies/{policyId}/lifecycle/deactivate", RPC: "DeactivatePolicy",
		Destructive: true, Description: "Deactivate a policy", Params: []Param{policyID}},
	{Name: "policies.list_rules", Area: "policies", Access: Read, Scope: "okta.policies.read", Method: "GET", Path: "/api/v1/policies/{policyId}/rules", RPC: "ListPolicyRules",
		Description: "List the rules of a policy", Params: []Param{policyID}},

	// factors
	{Name: "factors.list", Area: "factors", Access: Read, Scope: "okta.users.read", Method: "GET", Path: "/api/v1/users/{userId}/factors", RPC: "ListFactors",
		Description: "List a user's enrolled factors", Params: []Param{userOnly}},
	{Name: "factors.enroll", Area: "factors", Access: Manage, Scope: "okta.users.manage", Method: "POST", Path: "/api/v1/users/{userId}/factors", RPC: "EnrollFactor",
		Description: "Enroll a factor; some types need a follow-up activate",
		Params: []Param{userOnly, qBool("updatePhone", "replace the phone number of an existing SMS factor"), qString("templateId", maxIDLen, "SMS template id"),
			{Name: "tokenLifetimeSeconds", In: InQuery, Kind: KindInt, Description: "lifetime of the activation token", Min: 1, Max: 86400},
			qBool("activate", "activate the factor on enrollment where the type allows"), body(true, "the factor: factorType, provider, profile")}},
	{Name: "factors.get", Area: "factors", Access: Read, Scope: "okta.users.read", Method: "GET", Path: "/api/v1/users/{userId}/factors/{factorId}", RPC: "GetFactor",
		Description: "Read one factor", Params: []Param{userOnly, factorID}},
	{Name: "factors.unenroll", Area: "factors", Access: Manage, Scope: "okta.users.manage", Method: "DELETE", Path: "/api/v1/users/{userId}/factors/{factorId}", RPC: "UnenrollFactor",
		Destructive: true, Description: "Unenroll a factor", Params: []Param{userOnly, factorID, qBool("removeRecoveryEnrollment", "also remove the phone from recovery")}},

	// logs
	{Name: "logs.list", Area: "logs", Access: Read, Scope: "okta.logs.read", Method: "GET", Path: "/api/v1/logs", RPC: "ListLogEvents",
		Description: "List System Log events: since, until, filter, q, sortOrder, limit (max 1000), after", MaxLimit: maxLogsPage,
		Params: []Param{qTime("since", "oldest event time (RFC 3339)"), qTime("until", "newest event time (RFC 3339)"), qExpr("filter", searchLen, "filter expression"),
			qText("keyword search"), qEnum("sortOrder", false, "sort direction", "ASCENDING", "DESCENDING"), qLimit(maxLogsPage), qAfter()}},
}
