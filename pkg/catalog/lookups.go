package catalog

// The Okta operations Bollard itself calls to learn what a call changes
// (pkg/target): who a user is, their groups and admin roles, a group's
// roles, a session's user. They are Bollard's own reads, never an agent's:
// they are deliberately not registered with the actions, so no agent can
// name them, no grant covers them and no policy decides them. They live
// here because the catalog is the one list of what Bollard sends to Okta:
// forward sends them like any read (same credential, rate-limit buckets,
// retries, metrics under these names), and an OAuth service app must be
// granted their scopes.
var (
	LookupGetUser = &Action{
		Name: "target.get_user", Area: "target", Access: Read, Scope: "okta.users.read",
		Method: "GET", Path: "/api/v1/users/{userId}",
	}
	LookupUserGroups = &Action{
		Name: "target.user_groups", Area: "target", Access: Read, Scope: "okta.users.read",
		Method: "GET", Path: "/api/v1/users/{userId}/groups", MaxLimit: LookupGroupsPageSize,
	}
	LookupUserRoles = &Action{
		Name: "target.user_roles", Area: "target", Access: Read, Scope: "okta.roles.read",
		Method: "GET", Path: "/api/v1/users/{userId}/roles",
	}
	LookupGroupRoles = &Action{
		Name: "target.group_roles", Area: "target", Access: Read, Scope: "okta.roles.read",
		Method: "GET", Path: "/api/v1/groups/{groupId}/roles",
	}
	LookupGetSession = &Action{
		Name: "target.get_session", Area: "target", Access: Read, Scope: "okta.sessions.read",
		Method: "GET", Path: "/api/v1/sessions/{sessionId}",
	}
)

// LookupGroupsPageSize is Okta's maximum (and default) page of
// listUserGroups, the page the user-groups lookup asks for.
const LookupGroupsPageSize = 200

// Lookups returns Bollard's own lookup operations.
func Lookups() []*Action {
	return []*Action{LookupGetUser, LookupUserGroups, LookupUserRoles, LookupGroupRoles, LookupGetSession}
}

// LookupScopes returns the OAuth scopes the lookups need, sorted and each
// once: beside the actions' scopes (Scopes), an OAuth service app must be
// granted them; okta.roles.read is used by no action.
func LookupScopes() []string {
	set := map[string]bool{}
	for _, a := range Lookups() {
		set[a.Scope] = true
	}
	return sortedKeys(set)
}
