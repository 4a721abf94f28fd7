package bollard.protected_test

import data.bollard.protected

# Seed ids of the Okta simulator (pkg/oktasim/seedids.go), as the sample
# data protects them.
admin := "00uADAadmin0000000g7" # listed; in Okta Admins; SUPER_ADMIN

alice := "00uALIactive000000g7" # Engineering

carol := "00uCARactive000000g7" # Support; HELP_DESK_ADMIN

okta_admins := "00gOKTAADMINS00000g7" # listed; holds ORG_ADMIN

engineering := "00gENGINEERING0000g7"

security := "00gSECURITYADMINS0g7" # not listed, but holds SUPER_ADMIN

bollard_app := "0oaBOLLARDAPP0000g7"

github := "0oaGITHUB000000000g7"

signon_default := "00pSIGNONDEF000000g7"

signon_contractors := "00pSIGNONCTR000000g7"

# Looked-up facts, as pkg/target reports them.
user(id, groups, roles) := {"id": id, "resolved": true, "groups": groups, "admin_roles": roles}

group(id, roles) := {"id": id, "resolved": true, "admin_roles": roles}

plain_user := user(alice, ["00gEVERYONE0000000g7", engineering], [])

plain_group := group(engineering, [])

# target is input.context.target for an action: one object of each kind
# its effects name, as given.
target(name, u, g, app, pol) := {
	"resolved": true,
	"users": [u | some e in data.bollard.catalog.actions[name].effects; e.kind == "user"],
	"groups": [g | some e in data.bollard.catalog.actions[name].effects; e.kind == "group"],
	"apps": [{"id": app} | some e in data.bollard.catalog.actions[name].effects; e.kind == "app"],
	"policies": [{"id": pol} | some e in data.bollard.catalog.actions[name].effects; e.kind == "policy"],
}

req(agent, name, context) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"action": object.remove(data.bollard.catalog.actions[name], ["paginated"]),
	"resource": {},
	"params": {},
	"time": "2026-11-30T17:00:00Z",
	"context": context,
}

on(name, u, g, app, pol) := req("provisioner-bot", name, {"target": target(name, u, g, app, pol)})

unprotected(name) := on(name, plain_user, plain_group, github, signon_contractors)

# What policies/authz.rego lists for protection: the findings when it is
# checked, or why the settings cannot be read.
deny := {r | protected.mode == "check"; some r in protected.findings} | {protected.invalid_reason | protected.mode == "invalid"}

codes(r) := {c.code | some c in reasons} if {
	reasons := deny with input as r
}

clear(r) if {
	protected.clear with input as r
	count(deny) == 0 with input as r
}

refused(r) if {
	not protected.clear with input as r
	count(deny) > 0 with input as r
}

touches(name, kind) if {
	some e in data.bollard.catalog.actions[name].effects
	e.kind == kind
}

manage_actions := {name | some name, a in data.bollard.catalog.actions; a.access == "manage"}

## The matrix: every manage action, from the catalog, against every kind of
## protected object it can change. An action added to the catalog is
## checked here without anyone remembering to.

protected_users := [
	user(admin, [], []), # listed
	user(alice, [okta_admins], []), # in a listed group
	user(carol, [], ["HELP_DESK_ADMIN", "SUPER_ADMIN"]), # holds a listed role
]

protected_groups := [
	group(okta_admins, []), # listed
	group(security, ["SUPER_ADMIN"]), # holds a listed role
]

test_every_action_that_changes_a_protected_user_is_refused if {
	count({name | some name in manage_actions; touches(name, "user")}) >= 20
	every name in manage_actions {
		user_refused(name)
	}
}

user_refused(name) if {
	touches(name, "user")
	every u in protected_users {
		codes(on(name, u, plain_group, github, signon_contractors)) == {"protected_user"}
	}
}

user_refused(name) if not touches(name, "user")

test_every_action_that_changes_a_protected_group_is_refused if {
	count({name | some name in manage_actions; touches(name, "group")}) >= 7
	every name in manage_actions {
		group_refused(name)
	}
}

group_refused(name) if {
	touches(name, "group")
	every g in protected_groups {
		codes(on(name, plain_user, g, github, signon_contractors)) == {"protected_group"}
	}
}

group_refused(name) if not touches(name, "group")

test_every_action_that_changes_a_protected_app_or_policy_is_refused if {
	every name in manage_actions {
		app_refused(name)
		policy_refused(name)
	}
}

app_refused(name) if {
	touches(name, "app")
	codes(on(name, plain_user, plain_group, bollard_app, signon_contractors)) == {"protected_app"}
}

app_refused(name) if not touches(name, "app")

policy_refused(name) if {
	touches(name, "policy")
	codes(on(name, plain_user, plain_group, github, signon_default)) == {"protected_policy"}
}

policy_refused(name) if not touches(name, "policy")

test_every_manage_action_on_unprotected_objects_is_clear if {
	every name in manage_actions {
		clear_or_unchecked(unprotected(name))
	}
}

clear_or_unchecked(r) if clear(r)

clear_or_unchecked(r) if {
	protected.mode == "none" with input as r
	count(deny) == 0 with input as r
}

# The cases of the issue that found the hole, by name.
test_found_by_the_security_review if {
	# A user created straight into a protected group.
	codes(on("users.create", plain_user, group(okta_admins, ["ORG_ADMIN"]), github, signon_contractors)) == {"protected_group"}

	# A group that holds an admin role, protected although not listed.
	codes(on("groups.add_member", plain_user, group(security, ["SUPER_ADMIN"]), github, signon_contractors)) == {"protected_group"}

	# A protected super admin's email, login or password changed.
	codes(on("users.update", user(admin, [], ["SUPER_ADMIN"]), plain_group, github, signon_contractors)) == {"protected_user"}
	codes(on("users.replace", user(admin, [], ["SUPER_ADMIN"]), plain_group, github, signon_contractors)) == {"protected_user"}

	# A factor enrolled on them; their sessions revoked.
	codes(on("factors.enroll", user(alice, [], ["SUPER_ADMIN"]), plain_group, github, signon_contractors)) == {"protected_user"}
	codes(on("sessions.revoke", user(alice, [], ["ORG_ADMIN"]), plain_group, github, signon_contractors)) == {"protected_user"}
}

test_every_cause_listed if {
	r := on("users.delete", user(admin, [okta_admins], ["SUPER_ADMIN", "ORG_ADMIN"]), plain_group, github, signon_contractors)
	count(deny) == 4 with input as r
	codes(r) == {"protected_user"}
}

test_messages_name_the_cause if {
	deny == {{
		"code": "protected_group",
		"message": `group "00gSECURITYADMINS0g7" holds the protected admin role SUPER_ADMIN`,
	}} with input as on("groups.delete", plain_user, group(security, ["SUPER_ADMIN"]), github, signon_contractors)
	deny == {{
		"code": "protected_app",
		"message": `app "0oaBOLLARDAPP0000g7" is protected: Bollard's own service app: its credentials are how Bollard reaches Okta; no agent may change it`,
	}} with input as on("apps.delete", plain_user, plain_group, bollard_app, signon_contractors)
}

test_unlisted_admin_role if {
	clear(on("user_lifecycle.deactivate", user(carol, [], ["HELP_DESK_ADMIN"]), plain_group, github, signon_contractors))
}

test_reads_and_creations_are_not_checked if {
	every name, a in data.bollard.catalog.actions {
		not_checked_if_read(name, a)
	}
	protected.mode == "none" with input as req("provisioner-bot", "groups.create", {})
	protected.mode == "none" with input as req("provisioner-bot", "apps.create", {})
	protected.mode == "check" with input as req("provisioner-bot", "users.create", {})
}

not_checked_if_read(name, a) if {
	a.access == "read"
	protected.mode == "none" with input as req("provisioner-bot", name, {})
}

not_checked_if_read(_, a) if a.access == "manage"

## Exemptions: a rule that explicitly allows an agent one action on
## protected objects.

test_exempt_agent if {
	exempt := object.union(data.bollard.config.protected, {"exempt": {"provisioner-bot": ["sessions.revoke"]}})
	protected.mode == "exempt" with input as req("provisioner-bot", "sessions.revoke", {}) with data.bollard.config.protected as exempt
	protected.mode == "check" with input as req("provisioner-bot", "users.delete", {}) with data.bollard.config.protected as exempt
	protected.mode == "check" with input as req("helpdesk-bot", "sessions.revoke", {}) with data.bollard.config.protected as exempt
	bad := object.union(data.bollard.config.protected, {"exempt": {"provisioner-bot": "sessions.revoke"}})
	protected.mode == "check" with input as req("provisioner-bot", "sessions.revoke", {}) with data.bollard.config.protected as bad
}

## Fail closed: the target could not be resolved, or the data is broken.

test_target_missing_or_unresolved if {
	every context in [
		{},
		{"target": {}},
		{"target": null},
		{"target": object.union(target("users.delete", plain_user, plain_group, github, signon_contractors), {"resolved": false})},
		{"target": object.remove(target("users.delete", plain_user, plain_group, github, signon_contractors), ["groups"])},
	] {
		r := req("provisioner-bot", "users.delete", context)
		refused(r)
		codes(r) == {"target_unresolved"}
	}
}

test_entry_malformed if {
	every u in [
		{"id": alice, "resolved": "yes", "groups": [], "admin_roles": []},
		{"id": alice, "resolved": false, "groups": [], "admin_roles": []},
		{"id": alice, "resolved": true, "admin_roles": []},
		{"id": alice, "resolved": true, "groups": engineering, "admin_roles": []},
		{"id": alice, "resolved": true, "groups": []},
		{"resolved": true, "groups": [], "admin_roles": []},
	] {
		r := on("factors.unenroll", u, plain_group, github, signon_contractors)
		refused(r)
		codes(r) == {"target_unresolved"}
	}
	g := {"id": engineering, "resolved": true}
	codes(on("groups.delete", plain_user, g, github, signon_contractors)) == {"target_unresolved"}
}

test_missing_configuration_refuses_changes if {
	r := unprotected("users.delete")
	every cfg in [{}, {"users": {}, "groups": {}}, {"users": [], "groups": {}, "admin_roles": [], "apps": {}, "policies": {}}, "none"] {
		refused(r) with data.bollard.config.protected as cfg
		codes(r) == {"invalid_policy_data"} with data.bollard.config.protected as cfg
	}
	refused(r) with data.bollard.config as {}
}

test_empty_configuration_protects_nothing if {
	cfg := {"users": {}, "groups": {}, "admin_roles": [], "apps": {}, "policies": {}}
	clear(on("users.delete", user(admin, [okta_admins], ["SUPER_ADMIN"]), plain_group, github, signon_contractors)) with data.bollard.config.protected as cfg
	clear(on("groups.delete", plain_user, group(okta_admins, ["ORG_ADMIN"]), github, signon_contractors)) with data.bollard.config.protected as cfg
	clear(on("apps.delete", plain_user, plain_group, bollard_app, signon_contractors)) with data.bollard.config.protected as cfg
}

## Many protected users and groups: lookups by id.

test_large_lists if {
	users := {sprintf("00uP%016d", [i]): "vip" | some i in numbers.range(1, 500)}
	groups := {sprintf("00gP%016d", [i]): "privileged" | some i in numbers.range(1, 50)}
	cfg := {"users": users, "groups": groups, "admin_roles": ["SUPER_ADMIN"], "apps": {}, "policies": {}}
	codes(on("users.delete", user("00uP0000000000000250", [], []), plain_group, github, signon_contractors)) == {"protected_user"} with data.bollard.config.protected as cfg
	codes(on("users.delete", user(alice, ["00gP0000000000000049"], []), plain_group, github, signon_contractors)) == {"protected_user"} with data.bollard.config.protected as cfg
	clear(unprotected("users.delete")) with data.bollard.config.protected as cfg
}

## clear and the reasons agree, for every action and target.

targets := [
	{"u": plain_user, "g": plain_group, "app": github, "pol": signon_contractors},
	{"u": user(admin, [okta_admins], ["SUPER_ADMIN"]), "g": group(okta_admins, ["ORG_ADMIN"]), "app": bollard_app, "pol": signon_default},
	{"u": {"id": alice}, "g": {"id": engineering}, "app": github, "pol": signon_contractors},
]

test_clear_iff_no_reasons if {
	every name in manage_actions {
		every t in targets {
			agrees(on(name, t.u, t.g, t.app, t.pol))
		}
		agrees(req("provisioner-bot", name, {}))
	}
}

agrees(r) if clear(r)

agrees(r) if refused(r)

# An action that changes no existing object is never checked, and never
# refused here.
agrees(r) if {
	protected.mode == "none" with input as r
	count(deny) == 0 with input as r
}
