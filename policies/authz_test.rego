package bollard.authz_test

import data.bollard.authz
import data.bollard.business_hours
import data.bollard.impact_limits

alice := "00uALIactive000000g7"

admin := "00uADAadmin0000000g7"

engineering := "00gENGINEERING0000g7"

okta_admins := "00gOKTAADMINS00000g7"

monday_noon := "2026-11-30T17:00:00Z"

saturday := "2026-11-28T13:00:00Z"

christmas := "2026-12-25T17:00:00Z"

# target is input.context.target as pkg/target reports it: one object of
# each kind the action's effects name.
target(name, u, g, app, pol) := {
	"resolved": true,
	"users": [u | some e in data.bollard.catalog.actions[name].effects; e.kind == "user"],
	"groups": [g | some e in data.bollard.catalog.actions[name].effects; e.kind == "group"],
	"apps": [{"id": app} | some e in data.bollard.catalog.actions[name].effects; e.kind == "app"],
	"policies": [{"id": pol} | some e in data.bollard.catalog.actions[name].effects; e.kind == "policy"],
}

plain_user := {"id": alice, "resolved": true, "groups": [engineering], "admin_roles": []}

admin_user := {"id": admin, "resolved": true, "groups": [okta_admins], "admin_roles": ["SUPER_ADMIN"]}

plain_target(name) := target(name, plain_user, {"id": engineering, "resolved": true, "admin_roles": []}, "0oaGITHUB000000000g7", "00pSIGNONCTR000000g7")

protected_target(name) := target(name, admin_user, {"id": okta_admins, "resolved": true, "admin_roles": ["ORG_ADMIN"]}, "0oaBOLLARDAPP0000g7", "00pSIGNONDEF000000g7")

# Input as the sidecar builds it: the action from the catalog, a few
# destructive actions counted, what the call changes looked up, every
# stage at once (the sidecar's "full").
req(agent, name, at) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"action": object.remove(data.bollard.catalog.actions[name], ["paginated"]),
	"resource": {"userId": alice},
	"params": {"userId": alice},
	"time": at,
	"context": {
		"counts": {"destructive": {"hour": 1, "day": 3}},
		"target": plain_target(name),
	},
	"stage": "full",
}

with_context(r, context) := object.union(object.remove(r, ["context"]), {"context": context})

at_stage(r, stage) := object.union(r, {"stage": stage})

allowed(obligations) := {"allow": true, "deny": [], "obligations": obligations}

codes(r) := [c.code | some c in d.deny] if {
	d := authz.decision with input as r
}

mobile := ["profile.mobilePhone"]

test_read_allowed if {
	authz.decision == allowed({"require_confirmation": false, "remove_fields": mobile}) with input as req("helpdesk-bot", "users.get", saturday)
}

test_list_capped_and_shaped if {
	authz.decision == allowed({
		"require_confirmation": false,
		"max_page_size": 200,
		"remove_fields": ["profile.mobilePhone", "profile.secondEmail"],
	}) with input as req("reader-bot", "users.list", saturday)
	authz.decision == allowed({
		"require_confirmation": false,
		"max_page_size": 50,
		"remove_fields": mobile,
	}) with input as req("helpdesk-bot", "users.list", saturday)
}

test_destructive_in_hours_needs_confirmation if {
	authz.decision == allowed({"require_confirmation": true, "remove_fields": mobile}) with input as req("provisioner-bot", "users.delete", monday_noon)
}

# Writes answer with the object they changed: its hidden fields are
# removed too.
test_manage_without_confirmation if {
	authz.decision == allowed({"require_confirmation": false, "remove_fields": mobile}) with input as req("provisioner-bot", "users.update", saturday)
}

test_on_call_agent_outside_hours if {
	authz.decision == allowed({"require_confirmation": true, "remove_fields": mobile}) with input as req("helpdesk-bot", "user_lifecycle.deactivate", saturday)
}

test_outside_hours_denied if {
	d := authz.decision with input as req("provisioner-bot", "users.delete", saturday)
	d.allow == false
	[r.code | some r in d.deny] == ["outside_business_hours"]
	d.obligations == {"require_confirmation": true, "remove_fields": mobile}
}

test_holiday_denied if {
	codes(req("provisioner-bot", "users.delete", christmas)) == ["outside_business_hours"]
}

test_reasons_listed_together_and_sorted if {
	r := with_context(req("reader-bot", "user_lifecycle.deactivate", saturday), {"counts": {"destructive": {"hour": 25, "day": 3}}})
	codes(r) == ["impact_limit", "not_granted", "outside_business_hours", "target_unresolved"]
	codes(req("reader-bot", "user_lifecycle.deactivate", saturday)) == ["not_granted", "outside_business_hours"]
}

test_not_granted if {
	authz.decision == {
		"allow": false,
		"deny": [{
			"code": "not_granted",
			"message": `agent "reader-bot" is not granted manage access to area "users"`,
		}],
		"obligations": {"require_confirmation": false, "remove_fields": ["profile.mobilePhone", "profile.secondEmail"]},
	} with input as req("reader-bot", "users.update", monday_noon)
}

test_action_lists if {
	authz.decision.allow with input as req("helpdesk-bot", "factors.unenroll", saturday)
	codes(req("provisioner-bot", "groups.delete", monday_noon)) == ["action_denied"]
}

test_protected_user if {
	r := with_context(req("helpdesk-bot", "user_lifecycle.suspend", monday_noon), {
		"counts": {"destructive": {"hour": 0, "day": 0}},
		"target": protected_target("user_lifecycle.suspend"),
	})
	codes(r) == ["protected_user", "protected_user", "protected_user"]
}

test_target_unresolved if {
	r := with_context(req("helpdesk-bot", "user_lifecycle.deactivate", monday_noon), {"counts": {"destructive": {"hour": 0, "day": 0}}})
	codes(r) == ["target_unresolved"]
}

test_impact_limit if {
	r := with_context(req("provisioner-bot", "users.delete", monday_noon), {
		"counts": {"destructive": {"hour": 5, "day": 5}},
		"target": plain_target("users.delete"),
	})
	codes(r) == ["impact_limit"]
}

# The System Log window is a constraint on since: without since the call
# is allowed and the sidecar sends the earliest since allowed; a since
# further back is refused.
test_log_window if {
	r := object.union(req("helpdesk-bot", "logs.list", monday_noon), {"params": {}})
	d := authz.decision with input as r
	d.allow
	d.obligations.constraints == [{
		"param": "since", "min": "2026-11-29T17:00:00Z", "default": "2026-11-29T17:00:00Z",
		"description": "since no earlier than 24 hours before the call (2026-11-29T17:00:00Z)",
	}]
	authz.decision.allow with input as object.union(r, {"params": {"since": "2026-11-30T00:00:00Z"}})
	codes(object.union(r, {"params": {"since": "2026-11-01T00:00:00Z"}})) == ["log_window"]
}

test_unknown_agent if {
	codes(req("stranger", "users.list", monday_noon)) == ["not_granted"]
}

test_manage_implies_read if {
	authz.decision.allow with input as req("helpdesk-bot", "sessions.get", saturday)
}

test_unsupported_version if {
	v2 := object.union(req("reader-bot", "users.list", saturday), {"version": 2})
	codes(v2) == ["unsupported_input_version"]
}

test_missing_version if {
	codes(object.remove(req("reader-bot", "users.list", saturday), ["version"])) == ["unsupported_input_version"]
}

test_empty_input_denied if {
	d := authz.decision with input as {}
	d.allow == false
	count(d.deny) > 0
	is_boolean(d.obligations.require_confirmation)
}

## Stages. The sidecar asks "grant" before it looks anything up, then
## "effect" with the facts, for the same revision; both must allow.

test_grant_stage_needs_no_facts if {
	r := with_context(at_stage(req("provisioner-bot", "users.delete", monday_noon), "grant"), {"counts": {"destructive": {"hour": 0, "day": 0}}})
	authz.decision == allowed({"require_confirmation": true, "remove_fields": mobile}) with input as r
}

test_grant_stage_denies_without_facts if {
	r := with_context(at_stage(req("reader-bot", "users.delete", saturday), "grant"), {"counts": {"destructive": {"hour": 0, "day": 0}}})
	codes(r) == ["not_granted", "outside_business_hours"]
}

test_effect_stage_decides_protection if {
	r := with_context(at_stage(req("provisioner-bot", "users.delete", monday_noon), "effect"), {
		"counts": {"destructive": {"hour": 0, "day": 0}},
		"target": protected_target("users.delete"),
	})
	codes(r) == ["protected_user", "protected_user", "protected_user"]

	# Hours were decided at stage grant, at the same time.
	saturday_r := object.union(r, {"time": saturday, "context": {"counts": {"destructive": {"hour": 0, "day": 0}}, "target": plain_target("users.delete")}})
	authz.decision.allow with input as saturday_r
}

test_impact_limits_at_both_stages if {
	every stage in ["grant", "effect", "full"] {
		r := with_context(at_stage(req("provisioner-bot", "users.delete", monday_noon), stage), {
			"counts": {"destructive": {"hour": 5, "day": 5}},
			"target": plain_target("users.delete"),
		})
		codes(r) == ["impact_limit"]
	}
}

## Every reason rule has its negation among the conditions of the allowed
## branches, and the obligations agree. Checked over every catalog action
## for each sample agent, at several times, stages, targets and counts.

contexts(name) := [
	{"counts": {"destructive": {"hour": 1, "day": 3}}, "target": plain_target(name)},
	{"counts": {"destructive": {"hour": 20, "day": 3}}, "target": protected_target(name)},
	{"counts": {"destructive": {"hour": 1, "day": 3}}, "target": object.union(plain_target(name), {"resolved": false})},
	{},
]

stages := ["full", "grant", "effect"]

# The parameters only the System Log's window reads.
params("logs.list") := [{}, {"since": "2026-11-30T00:00:00Z"}, {"since": "2026-11-01T00:00:00Z"}]

params(name) := [{}] if name != "logs.list"

# One test per agent, so that each stays well inside the test runner's
# timeout, even under the race detector.
test_allow_iff_no_reasons_reader if all_agree("reader-bot")

test_allow_iff_no_reasons_helpdesk if all_agree("helpdesk-bot")

test_allow_iff_no_reasons_provisioner if all_agree("provisioner-bot")

test_allow_iff_no_reasons_stranger if all_agree("stranger")

test_allow_iff_no_reasons_versions if {
	every version in [1, 2] {
		agrees(object.union(req("reader-bot", "users.list", saturday), {"version": version}))
	}
}

all_agree(agent) if {
	every name, _ in data.bollard.catalog.actions {
		every at in [saturday, monday_noon, "not a time"] {
			every context in contexts(name) {
				every stage in stages {
					agrees(at_stage(with_context(req(agent, name, at), context), stage))
				}
			}
		}
	}
}

agrees(r) if {
	d := authz.decision with input as r
	d.allow == true
	count(authz.reasons) == 0 with input as r
	d.obligations == authz.obligations with input as r
}

agrees(r) if {
	d := authz.decision with input as r
	d.allow == false
	count(authz.reasons) > 0 with input as r
	d.deny == authz.deny with input as r
	d.obligations == authz.obligations with input as r
}

## The standing the sidecar passes changes nothing: the decision with
## input.standing, evaluated from an input that holds only the version, the
## agent's id and the action, is the decision without it. This is what lets
## the sidecar keep the standing per policy revision, agent and action.

standing_of(r) := s if {
	s := authz.standing with input as {"version": r.version, "agent": {"id": r.agent.id}, "action": r.action}
}

same_with_standing(r) if {
	without := authz.decision with input as r
	with_st := authz.decision with input as object.union(r, {"standing": standing_of(r)})
	without == with_st
}

shaping_variants := [
	data.bollard.config.read_shaping,
	object.union(data.bollard.config.read_shaping, {"page_size": {"default": 100, "agents": {"reader-bot": 7}}}),
	object.union(data.bollard.config.read_shaping, {"remove_fields": {"default": [], "agents": {"reader-bot": ["profile.email"]}}}),
	object.union(data.bollard.config.read_shaping, {"page_size": {"default": {"users": 10}, "agents": {"helpdesk-bot": {"users": 5}}}}),
	object.union(data.bollard.config.read_shaping, {"remove_fields": {"default": "all", "agents": {}}}),
]

test_standing_changes_nothing if {
	every shaping in shaping_variants {
		every agent in ["reader-bot", "helpdesk-bot", "provisioner-bot", "stranger"] {
			every name, _ in data.bollard.catalog.actions {
				every p in params(name) {
					same_with_standing(object.union(req(agent, name, monday_noon), {"params": p})) with data.bollard.config.read_shaping as shaping
				}
			}
		}
	}
}

test_standing_changes_nothing_at_stages if {
	every agent in ["helpdesk-bot", "provisioner-bot"] {
		every name, _ in data.bollard.catalog.actions {
			every context in contexts(name) {
				every stage in stages {
					every at in [saturday, monday_noon] {
						same_with_standing(at_stage(with_context(req(agent, name, at), context), stage))
					}
				}
			}
		}
	}
}

# The standing reads nothing of the call: the same for any call of the
# agent and action.
test_standing_ignores_the_call if {
	a := object.remove(data.bollard.catalog.actions["users.delete"], ["paginated"])
	s := authz.standing with input as {"version": 1, "agent": {"id": "provisioner-bot"}, "action": a}
	s == authz.standing with input as req("provisioner-bot", "users.delete", saturday)
	s == authz.standing with input as with_context(req("provisioner-bot", "users.delete", christmas), {})
	s.granted == true
	s.clear == true
	s.read == false
	s.hours.timezone == "America/New_York"
	s.protection == "check"
	s.limits == {"hour": 5, "day": 20}
}

## The decision writes some rules out rather than calling them, for speed:
## the hours (business_hours.blocked and message), the impact limits
## (impact_limits.blocked) and, in the fast branches, both again. Each copy
## agrees with the rule's own package, over settings that work and settings
## that do not. (Protection is not copied: the decision calls
## protected.clear_of_hits and protected.hit.)

hours_variants := [
	data.bollard.config.business_hours,
	object.union(data.bollard.config.business_hours, {"enabled": false}),
	object.union(data.bollard.config.business_hours, {"timezone": "Mars/Olympus_Mons"}),
	object.union(data.bollard.config.business_hours, {"start": 8}),
	object.union(data.bollard.config.business_hours, {"holidays": "2026-12-25"}),
	object.remove(data.bollard.config.business_hours, ["holidays"]),
	object.union(data.bollard.config.business_hours, {"exempt_agents": []}),
]

# Around the edges of the sample hours (08:00 to 18:00 in New York, on
# weekdays but holidays): 2026-12-25T03:00Z is still the 24th there.
hours_times := [
	saturday, monday_noon, christmas, "2026-12-25T03:00:00Z",
	"2026-11-30T13:00:00Z", "2026-11-30T12:59:00Z", "2026-11-30T22:59:00Z", "2026-11-30T23:00:00Z",
	"not a time",
]

hours_actions := ["users.get", "users.create", "users.delete", "user_lifecycle.deactivate", "groups.delete", "apps.delete"]

test_hours_agree_with_business_hours if {
	every hours in hours_variants {
		every agent in ["helpdesk-bot", "provisioner-bot"] {
			every name in hours_actions {
				every at in hours_times {
					hours_agree(at_stage(req(agent, name, at), "grant")) with data.bollard.config.business_hours as hours
					same_with_standing(at_stage(req(agent, name, at), "grant")) with data.bollard.config.business_hours as hours
				}
			}
		}
	}
}

hours_agree(r) if {
	authz.hours_clear with input as r
	not business_hours.blocked with input as r
}

hours_agree(r) if {
	not authz.hours_clear with input as r
	business_hours.blocked with input as r
	authz.hours_message == business_hours.message with input as r
	"outside_business_hours" in codes(r)
}

limits_variants := [
	data.bollard.config.impact_limits,
	{"default": {"hour": 2}, "agents": {}},
	{"default": {}, "agents": {"provisioner-bot": {"day": 4}}},
	{"default": {"hour": "2"}, "agents": {}},
	{"default": "none", "agents": {}},
	{"agents": {"provisioner-bot": []}},
	{},
]

limits_counts := [
	{"hour": 0, "day": 0}, {"hour": 1, "day": 3}, {"hour": 4, "day": 19}, {"hour": 5, "day": 3},
	{"hour": 1, "day": 20}, {"hour": "1", "day": 0}, {"hour": 1}, {},
]

test_limits_agree_with_impact_limits if {
	every limits in limits_variants {
		every agent in ["helpdesk-bot", "provisioner-bot"] {
			every name in hours_actions {
				every counts in limits_counts {
					every stage in ["grant", "effect"] {
						limits_agree(at_stage(with_counts(req(agent, name, monday_noon), counts), stage)) with data.bollard.config.impact_limits as limits
						same_with_standing(at_stage(with_counts(req(agent, name, monday_noon), counts), stage)) with data.bollard.config.impact_limits as limits
					}
				}
			}
		}
	}
}

with_counts(r, counts) := object.union(r, {"context": {"counts": {"destructive": counts}}})

limits_agree(r) if {
	authz.limits_clear with input as r
	not impact_limits.blocked with input as r
}

limits_agree(r) if {
	not authz.limits_clear with input as r
	impact_limits.blocked with input as r
	reasons := impact_limits.deny with input as r
	some c in reasons
	c.code in codes(r)
}
