# METADATA
# title: Human approval
# description: |
#   The value of the obligation require_approval (issue 17): the people who
#   must approve a call before the sidecar forwards it to Okta. The rules
#   are data.bollard.config.approval; the shipped one says that destructive
#   actions on users with admin roles need one approval from the security
#   team's group. policies/authz.rego adds the requirement to the
#   obligations of the decision at stages effect and full, and denies every
#   manage call with approval_config_invalid while the settings cannot be
#   read. docs/approvals.md describes the flow.
package bollard.approval

## The settings: data.bollard.config.approval.
##
##   {"rules": [{
##     "name":        "admin-users",            non-empty, unique
##     "actions":     {"names": ["users.delete"], "destructive": true},
##     "agents":      ["helpdesk-bot"],         optional
##     "targets":     {"user_has_admin_role": true, "group_has_admin_role": true},
##                                              optional
##     "approvers":   {"groups": ["security-approvers"], "users": ["alice@example.com"]},
##     "approvals":   1,                        1, or 2 for two distinct people
##     "ttl_seconds": 900,                      optional, 1 to 86400, default 900
##     "reason":      "why, for the approvers"  non-empty
##   }]}
##
## A rule covers a call when every selector it has matches:
## - actions (required): the action is one of names (catalog actions that
##   are not reads), or destructive is true and the action is destructive.
##   Either or both; destructive, when given, is true.
## - agents (optional): the agent is one of them. Leave it out for every
##   agent; an empty list is refused, not read as "none".
## - targets (optional): what the call changes (input.context.target, as
##   policies/protected.rego reads it) includes a user holding any admin
##   role (user_has_admin_role, the roles Okta reports for the user and
##   its groups) or a group holding any admin role (group_has_admin_role).
##   Each key given is true. When the target could not be looked up
##   (resolved not true, or facts of the wrong shape) a rule with targets
##   covers the call: approval is required rather than skipped.
## approvers: a person qualifies when in one of groups or one of users
## (emails); at least one entry. A key not listed above, in the block or in
## a rule, is an error: a misspelt selector must not widen or narrow a rule.
## The block is required: missing, it is unreadable like a malformed one
## (see invalid below). Only {"rules": []} says that nothing needs approval.

cfg := data.bollard.config.approval

rules := r if {
	r := cfg.rules
	is_array(r)
} else := []

## The requirement: the obligation's value, undefined when the call needs
## no approval. Reads never need one. At stage grant there is no
## context.target, so targets cannot be read: the requirement is computed
## at stages effect and full, and without a stage (read as full). A call
## decided at grant is decided again at effect before it is forwarded.
##
##   {"approvers":   [{"groups": [...], "users": [...]}, ...],
##    "approvals":   1 or 2,
##    "ttl_seconds": 1 to 86400,
##    "reason":      "..."}
##
## Every rule covering the call adds its approver set to approvers: a
## person qualifies only by matching every set (the intersection), so
## adding a rule never lets more people approve. approvals is the largest
## of the rules', ttl_seconds the smallest, reason their reasons joined
## with "; " in the order of the rules' names.
##
## Fail closed. When the settings cannot be read (invalid holds), every
## manage call at stage effect or full also carries a requirement, whether
## or not a rule would have covered it: its approver set
## {"groups": [], "users": []} matches no one, so the call cannot be
## approved until the settings are fixed, with approvals 2 and the default
## ttl_seconds. A malformed rule can therefore never drop a requirement,
## even for a caller that forgot to deny on invalid.
requirement := {
	"approvers": [s | some s in {c.approvers | some [_, c] in contributions}],
	"approvals": max({c.approvals | some [_, c] in contributions}),
	"ttl_seconds": min({c.ttl_seconds | some [_, c] in contributions}),
	"reason": concat("; ", [c.reason | some [_, c] in contributions]),
} if {
	count(contributions) > 0
}

default_ttl := 900

# reads: an action that only reads (the catalog's access "read"). Anything
# else is considered, as a change.
reads if input.action.access == "read"

considered if {
	not input.stage == "grant"
	not reads
}

# contributions is [name, part] for each rule covering the call; a set, so
# that it iterates in the order of the names. The fallback for unreadable
# settings has the name "", so its reason comes first.
contributions contains [r.name, part] if {
	some i in covering
	r := rules[i]
	part := {
		"approvers": approver_set(r.approvers),
		"approvals": approvals_of(r),
		"ttl_seconds": round(object.get(r, "ttl_seconds", default_ttl)),
		"reason": r.reason,
	}
}

contributions contains ["", fallback] if {
	considered
	not config_ok
}

fallback := {
	"approvers": {"groups": [], "users": []},
	"approvals": 2,
	"ttl_seconds": default_ttl,
	"reason": "the approval settings (data.bollard.config.approval) cannot be read, so no one can approve a change until they are fixed",
}

# Each set's lists without duplicates, sorted, both always present.
approver_set(a) := {
	"groups": [g | some g in {x | some x in object.get(a, "groups", [])}],
	"users": [u | some u in {x | some x in object.get(a, "users", [])}],
}

# 1 or 2, written as such whatever form the number has in the data.
approvals_of(r) := 2 if {
	r.approvals == 2
} else := 1

# covering is the index of every well-formed rule that covers the call.
covering contains i if {
	considered
	some i in valid
	r := rules[i]
	action_selected(r.actions)
	agent_selected(r)
	target_selected(r)
}

action_selected(a) if input.action.name in a.names

action_selected(a) if {
	a.destructive == true
	input.action.destructive == true
}

agent_selected(r) if absent(r, "agents")

agent_selected(r) if input.agent.id in r.agents

target_selected(r) if absent(r, "targets")

target_selected(r) if {
	not absent(r, "targets")
	not target_known
}

target_selected(r) if {
	r.targets.user_has_admin_role == true
	target_known
	some u in input.context.target.users
	count(u.admin_roles) > 0
}

target_selected(r) if {
	r.targets.group_has_admin_role == true
	target_known
	some g in input.context.target.groups
	count(g.admin_roles) > 0
}

# target_known holds when context.target was looked up and has
# pkg/target's shape: resolved lists of users and groups with their admin
# roles. Anything else could hide an admin, so a rule with targets then
# covers the call.
target_known if {
	t := input.context.target
	t.resolved == true
	is_array(t.users)
	is_array(t.groups)
	every u in t.users {
		u.resolved == true
		is_array(u.admin_roles)
	}
	every g in t.groups {
		g.resolved == true
		is_array(g.admin_roles)
	}
}

absent(o, key) if not key in object.keys(o)

## Reading the settings. problems lists what is wrong with the block
## ([".rules", what]) and rule_problems with each rule ([index, what]).

default config_ok := false

config_ok if {
	count(problems) == 0
	count(rule_problems) == 0
}

valid contains i if {
	some i, _ in rules
	not malformed[i]
}

malformed contains i if some [i, _] in rule_problems

rule_keys := {"name", "actions", "agents", "targets", "approvers", "approvals", "ttl_seconds", "reason"}

action_keys := {"names", "destructive"}

target_keys := {"user_has_admin_role", "group_has_admin_role"}

approver_keys := {"groups", "users"}

# configured is written as a rule so that its negation holds when there is
# no setting at all (a negated expression whose reference is undefined is
# itself undefined).
configured if is_object(cfg)

listed if is_array(cfg.rules)

problems contains ["", "is missing or not an object: write {\"rules\": []} for no approvals"] if not configured

problems contains ["", sprintf("has an unknown key %q (only rules)", [k])] if {
	some k, _ in cfg
	configured
	k != "rules"
}

problems contains [".rules", "must be a list of rules"] if {
	configured
	not listed
}

rule_problems contains [i, "must be an object"] if {
	some i, r in rules
	not is_object(r)
}

rule_problems contains [i, sprintf("has an unknown key %q", [k])] if {
	some i, r in rules
	is_object(r)
	some k, _ in r
	not k in rule_keys
}

rule_problems contains [i, "needs a name, a non-empty string"] if {
	some i, r in rules
	is_object(r)
	not text(object.get(r, "name", null))
}

rule_problems contains [i, sprintf("has the name %q of another rule: names must be unique", [n])] if {
	some i, r in rules
	n := r.name
	is_string(n)
	count([j | some j, s in rules; s.name == n]) > 1
}

rule_problems contains [i, "needs actions: an object with names (a non-empty list of action names) and/or destructive: true"] if {
	some i, r in rules
	is_object(r)
	not actions_ok(object.get(r, "actions", null))
}

rule_problems contains [i, sprintf("actions.names: %q is not an action of the catalog", [n])] if {
	some i, r in rules
	some n in r.actions.names
	not data.bollard.catalog.actions[n]
}

rule_problems contains [i, sprintf("actions.names: %q only reads, and reads never need approval", [n])] if {
	some i, r in rules
	some n in r.actions.names
	data.bollard.catalog.actions[n].access == "read"
}

rule_problems contains [i, "agents, when given, must be a non-empty list of agent ids (leave it out for every agent)"] if {
	some i, r in rules
	is_object(r)
	not agents_ok(r)
}

rule_problems contains [i, "targets, when given, must be an object of user_has_admin_role and/or group_has_admin_role, each true"] if {
	some i, r in rules
	is_object(r)
	not targets_ok(r)
}

rule_problems contains [i, "needs approvers: an object with groups (group names) and/or users (emails), at least one entry"] if {
	some i, r in rules
	is_object(r)
	not approvers_ok(object.get(r, "approvers", null))
}

rule_problems contains [i, sprintf("approvals must be 1 or 2, not %v", [object.get(r, "approvals", "missing")])] if {
	some i, r in rules
	is_object(r)
	not object.get(r, "approvals", null) in {1, 2}
}

rule_problems contains [i, sprintf("ttl_seconds, when given, must be a whole number of seconds from 1 to 86400, not %v", [r.ttl_seconds])] if {
	some i, r in rules
	is_object(r)
	not absent(r, "ttl_seconds")
	not ttl_ok(r.ttl_seconds)
}

rule_problems contains [i, "needs a reason, a non-empty string"] if {
	some i, r in rules
	is_object(r)
	not text(object.get(r, "reason", null))
}

text(s) if {
	is_string(s)
	trim_space(s) != ""
}

texts(l) if {
	is_array(l)
	every s in l {
		text(s)
	}
}

actions_ok(a) if {
	is_object(a)
	every k, _ in a {
		k in action_keys
	}
	names_ok(a)
	destructive_ok(a)
	selects_some(a)
}

names_ok(a) if absent(a, "names")

names_ok(a) if {
	texts(a.names)
	count(a.names) > 0
}

destructive_ok(a) if absent(a, "destructive")

destructive_ok(a) if a.destructive == true

selects_some(a) if a.destructive == true

selects_some(a) if count(a.names) > 0

agents_ok(r) if absent(r, "agents")

agents_ok(r) if {
	texts(r.agents)
	count(r.agents) > 0
}

targets_ok(r) if absent(r, "targets")

targets_ok(r) if {
	t := r.targets
	is_object(t)
	count(t) > 0
	every k, v in t {
		k in target_keys
		v == true
	}
}

approvers_ok(a) if {
	is_object(a)
	every k, _ in a {
		k in approver_keys
	}
	groups := object.get(a, "groups", [])
	users := object.get(a, "users", [])
	texts(groups)
	texts(users)
	every u in users {
		contains(u, "@")
	}
	count(groups) + count(users) > 0
}

ttl_ok(t) if {
	is_number(t)
	t >= 1
	t <= 86400
	round(t) == t
}

## Reasons: approval.invalid, a set of deny reasons that holds when the
## settings cannot be read. It holds for every manage call, at every stage
## (at grant too, so that nothing is looked up for a call that is refused):
## a rule that cannot be read might have covered any of them. Reads never
## need approval and are not refused for it. The caller denies when it is
## not empty.
invalid contains {"code": "approval_config_invalid", "message": msg} if {
	not reads
	some [where, what] in problems
	msg := sprintf("data.bollard.config.approval%s %s, so changes are refused until it is fixed", [where, what])
}

invalid contains {"code": "approval_config_invalid", "message": msg} if {
	not reads
	some [i, what] in rule_problems
	msg := sprintf("data.bollard.config.approval rule %s: %s, so changes are refused until it is fixed", [label(i), what])
}

label(i) := sprintf("%d (%q)", [i, rules[i].name]) if {
	is_string(rules[i].name)
} else := sprintf("%d", [i])
