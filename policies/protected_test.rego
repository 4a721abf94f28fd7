package bollard.protected_test

import data.bollard.protected

# Seed ids of the Okta simulator (pkg/oktasim/seedids.go), as the sample
# data protects them.
admin := "00uADAadmin0000000g7" # listed; in Okta Admins; SUPER_ADMIN

alice := "00uALIactive000000g7" # Engineering

carol := "00uCARactive000000g7" # Support; HELP_DESK_ADMIN

okta_admins := "00gOKTAADMINS00000g7"

engineering := "00gENGINEERING0000g7"

bollard_app := "0oaBOLLARDAPP0000g7"

github := "0oaGITHUB000000000g7"

signon_default := "00pSIGNONDEF000000g7"

signon_contractors := "00pSIGNONCTR000000g7"

user_actions := ["users.delete", "user_lifecycle.deactivate", "user_lifecycle.suspend", "factors.unenroll"]

group_actions := ["groups.add_member", "groups.remove_member", "groups.replace", "groups.delete"]

req(name, resource, context) := {
	"version": 1,
	"agent": {"id": "provisioner-bot", "auth_method": "key", "claims": {}},
	"action": object.remove(data.bollard.catalog.actions[name], ["paginated"]),
	"resource": resource,
	"params": resource,
	"time": "2026-11-30T17:00:00Z",
	"context": context,
}

target(id, groups, roles) := {"target": {"user": {"id": id, "resolved": true, "groups": groups, "admin_roles": roles}}}

on_user(name, id, groups, roles) := req(name, {"userId": id}, target(id, groups, roles))

codes(r) := {c.code | some c in reasons} if {
	reasons := protected.deny with input as r
}

clear(r) if {
	not protected.blocked with input as r
	count(protected.deny) == 0 with input as r
}

## Users

test_unprotected_user if {
	every name in user_actions {
		clear(on_user(name, alice, ["00gEVERYONE0000000g7", engineering], []))
	}
}

test_listed_user if {
	every name in user_actions {
		r := on_user(name, admin, [], [])
		protected.blocked with input as r
		protected.deny == {{
			"code": "protected_user",
			"message": `user "00uADAadmin0000000g7" is protected: break-glass super administrator; its API token is the one Bollard uses in dev mode`,
		}} with input as r
	}
}

test_member_of_protected_group if {
	r := on_user("user_lifecycle.suspend", alice, [engineering, okta_admins], [])
	protected.blocked with input as r
	protected.deny == {{
		"code": "protected_user",
		"message": `user "00uALIactive000000g7" is a member of protected group "00gOKTAADMINS00000g7" (Okta administrators)`,
	}} with input as r
}

test_protected_admin_role if {
	r := on_user("users.delete", alice, [], ["READ_ONLY_ADMIN", "SUPER_ADMIN"])
	protected.blocked with input as r
	protected.deny == {{
		"code": "protected_user",
		"message": `user "00uALIactive000000g7" holds the protected admin role SUPER_ADMIN`,
	}} with input as r
}

test_unlisted_admin_role if {
	clear(on_user("user_lifecycle.deactivate", carol, [], ["HELP_DESK_ADMIN"]))
}

test_every_cause_listed if {
	r := on_user("users.delete", admin, [okta_admins], ["SUPER_ADMIN", "ORG_ADMIN"])
	count(protected.deny) == 4 with input as r
	codes(r) == {"protected_user"}
}

# The sidecar resolves the target; the path may name the user by login.
test_listed_by_resolved_id if {
	r := req("user_lifecycle.deactivate", {"userId": "ada.admin@example.com"}, target(admin, [], []))
	codes(r) == {"protected_user"}
}

test_other_user_actions_not_restricted if {
	clear(req("users.update", {"userId": admin}, {}))
	clear(req("user_lifecycle.unlock", {"userId": admin}, {}))
	clear(req("users.get", {"userId": admin}, {}))
}

## Fail closed: the target could not be resolved, or the data is broken.

unresolved_message := `the user "00uALIactive000000g7" could not be looked up at Okta, so Bollard cannot tell whether it is protected and refuses users.delete`

test_target_missing if {
	every context in [{}, {"target": {}}, {"target": {"user": null}}] {
		r := req("users.delete", {"userId": alice}, context)
		protected.blocked with input as r
		protected.deny == {{"code": "target_unresolved", "message": unresolved_message}} with input as r
	}
}

# ListActions asks what an agent may do in general, naming no resource: the
# rules about one user or group have nothing to check. A call always names
# one (the catalog requires it), and then the target must be resolved.
test_no_resource_named if {
	every name in array.concat(user_actions, group_actions) {
		clear(req(name, {}, {}))
	}
	protected.blocked with input as req("users.delete", {"userId": alice}, {})
	protected.blocked with input as req("groups.delete", {"groupId": okta_admins}, {})
}

test_target_not_resolved if {
	r := req("users.delete", {"userId": alice}, {"target": {"user": {"id": alice, "resolved": false, "groups": [], "admin_roles": []}}})
	protected.deny == {{"code": "target_unresolved", "message": unresolved_message}} with input as r
}

test_target_malformed if {
	every user in [
		{"id": alice, "resolved": "yes", "groups": [], "admin_roles": []},
		{"id": alice, "resolved": true, "admin_roles": []},
		{"id": alice, "resolved": true, "groups": engineering, "admin_roles": []},
		{"id": alice, "resolved": true, "groups": []},
		{"resolved": true, "groups": [], "admin_roles": []},
	] {
		codes(req("factors.unenroll", {"userId": alice}, {"target": {"user": user}})) == {"target_unresolved"}
	}
}

test_unresolved_listed_user_lists_both if {
	r := req("users.delete", {"userId": admin}, {})
	codes(r) == {"target_unresolved", "protected_user"}
}

test_missing_configuration_refuses_user_actions if {
	r := on_user("users.delete", alice, [], [])
	every cfg in [{}, {"users": {}, "groups": {}}, {"users": [], "groups": {}, "admin_roles": []}, "none"] {
		protected.blocked with input as r with data.bollard.config.protected as cfg
		codes(r) == {"protected_user"} with data.bollard.config.protected as cfg
	}
}

test_empty_configuration_protects_nothing if {
	cfg := {"users": {}, "groups": {}, "admin_roles": [], "apps": {}, "policies": {}}
	clear(on_user("users.delete", admin, [okta_admins], ["SUPER_ADMIN"])) with data.bollard.config.protected as cfg
	clear(req("groups.delete", {"groupId": okta_admins}, {})) with data.bollard.config.protected as cfg
	clear(req("apps.delete", {"appId": bollard_app}, {})) with data.bollard.config.protected as cfg
}

## Groups

test_protected_group_unchanged if {
	every name in group_actions {
		r := req(name, {"groupId": okta_admins, "userId": alice}, {})
		protected.blocked with input as r
		protected.deny == {{
			"code": "protected_group",
			"message": `group "00gOKTAADMINS00000g7" is protected: Okta administrators; its members cannot be added or removed and it cannot be replaced or deleted`,
		}} with input as r
	}
}

test_other_groups_change if {
	every name in group_actions {
		clear(req(name, {"groupId": engineering, "userId": alice}, {}))
	}
}

test_protected_group_readable if {
	clear(req("groups.get", {"groupId": okta_admins}, {}))
	clear(req("groups.list_members", {"groupId": okta_admins}, {}))
	clear(req("groups.create", {}, {}))
}

test_group_configuration_missing if {
	r := req("groups.add_member", {"groupId": engineering, "userId": alice}, {})
	codes(r) == {"protected_group"} with data.bollard.config.protected.groups as null
}

## Apps and policies

test_bollards_own_app if {
	every name in ["apps.replace", "apps.delete", "apps.activate", "apps.deactivate", "app_assignments.assign", "app_assignments.update", "app_assignments.unassign"] {
		r := req(name, {"appId": bollard_app, "userId": alice}, {})
		protected.blocked with input as r
		protected.deny == {{
			"code": "protected_app",
			"message": `app "0oaBOLLARDAPP0000g7" is protected: Bollard's own service app: its credentials are how Bollard reaches Okta; no agent may change it`,
		}} with input as r
	}
}

test_other_apps if {
	clear(req("apps.deactivate", {"appId": github}, {}))
	clear(req("app_assignments.assign", {"appId": github}, {}))
	clear(req("apps.create", {}, {}))
	clear(req("apps.get", {"appId": bollard_app}, {}))
	clear(req("app_assignments.list", {"appId": bollard_app}, {}))
}

test_protected_policy if {
	every name in ["policies.replace", "policies.delete", "policies.activate", "policies.deactivate"] {
		r := req(name, {"policyId": signon_default}, {})
		protected.blocked with input as r
		codes(r) == {"protected_policy"}
	}
	clear(req("policies.get", {"policyId": signon_default}, {}))
	clear(req("policies.list_rules", {"policyId": signon_default}, {}))
	clear(req("policies.delete", {"policyId": signon_contractors}, {}))
}

test_app_and_policy_configuration_missing if {
	codes(req("apps.delete", {"appId": github}, {})) == {"protected_app"} with data.bollard.config.protected.apps as []
	codes(req("policies.delete", {"policyId": signon_contractors}, {})) == {"protected_policy"} with data.bollard.config.protected as {}
	clear(req("apps.get", {"appId": github}, {})) with data.bollard.config.protected as {}
}

## Many protected users and groups: lookups by id.

test_large_lists if {
	users := {sprintf("00uP%016d", [i]): "vip" | some i in numbers.range(1, 500)}
	groups := {sprintf("00gP%016d", [i]): "privileged" | some i in numbers.range(1, 50)}
	cfg := {"users": users, "groups": groups, "admin_roles": ["SUPER_ADMIN"], "apps": {}, "policies": {}}
	codes(on_user("users.delete", "00uP0000000000000250", [], [])) == {"protected_user"} with data.bollard.config.protected as cfg
	codes(on_user("users.delete", alice, ["00gP0000000000000049"], [])) == {"protected_user"} with data.bollard.config.protected as cfg
	clear(on_user("users.delete", alice, [engineering], [])) with data.bollard.config.protected as cfg
}

## blocked (indexed by action) and the reasons (by set) agree.

resources := [
	{"userId": admin, "groupId": okta_admins, "appId": bollard_app, "policyId": signon_default},
	{"userId": alice, "groupId": engineering, "appId": github, "policyId": signon_contractors},
	{},
]

contexts := [{}, target(alice, [], []), target(admin, [okta_admins], ["SUPER_ADMIN"])]

test_blocked_iff_reasons if {
	every name, _ in data.bollard.catalog.actions {
		every resource in resources {
			every context in contexts {
				agrees(req(name, resource, context))
			}
		}
	}
}

agrees(r) if {
	protected.blocked with input as r
	count(protected.deny) > 0 with input as r
}

agrees(r) if clear(r)
