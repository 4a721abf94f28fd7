# METADATA
# title: Bollard authorization entry point
# description: |
#   Bollard evaluates data.bollard.authz.decision for every agent call, at
#   the stage input.stage names (docs/policy-contract.md): "grant" before
#   the sidecar looks anything up at Okta, "effect" with the looked-up
#   facts after "grant" allowed, "full" for everything at once. The rules of
#   the security team (data.bollard.rules, docs/policies.md) are evaluated
#   by the sidecar beside this decision on every call and deny whatever it
#   says. docs/policies.md describes each rule and its data.
package bollard.authz

import data.bollard.approval
import data.bollard.business_hours
import data.bollard.confirmation
import data.bollard.grants
import data.bollard.impact_limits
import data.bollard.protected
import data.bollard.read_shaping

## Standing: what an agent may do with an action whatever the call's
## details. It reads only the version, the agent's id, the action and data,
## so the sidecar evaluates it once per policy revision, agent and action
## and passes it as input.standing; without it (opa test, policy check) it
## is evaluated here, with the same result.

standing := {
	"read": plain_read,
	"clear": grant_clear,
	"granted": granted,
	"deny": [r | some r in standing_reasons],
	"obligations": base_obligations,
	"hours": hours_settings,
	"limits": limits,
	"protection": protected.mode,
	"log_window_hours": log_window,
}

# A read with nothing left to decide call by call: granted, its shaping
# settings readable, and not the System Log (whose window depends on the
# call's since).
default plain_read := false

plain_read if {
	input.version == 1
	input.action.access == "read"
	input.action.name != "logs.list"
	grants.granted
	read_shaping.obligations
}

# The grant holds: the version is understood, the agent is granted the
# action, and no setting of its own stands in the way.
default grant_clear := false

grant_clear if {
	input.version == 1
	grants.granted
	count(standing_reasons) == 0
}

default granted := false

granted if grants.granted

# Obligations every call of this agent and action carries: confirmation,
# and the shaping of what Okta answers (fields removed from every answer,
# reads and writes alike; a page-size cap for paginated reads).
base_obligations := object.union(ob, {"require_confirmation": confirmation.required}) if {
	ob := read_shaping.obligations
} else := {"require_confirmation": confirmation.required}

# The business hours that restrict this agent's action, null when none do;
# "invalid" when they cannot be read, so that they are never skipped.
hours_settings := null if {
	not business_hours.applies
} else := h if {
	h := business_hours.settings
} else := "invalid"

# The agent's impact limits, one number per window (pkg impact_limits'
# normalized); null when malformed, and no limit for actions that are not
# destructive.
limits := impact_limits.normalized if {
	input.action.destructive == true
} else := {"hour": 9007199254740991, "day": 9007199254740991}

log_window := w if {
	input.action.name == "logs.list"
	w := read_shaping.window_hours
} else := null

standing_reasons contains r if some r in grants.deny

standing_reasons contains r if some r in approval.invalid

standing_reasons contains r if some r in read_shaping.settings_deny

standing_reasons contains version_reason if not input.version == 1

## The decision.

# st is the standing the sidecar passed, or the one computed here.
st := input.standing if {
	input.standing
} else := standing

# Without a stage the whole decision is made: the conditions below are
# written "not input.stage == ...", which holds when there is none.

# Allowed cases first, written as conditions; any other outcome is a
# denial that lists every reason of the stage. The first four branches are
# the common calls, written inline against input.standing (each reference
# to a rule or to data costs microseconds): a read, a manage call at stage
# grant outside or inside business hours, and the second stage. They give
# nothing the general branch after them would not (test_standing_*); a
# call they do not cover falls through to it. Each reason below has its
# negation among the conditions of the general branch;
# test_allow_iff_no_reasons_* check that they agree.
decision := {"allow": true, "deny": [], "obligations": input.standing.obligations} if {
	input.standing.read == true
} else := {"allow": true, "deny": [], "obligations": s.obligations} if {
	input.stage == "grant"
	s := input.standing
	s.clear == true
	s.hours == null
	s.log_window_hours == null
	c := input.context.counts.destructive
	c.hour < s.limits.hour
	c.day < s.limits.day
	is_number(c.hour)
	is_number(c.day)
} else := {"allow": true, "deny": [], "obligations": s.obligations} if {
	input.stage == "grant"
	s := input.standing
	s.clear == true
	h := s.hours
	s.log_window_hours == null
	c := input.context.counts.destructive
	c.hour < s.limits.hour
	c.day < s.limits.day
	is_number(c.hour)
	is_number(c.day)
	[day, clock, date] := split(time.format([time.parse_rfc3339_ns(input.time), h.timezone, "Monday 15:04 2006-01-02"]), " ")
	day in h.days
	clock >= h.start
	clock < h.end
	not date in h.holidays
} else := {"allow": true, "deny": [], "obligations": ob} if {
	input.stage == "effect"
	s := input.standing
	s.clear == true
	s.protection == "check"
	c := input.context.counts.destructive
	c.hour < s.limits.hour
	c.day < s.limits.day
	is_number(c.hour)
	is_number(c.day)
	input.context.target.resolved == true
	not protected.hit
	ob := object.union(s.obligations, approval_obligation)
} else := {"allow": true, "deny": [], "obligations": obligations} if {
	input.version == 1
	st.clear == true
	grant_stage_clear
	effect_stage_clear
} else := {
	"allow": false,
	"deny": deny,
	"obligations": obligations,
}

# The System Log's window is a constraint on since, stated so that
# ListActions can show it and the sidecar can set since when the call has
# none.
obligations := object.union(st.obligations, {"constraints": c}) if {
	input.action.name == "logs.list"
	c := read_shaping.constraints(st.log_window_hours)
} else := object.union(st.obligations, approval_obligation)

# The approval a person must give before the call goes (pkg approval's
# requirement), as an obligation; none at stage grant, where what the
# call changes is not known yet, and none for reads.
approval_obligation := {"require_approval": r} if {
	r := approval.requirement
} else := {}

# What needs no looked-up facts: hours, the System Log window, impact
# limits. At stage effect the same policy revision has already decided it.
grant_stage_clear if input.stage == "effect"

grant_stage_clear if {
	not input.stage == "effect"
	hours_clear
	log_clear
	limits_clear
}

# What needs the facts: protection, and impact limits again with the counts
# the sidecar holds while it decides.
effect_stage_clear if input.stage == "grant"

effect_stage_clear if {
	not input.stage == "grant"
	protection_clear
	limits_clear
}

hours_clear if st.hours == null

# Written out rather than calling business_hours.in_hours_for: a call of a
# function costs several times its body (the same conditions as there;
# test_hours_agree_with_business_hours checks that they agree).
hours_clear if {
	h := st.hours
	[day, clock, date] := local_time
	day in h.days
	clock >= h.start
	clock < h.end
	not date in h.holidays
}

# The weekday, clock and date of input.time in the zone of the hours.
local_time := split(time.format([time.parse_rfc3339_ns(input.time), st.hours.timezone, "Monday 15:04 2006-01-02"]), " ")

log_clear if input.action.name != "logs.list"

log_clear if read_shaping.within_window(st.log_window_hours)

limits_clear if input.action.destructive == false

# impact_limits.within, written out (test_limits_agree_with_impact_limits).
limits_clear if {
	l := st.limits
	c := input.context.counts.destructive
	c.hour < l.hour
	c.day < l.day
	is_number(c.hour)
	is_number(c.day)
}

protection_clear if st.protection in {"none", "exempt"}

protection_clear if {
	st.protection == "check"
	protected.clear_of_hits
}

## Reasons, evaluated only when the call is denied. Sets iterate in sorted
## order, so the list is stable from call to call.

deny := [r | some r in reasons]

reasons contains r if some r in st.deny

reasons contains version_reason if not input.version == 1

# Each part's reasons are looked for only when that part is not clear: a
# denial costs what stands in the way, not every rule's messages.
reasons contains {"code": "outside_business_hours", "message": hours_message} if {
	not input.stage == "effect"
	not hours_clear
}

# business_hours.message_for, written out on the local time already read.
hours_message := sprintf("destructive actions are not allowed on holidays: %s is a holiday in %s", [local_time[2], st.hours.timezone]) if {
	local_time[2] in st.hours.holidays
} else := msg if {
	msg := st.hours.message
} else := "destructive actions are allowed only during business hours"

reasons contains r if {
	not input.stage == "effect"
	not log_clear
	some r in read_shaping.log_deny
}

reasons contains r if {
	not limits_clear
	some r in impact_limits.deny
}

reasons contains r if {
	not input.stage == "grant"
	not protection_clear
	st.protection == "check"
	some r in protected.findings
}

reasons contains protected.invalid_reason if {
	not input.stage == "grant"
	st.protection == "invalid"
}

# A different input version means the sidecar and the policy disagree about
# the input's shape: refuse rather than guess.
version_reason := {
	"code": "unsupported_input_version",
	"message": sprintf("the policy understands input version 1, not %v", [object.get(input, "version", null)]),
}
