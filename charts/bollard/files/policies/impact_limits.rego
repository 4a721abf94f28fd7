# METADATA
# title: Impact limits
# description: |
#   At most N destructive actions per agent per hour and per day. The sidecar
#   counts the destructive actions each agent sent to Okta (sliding 60
#   minutes and 24 hours, this replica, not counting the current call) and
#   passes them as input.context.counts.destructive.{hour,day}; the limits
#   are in data.bollard.config.impact_limits: a default, and agents whose
#   own entry replaces it. A window without a limit is not limited.
package bollard.impact_limits

cfg := data.bollard.config.impact_limits

# blocked is what package bollard.authz checks for manage actions; an
# equality on destructive lets OPA's rule index skip it for the others.
blocked if {
	input.action.destructive == true
	not within_limits
}

# The agent's entry replaces the default; both must be objects (or absent),
# and every window with a limit must show room below it. Missing or
# malformed settings or counts refuse destructive actions rather than lift
# the limits. An explicit {} (default or agent) means no limits.
within_limits if {
	c := data.bollard.config.impact_limits
	limits := object.get(object.get(c, "agents", {}), input.agent.id, object.get(c, "default", {}))
	is_object(limits)
	counts := object.get(input, ["context", "counts", "destructive"], {})
	room(limits, counts, "hour")
	room(limits, counts, "day")
}

# No limit for the window, or a count below it. A missing or malformed
# count, or a limit that is not a number, leaves no room.
room(limits, _, window) if not limits[window]

room(limits, counts, window) if {
	limit := limits[window]
	is_number(limit)
	n := counts[window]
	is_number(n)
	n < limit
}

## Reasons, evaluated only when the call is denied.

agent := object.get(input, ["agent", "id"], "")

span := {"hour": "in the last 60 minutes", "day": "in the last 24 hours"}

limits := object.get(object.get(cfg, "agents", {}), input.agent.id, object.get(cfg, "default", {}))

counts := object.get(input, ["context", "counts", "destructive"], {})

# OPA evaluates a call's arguments before negating it, so "not
# is_object(limits)" would be undefined, not true, when limits is: negate a
# rule instead.
configured if is_object(limits)

deny contains {"code": "impact_limit", "message": msg} if {
	input.action.destructive == true
	not configured
	msg := sprintf("impact limits are not configured correctly for agent %q (data.bollard.config.impact_limits: default and agents entries are objects of {\"hour\": n, \"day\": n}), so destructive actions are refused", [agent])
}

deny contains {"code": "impact_limit", "message": msg} if {
	input.action.destructive == true
	configured
	some window in ["hour", "day"]
	not room(limits, counts, window)
	msg := over_message(window, limits[window])
}

over_message(window, limit) := sprintf("agent %q reached its limit of %v destructive actions per %s (%v %s)", [agent, limit, window, n, span[window]]) if {
	is_number(limit)
	n := counts[window]
	is_number(n)
} else := sprintf("the input has no count of agent %q's destructive actions %s, so its limit of %v per %s cannot be checked", [agent, span[window], limit, window]) if {
	is_number(limit)
} else := sprintf("the impact limit per %s for agent %q is not a number: %v", [window, agent, limit])
