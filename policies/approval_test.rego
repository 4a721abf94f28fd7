package bollard.approval_test

import data.bollard.approval

# Seed ids of the Okta simulator (pkg/oktasim/seedids.go).
admin := "00uADAadmin0000000g7" # SUPER_ADMIN

alice := "00uALIactive000000g7" # no admin role

carol := "00uCARactive000000g7" # HELP_DESK_ADMIN

okta_admins := "00gOKTAADMINS00000g7" # holds ORG_ADMIN

engineering := "00gENGINEERING0000g7"

# Looked-up facts, as pkg/target reports them.
user(id, roles) := {"id": id, "from": "path", "name": "userId", "resolved": true, "groups": [engineering], "admin_roles": roles}

group(id, roles) := {"id": id, "from": "path", "name": "groupId", "resolved": true, "admin_roles": roles}

admin_user := user(admin, ["SUPER_ADMIN"])

plain_user := user(alice, [])

admin_group := group(okta_admins, ["ORG_ADMIN"])

plain_group := group(engineering, [])

# target is input.context.target for an action: the given user for each
# user its effects name, the given group for each group.
target(name, u, g) := {
	"resolved": true,
	"users": [u | some e in data.bollard.catalog.actions[name].effects; e.kind == "user"],
	"groups": [g | some e in data.bollard.catalog.actions[name].effects; e.kind == "group"],
	"apps": [{"id": "0oaGITHUB000000000g7"} | some e in data.bollard.catalog.actions[name].effects; e.kind == "app"],
	"policies": [{"id": "00pSIGNONCTR000000g7"} | some e in data.bollard.catalog.actions[name].effects; e.kind == "policy"],
}

call(agent, name, stage, context) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"action": object.remove(data.bollard.catalog.actions[name], ["paginated"]),
	"resource": {},
	"params": {},
	"time": "2026-11-30T17:00:00Z",
	"stage": stage,
	"context": context,
}

counts := {"destructive": {"hour": 0, "day": 0}}

# on is a call of helpdesk-bot at stage effect, with the facts looked up.
on(name, u, g) := call("helpdesk-bot", name, "effect", {"counts": counts, "target": target(name, u, g)})

with_target(name, t) := call("helpdesk-bot", name, "effect", {"counts": counts, "target": t})

at_stage(r, stage) := object.union(r, {"stage": stage})

as_agent(r, agent) := object.union(r, {"agent": {"id": agent}})

requirement(r) := x if {
	x := approval.requirement with input as r
}

none(r) if not approval.requirement with input as r

catalog := data.bollard.catalog.actions

touches(name, kind) if {
	some e in catalog[name].effects
	e.kind == kind
}

manage_actions := {name | some name, a in catalog; a.access == "manage"}

read_actions := {name | some name, a in catalog; a.access == "read"}

## The shipped rule: destructive actions on users with admin roles need
## one approval from the security team's group.

default_requirement := {
	"approvers": [{"groups": ["security-approvers"], "users": []}],
	"approvals": 1,
	"ttl_seconds": 900,
	"reason": "a destructive action on a user who holds an admin role needs the approval of a security engineer",
}

test_default_admin_user_needs_approval if {
	requirement(on("user_lifecycle.deactivate", admin_user, plain_group)) == default_requirement
	requirement(at_stage(on("users.delete", admin_user, plain_group), "full")) == default_requirement

	# A role reached through a group counts too: pkg/target reports it on
	# the user.
	requirement(on("user_lifecycle.suspend", user(carol, ["HELP_DESK_ADMIN"]), plain_group)) == default_requirement
}

# The exact text the sidecar will parse (docs/policy-contract.md,
# obligations.require_approval once it is wired).
test_obligation_json if {
	json.marshal(requirement(on("user_lifecycle.deactivate", admin_user, plain_group))) == `{"approvals":1,"approvers":[{"groups":["security-approvers"],"users":[]}],"reason":"a destructive action on a user who holds an admin role needs the approval of a security engineer","ttl_seconds":900}`
}

test_default_covers_every_destructive_action_on_an_admin_user if {
	actions := {name | some name in manage_actions; catalog[name].destructive; touches(name, "user")}
	count(actions) >= 7
	every name in actions {
		requirement(on(name, admin_user, plain_group)) == default_requirement
	}
}

test_default_user_without_admin_roles_needs_none if {
	every name in manage_actions {
		none(on(name, plain_user, plain_group))
	}
}

test_default_non_destructive_action_on_admin_user_needs_none if {
	actions := {name | some name in manage_actions; not catalog[name].destructive; touches(name, "user")}
	count(actions) >= 7
	every name in actions {
		none(on(name, admin_user, admin_group))
	}
}

# The shipped rule is about users: deleting a group that holds an admin
# role is protection's business (protected.rego), not approval's.
test_default_admin_group_needs_none if {
	none(on("groups.delete", plain_user, admin_group))
}

test_reads_never_need_approval if {
	count(read_actions) >= 10
	every name in read_actions {
		r := call("helpdesk-bot", name, "full", {"counts": counts})
		none(r)
		none(object.union(r, {"context": {"target": {"resolved": false}}}))
		count(approval.invalid) == 0 with input as r
	}
}

# At stage grant there is no context.target: the requirement is the second
# stage's, which every call decided at grant goes through before it is
# forwarded.
test_stage_grant_computes_nothing if {
	every name in manage_actions {
		none(call("helpdesk-bot", name, "grant", {"counts": counts}))
	}
	none(at_stage(on("user_lifecycle.deactivate", admin_user, plain_group), "grant"))
	none(call("helpdesk-bot", "users.update", "grant", {"counts": counts})) with data.bollard.config.approval as {"rules": [rule_b]}
}

# Without a stage the whole decision is made, as at "full".
test_missing_stage_is_full if {
	r := object.remove(on("user_lifecycle.deactivate", admin_user, plain_group), ["stage"])
	requirement(r) == default_requirement
}

## Unresolved facts: a rule with targets requires the approval, it is not
## skipped.

unresolved_targets := [
	{"resolved": false, "users": [], "groups": [], "apps": [], "policies": []},
	{"resolved": false, "reason": "timeout"},
	{"resolved": true, "groups": [], "apps": [], "policies": [], "users": [{"id": alice, "resolved": false, "groups": [], "admin_roles": [], "reason": "timeout"}]},
	{"resolved": true, "users": "none", "groups": []},
	{"resolved": true, "users": [object.remove(plain_user, ["admin_roles"])], "groups": []},
	{"resolved": true, "users": [], "groups": [{"id": engineering, "resolved": false, "admin_roles": []}]},
	{"resolved": true, "users": []},
	{"resolved": "true", "users": [plain_user], "groups": []},
	{},
]

test_unresolved_target_requires_approval if {
	every t in unresolved_targets {
		requirement(with_target("user_lifecycle.deactivate", t)) == default_requirement
		requirement(with_target("apps.delete", t)) == default_requirement
	}
	requirement(call("helpdesk-bot", "users.delete", "effect", {"counts": counts})) == default_requirement
	requirement(call("helpdesk-bot", "users.delete", "full", {"counts": counts})) == default_requirement
}

# The action and agent selectors still apply: an unresolved target makes
# a rule's targets match, not the rest of it.
test_unresolved_target_keeps_the_other_selectors if {
	every t in unresolved_targets {
		none(with_target("user_lifecycle.unlock", t))
		none(as_agent(with_target("user_lifecycle.deactivate", t), "reader-bot")) with data.bollard.config.approval as {"rules": [object.union(rule_a, {"agents": ["helpdesk-bot"]})]}
	}
}

## Selectors.

rule_a := {
	"name": "admin-users",
	"actions": {"destructive": true},
	"targets": {"user_has_admin_role": true},
	"approvers": {"groups": ["security-approvers"], "users": []},
	"approvals": 1,
	"ttl_seconds": 900,
	"reason": "reason a",
}

rule_b := {
	"name": "profile-changes",
	"actions": {"names": ["users.update", "users.replace"]},
	"approvers": {"groups": ["it-leads"], "users": ["cto@example.com"]},
	"approvals": 2,
	"ttl_seconds": 3600,
	"reason": "reason b",
}

rule_c := {
	"name": "admin-groups",
	"actions": {"destructive": true, "names": ["groups.add_member"]},
	"agents": ["provisioner-bot"],
	"targets": {"group_has_admin_role": true},
	"approvers": {"groups": ["security-approvers"]},
	"approvals": 1,
	"ttl_seconds": 300,
	"reason": "reason c",
}

rules(list) := {"rules": list}

test_action_names if {
	r := requirement(on("users.update", plain_user, plain_group)) with data.bollard.config.approval as rules([rule_b])
	r == {"approvers": [{"groups": ["it-leads"], "users": ["cto@example.com"]}], "approvals": 2, "ttl_seconds": 3600, "reason": "reason b"}
	requirement(on("users.replace", plain_user, plain_group)) == r with data.bollard.config.approval as rules([rule_b])
	none(on("users.delete", admin_user, plain_group)) with data.bollard.config.approval as rules([rule_b])
}

# names and destructive together: the listed actions, and every
# destructive one.
test_action_names_or_destructive if {
	count({name | some name in manage_actions; expected_c(name)}) >= 3
	every name in manage_actions {
		covered_by(as_agent(on(name, plain_user, admin_group), "provisioner-bot"), rule_c) == expected_c(name)
	}
	none(as_agent(on("groups.replace", plain_user, admin_group), "provisioner-bot")) with data.bollard.config.approval as rules([rule_c])
}

# rule_c covers groups.add_member and every destructive action, when the
# call changes a group holding an admin role.
expected_c(name) if {
	touches(name, "group")
	selected_by_c(name)
} else := false

selected_by_c(name) if name == "groups.add_member"

selected_by_c(name) if catalog[name].destructive == true

covered_by(r, rule) if {
	requirement(r) with data.bollard.config.approval as rules([rule])
} else := false

test_agents if {
	r := on("groups.delete", plain_user, admin_group)
	requirement(as_agent(r, "provisioner-bot")).reason == "reason c" with data.bollard.config.approval as rules([rule_c])
	none(as_agent(r, "helpdesk-bot")) with data.bollard.config.approval as rules([rule_c])
	none(as_agent(r, "reader-bot")) with data.bollard.config.approval as rules([rule_c])
}

test_group_has_admin_role if {
	r := as_agent(on("groups.delete", plain_user, admin_group), "provisioner-bot")
	requirement(r) == {"approvers": [{"groups": ["security-approvers"], "users": []}], "approvals": 1, "ttl_seconds": 300, "reason": "reason c"} with data.bollard.config.approval as rules([rule_c])
	none(as_agent(on("groups.delete", admin_user, plain_group), "provisioner-bot")) with data.bollard.config.approval as rules([rule_c])

	# A user created into an admin group: users.create names the group in
	# its body.
	requirement(as_agent(on("users.create", plain_user, admin_group), "provisioner-bot")).reason == "reason c" with data.bollard.config.approval as rules([object.union(rule_c, {"actions": {"names": ["users.create"]}})])
}

# Both target keys: a user or a group holding an admin role.
test_either_target if {
	both := object.union(rule_a, {"targets": {"user_has_admin_role": true, "group_has_admin_role": true}})
	requirement(on("groups.remove_member", admin_user, plain_group)).reason == "reason a" with data.bollard.config.approval as rules([both])
	requirement(on("groups.remove_member", plain_user, admin_group)).reason == "reason a" with data.bollard.config.approval as rules([both])
	none(on("groups.remove_member", plain_user, plain_group)) with data.bollard.config.approval as rules([both])
}

# A rule without targets ignores them, resolved or not.
test_rule_without_targets if {
	requirement(on("users.update", plain_user, plain_group)).reason == "reason b" with data.bollard.config.approval as rules([rule_b])
	requirement(with_target("users.update", {"resolved": false})).reason == "reason b" with data.bollard.config.approval as rules([rule_b])
}

test_no_rules_no_approval if {
	every name in manage_actions {
		none(on(name, admin_user, admin_group)) with data.bollard.config.approval as rules([])
		count(approval.invalid) == 0 with input as on(name, admin_user, admin_group) with data.bollard.config.approval as rules([])
	}
}

## Several rules: the intersection of their approver sets, the largest
## approvals, the smallest ttl, the reasons in the order of the names.

test_rules_combine if {
	# In the array out of name order: the reasons follow the names.
	cfg := rules([rule_b, rule_c, object.union(rule_a, {"actions": {"names": ["groups.remove_member"]}})])
	r := as_agent(on("groups.remove_member", admin_user, admin_group), "provisioner-bot")
	requirement(r) == {
		"approvers": [
			{"groups": ["security-approvers"], "users": []},
		],
		"approvals": 1,
		"ttl_seconds": 300,
		"reason": "reason c; reason a",
	} with data.bollard.config.approval as cfg

	all_three := rules([
		rule_b,
		object.union(rule_c, {"actions": {"names": ["users.update"]}, "targets": {"user_has_admin_role": true}}),
		object.union(rule_a, {"actions": {"names": ["users.update"]}, "ttl_seconds": 600}),
	])
	requirement(as_agent(on("users.update", admin_user, plain_group), "provisioner-bot")) == {
		"approvers": [
			{"groups": ["it-leads"], "users": ["cto@example.com"]},
			{"groups": ["security-approvers"], "users": []},
		],
		"approvals": 2,
		"ttl_seconds": 300,
		"reason": "reason c; reason a; reason b",
	} with data.bollard.config.approval as all_three

	# Only the rules that cover the call take part.
	requirement(as_agent(on("users.update", plain_user, plain_group), "provisioner-bot")) == {
		"approvers": [{"groups": ["it-leads"], "users": ["cto@example.com"]}],
		"approvals": 2,
		"ttl_seconds": 3600,
		"reason": "reason b",
	} with data.bollard.config.approval as all_three
}

test_approver_sets_normalized if {
	messy := object.union(rule_b, {"approvers": {"users": ["b@example.com", "a@example.com", "b@example.com"], "groups": ["z", "a", "z"]}})
	requirement(on("users.update", plain_user, plain_group)).approvers == [{"groups": ["a", "z"], "users": ["a@example.com", "b@example.com"]}] with data.bollard.config.approval as rules([messy])
	only_users := object.union(object.remove(rule_b, ["approvers"]), {"approvers": {"users": ["a@example.com"]}})
	requirement(on("users.update", plain_user, plain_group)).approvers == [{"groups": [], "users": ["a@example.com"]}] with data.bollard.config.approval as rules([only_users])
}

test_ttl_defaults_to_900 if {
	requirement(on("users.update", plain_user, plain_group)).ttl_seconds == 900 with data.bollard.config.approval as rules([object.remove(rule_b, ["ttl_seconds"])])
}

test_ttl_bounds_accepted if {
	every ttl in [1, 86400] {
		requirement(on("users.update", plain_user, plain_group)).ttl_seconds == ttl with data.bollard.config.approval as rules([object.union(rule_b, {"ttl_seconds": ttl})])
	}
}

# Whole numbers written with a fraction in the data still go out as
# integers, which is what the sidecar parses.
test_numbers_are_integers if {
	cfg := rules([object.union(rule_b, {"approvals": 2.0, "ttl_seconds": 600.0})])
	r := requirement(on("users.update", plain_user, plain_group)) with data.bollard.config.approval as cfg
	json.marshal([r.approvals, r.ttl_seconds]) == "[2,600]"
	cfg1 := rules([object.union(rule_b, {"approvals": 1.0})])
	r1 := requirement(on("users.update", plain_user, plain_group)) with data.bollard.config.approval as cfg1
	json.marshal(r1.approvals) == "1"
}

## The shipped settings can be read.

test_shipped_settings_are_valid if {
	every name in manage_actions {
		count(approval.invalid) == 0 with input as call("helpdesk-bot", name, "grant", {"counts": counts})
	}
	approval.config_ok
}

## Fail closed: settings that cannot be read deny every change (invalid)
## and, at stages effect and full, leave every change with a requirement
## no one can meet, whether or not a rule would have covered it.

nobody := {"groups": [], "users": []}

fallback_reason := "the approval settings (data.bollard.config.approval) cannot be read, so no one can approve a change until they are fixed"

with_field(key, value) := object.union(object.remove(rule_a, [key]), {key: value})

broken_blocks := [
	null, 3, "rules", [], [rule_a], {}, {"rules": 3}, {"rules": rule_a}, {"rules": null},
	{"rules": [rule_a], "default": {}},
]

broken_rules := [
	# not a rule
	3, "admin-users", null, [], true,
	# unknown keys: a misspelt selector
	object.union(rule_a, {"agent": ["helpdesk-bot"]}),
	object.union(rule_a, {"approvers_groups": ["x"]}),
	# name
	object.remove(rule_a, ["name"]), with_field("name", ""), with_field("name", "  "), with_field("name", 1),
	# actions
	object.remove(rule_a, ["actions"]), with_field("actions", true), with_field("actions", {}),
	with_field("actions", {"destructive": false}), with_field("actions", {"destructive": "true"}),
	with_field("actions", {"destructive": false, "names": ["users.delete"]}),
	with_field("actions", {"names": []}), with_field("actions", {"names": "users.delete"}),
	with_field("actions", {"names": [1]}), with_field("actions", {"names": [""]}),
	with_field("actions", {"names": ["users.remove"]}),
	with_field("actions", {"names": ["users.get"]}),
	with_field("actions", {"destructive": true, "names": ["users.delete", "users.nope"]}),
	with_field("actions", {"destructive": true, "access": "manage"}),
	# agents
	with_field("agents", []), with_field("agents", "helpdesk-bot"), with_field("agents", [""]), with_field("agents", [1]),
	with_field("agents", null),
	# targets
	with_field("targets", {}), with_field("targets", true), with_field("targets", {"user_has_admin_role": false}),
	with_field("targets", {"user_has_admin_role": "yes"}), with_field("targets", {"admin": true}),
	with_field("targets", {"user_has_admin_role": true, "user_has_role": true}), with_field("targets", null),
	# approvers
	object.remove(rule_a, ["approvers"]), with_field("approvers", {}), with_field("approvers", "security-approvers"),
	with_field("approvers", ["security-approvers"]), with_field("approvers", {"groups": []}),
	with_field("approvers", {"groups": [], "users": []}), with_field("approvers", {"groups": "security-approvers"}),
	with_field("approvers", {"groups": [""]}), with_field("approvers", {"groups": [1]}),
	with_field("approvers", {"users": ["alice"]}), with_field("approvers", {"group": ["security-approvers"]}),
	with_field("approvers", {"groups": ["security-approvers"], "user": ["alice@example.com"]}),
	with_field("approvers", {"groups": ["security-approvers"], "users": null}),
	# approvals
	object.remove(rule_a, ["approvals"]), with_field("approvals", 0), with_field("approvals", 3),
	with_field("approvals", 1.5), with_field("approvals", "1"), with_field("approvals", true),
	with_field("approvals", -1), with_field("approvals", null),
	# ttl_seconds
	with_field("ttl_seconds", 0), with_field("ttl_seconds", -900), with_field("ttl_seconds", 86401),
	with_field("ttl_seconds", 1.5), with_field("ttl_seconds", "900"), with_field("ttl_seconds", null),
	# reason
	object.remove(rule_a, ["reason"]), with_field("reason", ""), with_field("reason", " "), with_field("reason", ["x"]),
]

broken_configs := array.concat(broken_blocks, array.concat([rules([r]) | some r in broken_rules], array.concat([rules([rule_b, r]) | some r in broken_rules], [rules([rule_a, object.union(rule_b, {"name": "admin-users"})])])))

invalid_only(r) if {
	reasons := approval.invalid with input as r
	count(reasons) > 0
	every x in reasons {
		x.code == "approval_config_invalid"
		is_string(x.message)
	}
}

test_broken_settings_deny_every_change if {
	count(broken_configs) >= 130
	every cfg in broken_configs {
		# at every stage, the grant stage included
		invalid_only(call("helpdesk-bot", "users.update", "grant", {"counts": counts})) with data.bollard.config.approval as cfg
		invalid_only(on("user_lifecycle.deactivate", admin_user, plain_group)) with data.bollard.config.approval as cfg
	}
	invalid_only(on("users.update", plain_user, plain_group)) with data.bollard.config as {}
}

# A call that no rule covers (users.update of a user without an admin
# role) gets the requirement no one can meet.
test_broken_settings_leave_an_unmeetable_requirement if {
	every cfg in broken_configs {
		r := requirement(on("users.update", plain_user, plain_group)) with data.bollard.config.approval as cfg
		nobody in r.approvers
		r.approvals == 2
		startswith(r.reason, fallback_reason)
		well_formed(r)
	}
	r := requirement(on("users.update", plain_user, plain_group)) with data.bollard.config as {}
	r == {"approvers": [nobody], "approvals": 2, "ttl_seconds": 900, "reason": fallback_reason}
}

# Good rules beside a broken one still take part: the requirement keeps
# their approvers and reasons, the unmeetable set and the fallback first.
test_broken_rule_keeps_the_good_ones if {
	cfg := rules([rule_b, with_field("approvals", 3)])
	requirement(on("users.update", admin_user, plain_group)) == {
		"approvers": [nobody, {"groups": ["it-leads"], "users": ["cto@example.com"]}],
		"approvals": 2,
		"ttl_seconds": 900,
		"reason": concat("; ", [fallback_reason, "reason b"]),
	} with data.bollard.config.approval as cfg
}

test_broken_settings_never_touch_reads if {
	every cfg in broken_configs {
		every name in ["users.get", "users.list", "logs.list"] {
			r := call("helpdesk-bot", name, "full", {"counts": counts})
			none(r) with data.bollard.config.approval as cfg
			count(approval.invalid) == 0 with input as r with data.bollard.config.approval as cfg
		}
	}
}

test_broken_settings_at_grant_no_requirement if {
	every cfg in broken_configs {
		none(call("helpdesk-bot", "users.delete", "grant", {"counts": counts})) with data.bollard.config.approval as cfg
	}
}

## What invalid says, for the security team reading the audit record.

test_invalid_messages if {
	r := on("users.update", plain_user, plain_group)
	approval.invalid == {{"code": "approval_config_invalid", "message": `data.bollard.config.approval is missing or not an object: write {"rules": []} for no approvals, so changes are refused until it is fixed`}} with input as r with data.bollard.config as {}
	approval.invalid == {{"code": "approval_config_invalid", "message": "data.bollard.config.approval.rules must be a list of rules, so changes are refused until it is fixed"}} with input as r with data.bollard.config.approval as {}
	approval.invalid == {{"code": "approval_config_invalid", "message": `data.bollard.config.approval has an unknown key "default" (only rules), so changes are refused until it is fixed`}} with input as r with data.bollard.config.approval as {"rules": [], "default": {}}
	approval.invalid == {{"code": "approval_config_invalid", "message": `data.bollard.config.approval rule 1 ("admin-users"): approvals must be 1 or 2, not 3, so changes are refused until it is fixed`}} with input as r with data.bollard.config.approval as rules([rule_b, with_field("approvals", 3)])
	approval.invalid == {{"code": "approval_config_invalid", "message": "data.bollard.config.approval rule 0: must be an object, so changes are refused until it is fixed"}} with input as r with data.bollard.config.approval as rules([3])
	approval.invalid == {
		{"code": "approval_config_invalid", "message": `data.bollard.config.approval rule 0 ("admin-users"): actions.names: "users.get" only reads, and reads never need approval, so changes are refused until it is fixed`},
		{"code": "approval_config_invalid", "message": `data.bollard.config.approval rule 0 ("admin-users"): actions.names: "users.nope" is not an action of the catalog, so changes are refused until it is fixed`},
	} with input as r with data.bollard.config.approval as rules([with_field("actions", {"names": ["users.get", "users.nope"]})])
	approval.invalid == {
		{"code": "approval_config_invalid", "message": `data.bollard.config.approval rule 0 ("admin-users"): has the name "admin-users" of another rule: names must be unique, so changes are refused until it is fixed`},
		{"code": "approval_config_invalid", "message": `data.bollard.config.approval rule 1 ("admin-users"): has the name "admin-users" of another rule: names must be unique, so changes are refused until it is fixed`},
	} with input as r with data.bollard.config.approval as rules([rule_a, object.union(rule_b, {"name": "admin-users"})])
}

## Every requirement has the obligation's schema.

well_formed(r) if {
	object.keys(r) == {"approvers", "approvals", "ttl_seconds", "reason"}
	is_array(r.approvers)
	count(r.approvers) > 0
	every s in r.approvers {
		object.keys(s) == {"groups", "users"}
		is_array(s.groups)
		is_array(s.users)
	}
	r.approvals in {1, 2}
	is_number(r.ttl_seconds)
	r.ttl_seconds >= 1
	r.ttl_seconds <= 86400
	round(r.ttl_seconds) == r.ttl_seconds
	is_string(r.reason)
	r.reason != ""
}

test_every_requirement_well_formed if {
	every cfg in [rules([rule_a, rule_b, rule_c]), data.bollard.config.approval] {
		every name in manage_actions {
			every u in [admin_user, plain_user] {
				every g in [admin_group, plain_group] {
					every agent in ["provisioner-bot", "helpdesk-bot"] {
						well_formed_or_none(as_agent(on(name, u, g), agent)) with data.bollard.config.approval as cfg
					}
				}
			}
		}
	}
}

well_formed_or_none(r) if none(r)

well_formed_or_none(r) if well_formed(requirement(r))
