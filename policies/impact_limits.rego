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

# limits is the agent's limits: its own entry, else the default; undefined
# when that is not an object (then destructive actions are refused). It
# depends only on the agent (it is part of the standing, policies/authz.rego).
# An explicit {} (default or agent) means no limits.
limits := l if {
	c := data.bollard.config.impact_limits
	l := object.get(object.get(c, "agents", {}), input.agent.id, object.get(c, "default", {}))
	is_object(l)
}

# normalized is the agent's limits as the standing carries them: a number
# for each window, no limit as the largest exact number, so that checking a
# call is two comparisons; null when a limit is not a number or the entry
# not an object (then destructive actions are refused).
normalized := {"hour": window_limit(l, "hour"), "day": window_limit(l, "day")} if {
	l := limits
} else := null

window_limit(l, w) := 9007199254740991 if {
	not l[w]
} else := n if {
	n := l[w]
	is_number(n)
}

# within(l) holds when the call's counts are below both limits of l (as
# normalized gives them). Missing or malformed counts leave no room.
within(l) if {
	c := input.context.counts.destructive
	c.hour < l.hour
	c.day < l.day
	is_number(c.hour)
	is_number(c.day)
}

# OPA evaluates a call's arguments before negating it, so "not
# within(normalized)" would be undefined, not true, when it is: negate a
# rule instead.
within_limits if within(normalized)

blocked if {
	input.action.destructive == true
	not within_limits
}

## Reasons, evaluated only when the call is denied.

agent := object.get(input, ["agent", "id"], "")

span := {"hour": "in the last 60 minutes", "day": "in the last 24 hours"}

counts := object.get(input, ["context", "counts", "destructive"], {})

configured if normalized != null

# below says the count of the window is a number under its limit.
below(l, c, window) if {
	is_number(c[window])
	c[window] < l[window]
}

deny contains {"code": "impact_limit", "message": msg} if {
	input.action.destructive == true
	not configured
	msg := sprintf("impact limits are not configured correctly for agent %q (data.bollard.config.impact_limits: default and agents entries are objects of {\"hour\": n, \"day\": n}), so destructive actions are refused", [agent])
}

deny contains {"code": "impact_limit", "message": msg} if {
	input.action.destructive == true
	configured
	some window in ["hour", "day"]
	not below(normalized, counts, window)
	msg := over_message(window, normalized[window])
}

# A window without a limit is normalized to the largest exact number: only a
# missing count can fail it, and the message says that rather than show it.
over_message(window, limit) := sprintf("the input has no count of agent %q's destructive actions %s", [agent, span[window]]) if {
	limit == 9007199254740991
} else := sprintf("agent %q reached its limit of %v destructive actions per %s (%v %s)", [agent, limit, window, n, span[window]]) if {
	is_number(limit)
	n := counts[window]
	is_number(n)
} else := sprintf("the input has no count of agent %q's destructive actions %s, so its limit of %v per %s cannot be checked", [agent, span[window], limit, window]) if {
	is_number(limit)
} else := sprintf("the impact limit per %s for agent %q is not a number: %v", [window, agent, limit])
