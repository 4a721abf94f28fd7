# METADATA
# title: Read shaping
# description: |
#   What an agent gets back from a read, set in
#   data.bollard.config.read_shaping: a page-size cap per agent and area
#   (obligation max_page_size, for paginated reads), profile attributes the
#   agent may not see (obligation remove_fields, for every read) and how far
#   back it may read the System Log (logs.list, denied with log_window).
package bollard.read_shaping

# obligations is what package bollard.authz reads for every read: the
# read's obligations, or undefined when the read must be refused. It is {}
# for other actions. Every setting is required, so missing or malformed
# settings refuse reads instead of lifting a restriction.
#
# Reads are most calls, and every data reference, builtin call and rule OPA
# evaluates adds to each of them. The two common cases, a single-object read
# and a page of a list other than the System Log, with fields to remove,
# are written out first, each reading the settings and the catalog once.
# Everything else falls to shaping, the rule-by-rule definition;
# test_common_case_agrees checks that both give the same answer.
obligations := {"remove_fields": f} if {
	input.action.access == "read"
	data.bollard.catalog.actions[input.action.name].paginated == false
	rs := data.bollard.config.read_shaping
	f := object.get(rs.remove_fields.agents, input.agent.id, rs.remove_fields.default)
	f[0] # a list with at least one field (JSON objects have no key 0)
} else := {"max_page_size": n, "remove_fields": f} if {
	input.action.access == "read"
	data.bollard.catalog.actions[input.action.name].paginated == true
	input.action.name != "logs.list"
	rs := data.bollard.config.read_shaping
	n := object.get(object.get(rs.page_size.agents, input.agent.id, {}), input.action.area, rs.page_size.default[input.action.area])
	round(n) == n # a whole number: round refuses anything else
	n >= 1
	f := object.get(rs.remove_fields.agents, input.agent.id, rs.remove_fields.default)
	f[0]
} else := shaping if {
	input.action.access == "read"
} else := {} if {
	# Not "else := {}": a read that shaping refuses must stay undefined.
	not input.action.access == "read"
}

blocked if {
	input.action.access == "read"
	not obligations
}

shaping := object.union(page_obligation, fields_obligation) if {
	input.action.access == "read"
	log_ok
}

page_obligation := {"max_page_size": max_page_size} if {
	paginated
} else := {} if {
	data.bollard.catalog.actions[input.action.name].paginated == false
}

fields_obligation := {"remove_fields": fields} if {
	count(fields) > 0
} else := {} if {
	fields == []
}

## Page size. data.bollard.catalog says which actions are paginated.

paginated if data.bollard.catalog.actions[input.action.name].paginated == true

# A positive whole number, or undefined (and the read refused). The
# agent's entry and the default are each an object keyed by area or one
# number for every area: the agent's cap for the area, else its cap for
# every area, else the default's for the area, else the default's for every
# area. (The common case above reads the object forms only; a number sends the
# read here.)
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
## list, or undefined (and the read refused). Each element should be a
## non-empty dotted path; checking that here would cost every read, and the
## sidecar refuses an obligation it cannot honour.

fields := f if {
	rf := data.bollard.config.read_shaping.remove_fields
	f := object.get(rf.agents, input.agent.id, rf.default)
	is_array(f)
}

## System Log window: logs.list may not reach further back than the
## agent's max_window_hours before the request time.

window_hours := object.get(windows.agents, input.agent.id, windows.default)

windows := data.bollard.config.read_shaping.logs.max_window_hours

log_ok if input.action.name != "logs.list"

log_ok if within_window

within_window if {
	is_number(window_hours)
	window_hours > 0
	since_ns >= earliest_ns
}

hour_ns := 3600000000000

earliest_ns := time.parse_rfc3339_ns(input.time) - (window_hours * hour_ns)

# Okta's default when since is absent: seven days before the request.
since_ns := time.parse_rfc3339_ns(input.params.since) if has_since

since_ns := time.parse_rfc3339_ns(input.time) - ((7 * 24) * hour_ns) if not has_since

has_since if "since" in object.keys(object.get(input, "params", {}))

## Reasons, evaluated only when the call is denied.

agent := object.get(input, ["agent", "id"], "")

deny contains {"code": "invalid_policy_data", "message": msg} if {
	input.action.access == "read"
	not known
	msg := sprintf("the action catalog (data.bollard.catalog) has no action %q, so the read cannot be shaped and is refused", [object.get(input, ["action", "name"], "")])
}

deny contains {"code": "invalid_policy_data", "message": msg} if {
	input.action.access == "read"
	paginated
	not max_page_size
	msg := sprintf("the page-size cap for agent %q on area %q is missing or not a positive whole number (data.bollard.config.read_shaping.page_size), so paginated reads are refused", [agent, input.action.area])
}

deny contains {"code": "invalid_policy_data", "message": msg} if {
	input.action.access == "read"
	not fields
	msg := sprintf("the fields removed from answers for agent %q are missing or not a list (data.bollard.config.read_shaping.remove_fields), so reads are refused", [agent])
}

deny contains {"code": "log_window", "message": window_message} if {
	input.action.access == "read"
	not log_ok
}

window_message := sprintf("the System Log window for agent %q is missing or not a positive number of hours (data.bollard.config.read_shaping.logs.max_window_hours), so System Log queries are refused", [agent]) if {
	not window_set
} else := sprintf("since %v is not an RFC 3339 time", [input.params.since]) if {
	has_since
	not since_ns
} else := "the request time is not an RFC 3339 time, so the System Log window cannot be checked" if {
	not earliest_ns
} else := sprintf("agent %q may read the System Log only %v hours back: since %s is before %s", [agent, window_hours, input.params.since, time.format(earliest_ns)]) if {
	has_since
} else := sprintf("without since, Okta returns the last 7 days of the System Log, but agent %q may read only %v hours back: set since to %s or later", [agent, window_hours, time.format(earliest_ns)])

# OPA evaluates a call's arguments before negating it, so "not f(x)" is
# undefined, not true, when x is: the reasons negate rules instead.
known if is_boolean(data.bollard.catalog.actions[input.action.name].paginated)

window_set if {
	is_number(window_hours)
	window_hours > 0
}
