# METADATA
# title: Protected resources
# description: |
#   Objects no agent may change, listed in data.bollard.config.protected:
#   users and groups by id, admin_roles (Okta role types), apps and policies
#   by id. Protection follows what an action changes, as the catalog states
#   it (input.action.effects), not a list of actions: every manage action
#   that changes a protected user, group, app or policy is refused. A user
#   is protected when listed, in a listed group or holding a listed admin
#   role; a group when listed or holding a listed admin role. What the call
#   changes, with the groups and roles Okta reports, is in
#   input.context.target (pkg/target). exempt lists, per agent, the actions
#   it may still take on protected objects.
package bollard.protected

cfg := data.bollard.config.protected

# mode is what protection does for this agent and action: "none" when the
# action changes no existing object (reads, creations that name none),
# "exempt" when the agent is exempt for it, "invalid" when the settings
# cannot be read (the call is refused), else "check". It depends only on
# the agent and the action (it is part of the standing, policies/authz.rego).
mode := "none" if {
	not input.action.effects[0]
} else := "exempt" if {
	exempt
} else := "check" if {
	configured
} else := "invalid"

exempt if {
	list := data.bollard.config.protected.exempt[input.agent.id]
	is_array(list)
	input.action.name in list
}

# OPA evaluates a call's arguments before negating it, so "not
# settings_ok(cfg)" would be undefined, not true, without any settings:
# negate a rule instead.
configured if settings_ok(cfg)

settings_ok(p) if {
	is_object(p.users)
	is_object(p.groups)
	is_array(p.admin_roles)
	is_object(p.apps)
	is_object(p.policies)
}

# clear holds when nothing the call changes is protected. It is undefined
# (and the call refused) when the target is missing or unresolved, or when
# the settings are malformed: protection cannot then be ruled out.
clear if {
	mode == "check"
	clear_of_hits
}

# clear_of_hits is clear without the mode: for policies/authz.rego, which
# reads the mode from the standing.
clear_of_hits if {
	input.context.target.resolved == true
	not hit
}

# hit holds when the call changes a protected object, or when the facts do
# not describe what it changes properly: when there is any finding. The
# findings are the reasons the denial lists, so a call refused for
# protection looks each object up once, not once to decide and once more to
# say why.
hit if not lists_ok

hit if {
	some _ in findings
}

# lists_ok holds when the facts have pkg/target's shape: lists of resolved
# users and groups, each with its id, groups and roles. Anything else could
# hide a protected object, so it counts as a hit.
lists_ok if {
	t := input.context.target
	is_array(t.users)
	is_array(t.groups)
	is_array(t.apps)
	is_array(t.policies)
	every u in t.users {
		u.resolved == true
		is_string(u.id)
		is_array(u.groups)
		is_array(u.admin_roles)
	}
	every g in t.groups {
		g.resolved == true
		is_string(g.id)
		is_array(g.admin_roles)
	}
}

## Reasons, evaluated only when the call is denied.

# The reasons are the findings when protection is checked (mode "check"),
# or invalid_reason when the settings cannot be read (mode "invalid").
invalid_reason := {
	"code": "invalid_policy_data",
	"message": "protected resources are not configured correctly (data.bollard.config.protected needs users, groups, apps and policies objects and an admin_roles array), so actions that change existing objects are refused",
}

resolved if {
	input.context.target.resolved == true
	lists_ok
}

# findings says why the target is not clear, as the sidecar's audit record
# keeps it: one reason per cause; facts of the wrong shape count as
# unresolved. Keys are ids, looked up in objects, so the cost does not grow
# with the number of protected users or groups; only the target's own
# groups and roles are iterated, and the settings are read through cfg,
# once per decision.
findings contains {"code": "target_unresolved", "message": msg} if {
	not resolved
	msg := sprintf("what %s changes could not be looked up at Okta, so Bollard cannot tell whether it is protected and refuses the call", [object.get(input, ["action", "name"], "")])
}

findings contains {"code": "protected_user", "message": msg} if {
	some u in input.context.target.users
	why := cfg.users[u.id]
	msg := sprintf("user %q is protected: %v", [u.id, why])
}

findings contains {"code": "protected_user", "message": msg} if {
	some u in input.context.target.users
	some g in u.groups
	why := cfg.groups[g]
	msg := sprintf("user %q is a member of protected group %q (%v)", [u.id, g, why])
}

findings contains {"code": "protected_user", "message": msg} if {
	some u in input.context.target.users
	some r in u.admin_roles
	r in cfg.admin_roles
	msg := sprintf("user %q holds the protected admin role %s", [u.id, r])
}

findings contains {"code": "protected_group", "message": msg} if {
	some g in input.context.target.groups
	why := cfg.groups[g.id]
	msg := sprintf("group %q is protected: %v", [g.id, why])
}

findings contains {"code": "protected_group", "message": msg} if {
	some g in input.context.target.groups
	some r in g.admin_roles
	r in cfg.admin_roles
	msg := sprintf("group %q holds the protected admin role %s", [g.id, r])
}

findings contains {"code": "protected_app", "message": msg} if {
	some a in input.context.target.apps
	why := cfg.apps[a.id]
	msg := sprintf("app %q is protected: %v; no agent may change it", [a.id, why])
}

findings contains {"code": "protected_policy", "message": msg} if {
	some p in input.context.target.policies
	why := cfg.policies[p.id]
	msg := sprintf("policy %q is protected: %v; no agent may change it", [p.id, why])
}
