package bollard.authz_test

import data.bollard.authz
import data.bollard.confirmation
import data.bollard.grants
import data.bollard.read_shaping

alice := "00uALIactive000000g7"

admin := "00uADAadmin0000000g7"

monday_noon := "2026-11-30T17:00:00Z"

saturday := "2026-11-28T13:00:00Z"

christmas := "2026-12-25T17:00:00Z"

# Input as the sidecar builds it: the action from the catalog, a few
# destructive actions counted, the target user resolved for the actions
# that act on one user.
req(agent, name, at) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"action": object.remove(data.bollard.catalog.actions[name], ["paginated"]),
	"resource": {"userId": alice},
	"params": {"userId": alice},
	"time": at,
	"context": {
		"counts": {"destructive": {"hour": 1, "day": 3}},
		"target": {"user": {"id": alice, "resolved": true, "groups": ["00gENGINEERING0000g7"], "admin_roles": []}},
	},
}

with_context(r, context) := object.union(object.remove(r, ["context"]), {"context": context})

allowed(obligations) := {"allow": true, "deny": [], "obligations": obligations}

codes(r) := [c.code | some c in d.deny] if {
	d := authz.decision with input as r
}

test_read_allowed if {
	authz.decision == allowed({"require_confirmation": false, "remove_fields": ["profile.mobilePhone"]}) with input as req("helpdesk-bot", "users.get", saturday)
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
		"remove_fields": ["profile.mobilePhone"],
	}) with input as req("helpdesk-bot", "users.list", saturday)
}

test_destructive_in_hours_needs_confirmation if {
	authz.decision == allowed({"require_confirmation": true}) with input as req("provisioner-bot", "users.delete", monday_noon)
}

test_manage_without_confirmation if {
	authz.decision == allowed({"require_confirmation": false}) with input as req("provisioner-bot", "users.update", saturday)
}

test_on_call_agent_outside_hours if {
	authz.decision == allowed({"require_confirmation": true}) with input as req("helpdesk-bot", "user_lifecycle.deactivate", saturday)
}

test_outside_hours_denied if {
	d := authz.decision with input as req("provisioner-bot", "users.delete", saturday)
	d.allow == false
	[r.code | some r in d.deny] == ["outside_business_hours"]
	d.obligations == {"require_confirmation": true}
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
		"obligations": {"require_confirmation": false},
	} with input as req("reader-bot", "users.update", monday_noon)
}

test_action_lists if {
	authz.decision == allowed({"require_confirmation": true}) with input as req("helpdesk-bot", "factors.unenroll", saturday)
	r := object.union(req("provisioner-bot", "groups.delete", monday_noon), {"resource": {"groupId": "00gENGINEERING0000g7"}})
	codes(r) == ["action_denied"]
}

test_protected_user if {
	r := with_context(object.union(req("helpdesk-bot", "user_lifecycle.suspend", monday_noon), {"resource": {"userId": admin}}), {
		"counts": {"destructive": {"hour": 0, "day": 0}},
		"target": {"user": {"id": admin, "resolved": true, "groups": [], "admin_roles": []}},
	})
	codes(r) == ["protected_user"]
}

test_target_unresolved if {
	r := with_context(req("helpdesk-bot", "user_lifecycle.deactivate", monday_noon), {"counts": {"destructive": {"hour": 0, "day": 0}}})
	codes(r) == ["target_unresolved"]
}

test_impact_limit if {
	r := with_context(req("provisioner-bot", "users.delete", monday_noon), {
		"counts": {"destructive": {"hour": 5, "day": 5}},
		"target": {"user": {"id": alice, "resolved": true, "groups": [], "admin_roles": []}},
	})
	codes(r) == ["impact_limit"]
}

test_log_window if {
	r := object.union(req("helpdesk-bot", "logs.list", monday_noon), {"params": {}})
	codes(r) == ["log_window"]
	authz.decision.allow with input as object.union(r, {"params": {"since": "2026-11-30T00:00:00Z"}})
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

# Every reason rule has its negation among the conditions of the allowed
# branch for its kind of action, and the read branch builds the same
# obligations as the obligations rule. Checked over every catalog action for
# each sample agent, at several times, with and without the context the
# sidecar fills in, and with the limits reached.
contexts := [
	{
		"counts": {"destructive": {"hour": 1, "day": 3}},
		"target": {"user": {"id": alice, "resolved": true, "groups": [], "admin_roles": []}},
	},
	{
		"counts": {"destructive": {"hour": 20, "day": 3}},
		"target": {"user": {"id": admin, "resolved": true, "groups": ["00gOKTAADMINS00000g7"], "admin_roles": ["SUPER_ADMIN"]}},
	},
	{},
]

resources := [
	{"userId": alice, "groupId": "00gENGINEERING0000g7", "appId": "0oaGITHUB000000000g7", "policyId": "00pSIGNONCTR000000g7"},
	{"userId": admin, "groupId": "00gOKTAADMINS00000g7", "appId": "0oaBOLLARDAPP0000g7", "policyId": "00pSIGNONDEF000000g7"},
]

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
		every at in [saturday, monday_noon, christmas, "not a time"] {
			every context in contexts {
				agrees(object.union(with_context(req(agent, name, at), context), {"resource": resources[count(name) % 2]}))
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

# The fast read branches of decision must give exactly what the general
# read branch gives: every read action, for agents with and without their
# own shaping settings or action lists, and with the settings in each
# supported form (a page-size number, an empty field list, overrides).
general_read(r) := {"allow": true, "deny": [], "obligations": object.union(ob, {"require_confirmation": confirmation.required})} if {
	grants.granted with input as r
	ob := read_shaping.obligations with input as r
	confirmation.required == false with input as r
}

fast_agrees(r) if {
	authz.decision == general_read(r) with input as r
}

fast_agrees(r) if {
	not general_read(r)
	authz.decision.allow == false with input as r
}

shaping_variants := [
	data.bollard.config.read_shaping,
	object.union(data.bollard.config.read_shaping, {"page_size": {"default": 100, "agents": {"reader-bot": 7}}}),
	object.union(data.bollard.config.read_shaping, {"remove_fields": {"default": [], "agents": {"reader-bot": ["profile.email"]}}}),
	object.union(data.bollard.config.read_shaping, {"page_size": {"default": {"users": 10}, "agents": {"helpdesk-bot": {"users": 5}}}}),
]

test_fast_reads_agree if {
	reads := [name | some name, a in data.bollard.catalog.actions; a.access == "read"]
	every shaping in shaping_variants {
		every agent in ["reader-bot", "helpdesk-bot", "provisioner-bot", "stranger"] {
			every name in reads {
				fast_agrees(req(agent, name, monday_noon)) with data.bollard.config.read_shaping as shaping
			}
		}
	}
}
