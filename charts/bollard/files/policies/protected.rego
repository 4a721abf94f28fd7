# METADATA
# title: Protected resources
# description: |
#   Resources no agent may harm, listed in data.bollard.config.protected:
#   users (by id), groups (by id), admin roles, apps (Bollard's own Okta
#   app) and policies. Users listed, in a listed group or holding a listed
#   admin role are never deleted, deactivated, suspended or stripped of a
#   factor; listed groups never change membership, are never replaced or
#   deleted; listed apps and policies take no manage action at all.
package bollard.protected

cfg := data.bollard.config.protected

# The actions that act destructively on one user. For these the sidecar
# looks the user up at Okta and passes input.context.target.user.
user_actions := {"users.delete", "user_lifecycle.deactivate", "user_lifecycle.suspend", "factors.unenroll"}

group_actions := {"groups.add_member", "groups.remove_member", "groups.replace", "groups.delete"}

# The rules about one user or group apply when the call names it. Every
# call of these actions does (the catalog requires the path parameter);
# only ListActions, which asks what an agent may do in general, names none.
#
# blocked is what package bollard.authz checks for manage actions. Each
# definition starts with an equality on the action name or area, so OPA's
# rule index evaluates only the definitions that apply to the call; other
# calls cost next to nothing. user_blocked, group_blocked, app_blocked and
# policy_blocked below say the same for the reasons, by set membership;
# test_blocked_iff_reasons checks that they agree.
blocked if {
	input.action.name == "users.delete"
	input.resource.userId
	not user_clear
}

blocked if {
	input.action.name == "user_lifecycle.deactivate"
	input.resource.userId
	not user_clear
}

blocked if {
	input.action.name == "user_lifecycle.suspend"
	input.resource.userId
	not user_clear
}

blocked if {
	input.action.name == "factors.unenroll"
	input.resource.userId
	not user_clear
}

blocked if {
	input.action.name == "groups.add_member"
	input.resource.groupId
	not group_clear
}

blocked if {
	input.action.name == "groups.remove_member"
	input.resource.groupId
	not group_clear
}

blocked if {
	input.action.name == "groups.replace"
	input.resource.groupId
	not group_clear
}

blocked if {
	input.action.name == "groups.delete"
	input.resource.groupId
	not group_clear
}

blocked if {
	input.action.area == "apps"
	input.action.access == "manage"
	not clear("apps", "appId")
}

blocked if {
	input.action.area == "app_assignments"
	input.action.access == "manage"
	not clear("apps", "appId")
}

blocked if {
	input.action.area == "policies"
	input.action.access == "manage"
	not clear("policies", "policyId")
}

# Keys are ids; the value says why. Lookups are by id in an object, so the
# cost does not grow with the number of protected users or groups.
listed(obj, key) if object.get(obj, key, null) != null

## Users: every check must pass for the user to be touched. Without a
## resolved target (the sidecar could not look the user up, or the input
## lacks it) the user's groups and roles are unknown, so protection cannot
## be ruled out and the call is refused.

user_clear if {
	user := input.context.target.user
	user.resolved == true
	is_string(user.id)
	is_array(user.groups)
	is_array(user.admin_roles)
	p := data.bollard.config.protected
	is_object(p.users)
	is_object(p.groups)
	is_array(p.admin_roles)
	object.get(p.users, user.id, null) == null
	object.get(p.users, object.get(input, ["resource", "userId"], ""), null) == null

	not in_listed_group(user.groups, p.groups)
	not holds_listed_role(user.admin_roles, p.admin_roles)
}

# Only the target's own groups are iterated, each looked up by id.
in_listed_group(groups, listing) if {
	some g in groups
	object.get(listing, g, null) != null # listed(listing, g), without a call per group
}

holds_listed_role(roles, listing) if {
	some r in roles
	r in listing
}

resolved if {
	user := input.context.target.user
	user.resolved == true
	is_string(user.id)
	is_array(user.groups)
	is_array(user.admin_roles)
}

users_configured if {
	is_object(cfg.users)
	is_object(cfg.groups)
	is_array(cfg.admin_roles)
}

user_blocked if {
	input.action.access == "manage"
	input.action.name in user_actions
	input.resource.userId
	not user_clear
}

## Groups: no membership change, replacement or deletion.

group_clear if {
	group := input.resource.groupId
	is_string(group)
	listing := data.bollard.config.protected.groups
	is_object(listing)
	not listed(listing, group)
}

group_blocked if {
	input.action.access == "manage"
	input.action.name in group_actions
	input.resource.groupId
	not group_clear
}

## Apps and policies: no manage action with a listed id. Creating one has
## no id yet and is not restricted here.

clear(key, param) if {
	listing := data.bollard.config.protected[key]
	is_object(listing)
	not listed(listing, object.get(input, ["resource", param], ""))
}

app_blocked if {
	input.action.access == "manage"
	input.action.area in {"apps", "app_assignments"}
	not clear("apps", "appId")
}

policy_blocked if {
	input.action.access == "manage"
	input.action.area == "policies"
	not clear("policies", "policyId")
}

## Reasons, evaluated only when the call is denied.

user_id := object.get(input, ["context", "target", "user", "id"], object.get(input, ["resource", "userId"], ""))

deny contains {"code": "target_unresolved", "message": msg} if {
	input.action.access == "manage"
	input.action.name in user_actions
	input.resource.userId
	not resolved
	msg := sprintf(
		"the user %q could not be looked up at Okta, so Bollard cannot tell whether it is protected and refuses %s",
		[object.get(input, ["resource", "userId"], ""), input.action.name],
	)
}

deny contains {"code": "protected_user", "message": msg} if {
	user_blocked
	not users_configured
	msg := "protected users are not configured correctly (data.bollard.config.protected needs users and groups objects and an admin_roles array), so actions on users are refused"
}

deny contains {"code": "protected_user", "message": msg} if {
	user_blocked
	some id in {object.get(input, ["context", "target", "user", "id"], ""), object.get(input, ["resource", "userId"], "")}
	listed(cfg.users, id)
	msg := sprintf("user %q is protected: %v", [id, cfg.users[id]])
}

deny contains {"code": "protected_user", "message": msg} if {
	user_blocked
	some g in input.context.target.user.groups
	listed(cfg.groups, g)
	msg := sprintf("user %q is a member of protected group %q (%v)", [user_id, g, cfg.groups[g]])
}

deny contains {"code": "protected_user", "message": msg} if {
	user_blocked
	some r in input.context.target.user.admin_roles
	r in cfg.admin_roles
	msg := sprintf("user %q holds the protected admin role %s", [user_id, r])
}

deny contains {"code": "protected_group", "message": group_message} if group_blocked

group_message := sprintf("group %q is protected: %v; its members cannot be added or removed and it cannot be replaced or deleted", [
	input.resource.groupId,
	cfg.groups[input.resource.groupId],
]) if {
	listed(cfg.groups, input.resource.groupId)
} else := "protected groups are not configured correctly (data.bollard.config.protected.groups must be an object), or the call names no group, so changes to groups are refused"

deny contains {"code": "protected_app", "message": msg} if {
	app_blocked
	msg := reason("app", "appId", "apps")
}

deny contains {"code": "protected_policy", "message": msg} if {
	policy_blocked
	msg := reason("policy", "policyId", "policies")
}

reason(what, param, key) := sprintf("%s %q is protected: %v; no agent may change it", [what, id, cfg[key][id]]) if {
	id := input.resource[param]
	listed(cfg[key], id)
} else := sprintf("protected %s are not configured correctly (data.bollard.config.protected.%s must be an object), so changes to them are refused", [key, key])
