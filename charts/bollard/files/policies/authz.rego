# METADATA
# title: Bollard authorization entry point
# description: |
#   Bollard evaluates data.bollard.authz.decision once per agent call.
#   docs/policy-contract.md describes the input and the decision's shape;
#   docs/policies.md describes each rule and its data.
package bollard.authz

import data.bollard.business_hours
import data.bollard.confirmation
import data.bollard.grants
import data.bollard.impact_limits
import data.bollard.protected
import data.bollard.read_shaping

# The allowed cases come first, written as plain conditions
# because one of them runs on every call and conditions are cheaper to
# evaluate than collecting reasons (no messages are formatted). Reads, most
# calls, skip the rules that only restrict manage actions. Any other outcome
# is a denial that lists every reason. Each reason rule below must have its
# negation among the conditions of the allowed branch for its kind of
# action; test_allow_iff_no_reasons_* in authz_test.rego checks that they
# agree.
#
# The two fast branches first: the common reads (a list, or one object) by
# an agent with an area grant and no action list, under the common shaping
# settings (page sizes by area, a non-empty list of fields to remove),
# outside the System Log. Nearly every call is such a read, so they are
# written inline against one binding of the settings: each reference to
# data costs a store read and each rule an evaluation, and inlined they
# decide a read in about half the time (docs/performance.md). A read they
# do not cover falls through to the general read branch, which gives the
# same answer for the reads they do cover; test_fast_reads_agree checks it.
decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false, "max_page_size": n, "remove_fields": f}} if {
	input.version == 1
	input.action.access == "read"
	cfg := data.bollard.config
	cfg.grants.agents[input.agent.id][input.action.area] in {"read", "manage"}
	not cfg.grants.actions[input.agent.id]
	data.bollard.catalog.actions[input.action.name].paginated == true
	input.action.name != "logs.list"
	agents := cfg.read_shaping.page_size.agents
	is_object(agents) # object.get fails on anything else
	mine := object.get(agents, input.agent.id, {})
	is_object(mine)
	n := object.get(mine, input.action.area, cfg.read_shaping.page_size.default[input.action.area])
	is_number(n)
	n >= 1
	round(n) == n
	is_object(cfg.read_shaping.remove_fields.agents)
	f := object.get(cfg.read_shaping.remove_fields.agents, input.agent.id, cfg.read_shaping.remove_fields.default)
	is_string(f[0])
} else := {"allow": true, "deny": [], "obligations": {"require_confirmation": false, "remove_fields": f}} if {
	input.version == 1
	input.action.access == "read"
	cfg := data.bollard.config
	cfg.grants.agents[input.agent.id][input.action.area] in {"read", "manage"}
	not cfg.grants.actions[input.agent.id]
	data.bollard.catalog.actions[input.action.name].paginated == false
	is_object(cfg.read_shaping.remove_fields.agents)
	f := object.get(cfg.read_shaping.remove_fields.agents, input.agent.id, cfg.read_shaping.remove_fields.default)
	is_string(f[0])
} else := {"allow": true, "deny": [], "obligations": object.union(shaping, {"require_confirmation": confirmation.required})} if {
	input.version == 1
	input.action.access == "read"
	grants.granted
	shaping := read_shaping.obligations # undefined when the read is refused
} else := {"allow": true, "deny": [], "obligations": {"require_confirmation": confirmation.required}} if {
	input.version == 1
	not input.action.access == "read"
	grants.granted
	not business_hours.blocked
	not protected.blocked
	not impact_limits.blocked
} else := {
	"allow": false,
	"deny": deny,
	"obligations": obligations,
}

# Obligations hold require_confirmation always, the others only when they
# apply (the read branch above builds the same object). To add page_budget
# or mask, union the rule that sets them in both places.
obligations := object.union(read_shaping.obligations, {"require_confirmation": confirmation.required}) if {
	read_shaping.obligations
} else := {"require_confirmation": confirmation.required}

# Sets iterate in sorted order, so the list is stable from call to call.
deny := [r | some r in reasons]

reasons contains r if some r in grants.deny

reasons contains r if some r in business_hours.deny

reasons contains r if some r in protected.deny

reasons contains r if some r in impact_limits.deny

reasons contains r if some r in read_shaping.deny

# A different input version means the sidecar and the policy disagree about
# the input's shape: refuse rather than guess.
reasons contains {
	"code": "unsupported_input_version",
	"message": sprintf("the policy understands input version 1, not %v", [object.get(input, "version", null)]),
} if {
	not input.version == 1
}
