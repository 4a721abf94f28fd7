# METADATA
# title: Read shaping
# description: |
#   What an agent gets back from Okta, set in data.bollard.config.read_shaping:
#   a page-size cap per agent and area (obligation max_page_size, for
#   paginated reads), attributes the agent may not see (obligation
#   remove_fields, on every answer: reads, writes and events) and how far
#   back it may read the System Log (logs.list: a constraint on since, and
#   log_window for a since further back).
package bollard.read_shaping

# obligations is what an answer to this agent and action must look like:
# {"max_page_size": n} for a paginated read, {"remove_fields": [...]} when
# fields are hidden from the agent. It depends only on the agent and the
# action (it is part of the standing, policies/authz.rego). Every setting is
# required: missing or malformed settings leave it undefined and the call
# is refused (settings_deny), instead of lifting a restriction.
obligations := object.union(page_obligation, fields_obligation) if known

page_obligation := {"max_page_size": max_page_size} if {
	paginated_read
} else := {} if {
	not paginated_read
}

fields_obligation := {"remove_fields": fields} if {
	count(fields) > 0
} else := {} if {
	fields == []
}

known if is_boolean(data.bollard.catalog.actions[input.action.name].paginated)

paginated_read if {
	input.action.access == "read"
	data.bollard.catalog.actions[input.action.name].paginated == true
}

## Page size. data.bollard.catalog says which actions are paginated.

# A positive whole number, or undefined (and the read refused). The
# agent's entry and the default are each an object keyed by area or one
# number for every area: the agent's cap for the area, else its cap for
# every area, else the default's for the area, else the default's for every
# area.
max_page_size := n if {
	n := page_size
	is_number(n)
	n >= 1
	round(n) == n
}

page_size := n if {
	n := data.bollard.config.read_shaping.page_size.agents[input.agent.id][input.action.area]
} else := n if {
	n := data.bollard.config.read_shaping.page_size.agents[input.agent.id]
	is_number(n)
} else := n if {
	n := data.bollard.config.read_shaping.page_size.default[input.action.area]
} else := data.bollard.config.read_shaping.page_size.default

## Fields removed from answers: the agent's list replaces the default. A
## list, or undefined (and the call refused). Each element should be a
## non-empty dotted path; the sidecar refuses a call whose obligation it
## cannot honour, and `go test ./policies/` checks the sample data.

fields := f if {
	rf := data.bollard.config.read_shaping.remove_fields
	f := object.get(rf.agents, input.agent.id, rf.default)
	is_array(f)
}

## System Log window: logs.list may not reach further back than the
## agent's max_window_hours before the request time. Without since, Okta
## returns the last seven days: the sidecar then sends the earliest since
## the window allows (the constraint's default), so the call is allowed.

window_hours := object.get(windows.agents, input.agent.id, windows.default)

windows := data.bollard.config.read_shaping.logs.max_window_hours

window_set(w) if {
	is_number(w)
	w > 0
}

hour_ns := 3600000000000

earliest_ns(w) := time.parse_rfc3339_ns(input.time) - (w * hour_ns)

has_since if "since" in object.keys(object.get(input, "params", {}))

since_ns := time.parse_rfc3339_ns(input.params.since) if has_since

# within_window(w) holds when the call stays within a window of w hours.
within_window(w) if {
	window_set(w)
	not has_since
	earliest_ns(w)
}

within_window(w) if {
	window_set(w)
	since_ns >= earliest_ns(w)
}

# constraints(w) states the window as a constraint on since: for
# ListActions, and for the sidecar to apply when the call has no since.
constraints(w) := [{
	"param": "since",
	"min": earliest,
	"default": earliest,
	"description": sprintf("since no earlier than %v hours before the call (%s)", [w, earliest]),
}] if {
	window_set(w)
	earliest := time.format(earliest_ns(w))
}

## Reasons, evaluated only when the call is denied.

agent := object.get(input, ["agent", "id"], "")

# settings_deny: the settings cannot shape this agent's answers. They
# depend only on the agent and the action.
settings_deny contains {"code": "invalid_policy_data", "message": msg} if {
	not known
	msg := sprintf("the action catalog (data.bollard.catalog) has no action %q, so its answers cannot be shaped and it is refused", [object.get(input, ["action", "name"], "")])
}

settings_deny contains {"code": "invalid_policy_data", "message": msg} if {
	paginated_read
	not max_page_size
	msg := sprintf("the page-size cap for agent %q on area %q is missing or not a positive whole number (data.bollard.config.read_shaping.page_size), so paginated reads are refused", [agent, input.action.area])
}

settings_deny contains {"code": "invalid_policy_data", "message": msg} if {
	not fields
	msg := sprintf("the fields removed from answers for agent %q are missing or not a list (data.bollard.config.read_shaping.remove_fields), so its calls are refused", [agent])
}

# log_deny: this System Log query reaches further back than the window.
log_deny contains {"code": "log_window", "message": window_message} if {
	input.action.name == "logs.list"
	not log_ok
}

log_ok if within_window(window_hours)

window_message := sprintf("the System Log window for agent %q is missing or not a positive number of hours (data.bollard.config.read_shaping.logs.max_window_hours), so System Log queries are refused", [agent]) if {
	not window_ok
} else := sprintf("since %v is not an RFC 3339 time", [input.params.since]) if {
	has_since
	not since_ns
} else := "the request time is not an RFC 3339 time, so the System Log window cannot be checked" if {
	not earliest_ns(window_hours)
} else := sprintf("agent %q may read the System Log only %v hours back: since %s is before %s", [agent, window_hours, input.params.since, time.format(earliest_ns(window_hours))])

# OPA evaluates a call's arguments before negating it, so "not f(x)" is
# undefined, not true, when x is: the reasons negate rules instead.
window_ok if window_set(window_hours)
