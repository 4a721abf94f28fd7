# METADATA
# title: Events
# description: |
#   Which agent sees which Okta event hook event. An event belongs to an
#   area (input.event.area: user lifecycle events to user_lifecycle,
#   membership events to groups, app events to apps or app_assignments,
#   session events to sessions, any other event type to logs); an agent
#   sees it only with a read or manage grant on that area. Optional
#   per-agent filters in data.bollard.config.events.filters narrow it
#   further: "types" lists the event types the agent sees, "groups" keeps
#   only events whose targets name one of those groups. Fields hidden from
#   the agent (read_shaping's remove_fields) are removed from the events it
#   sees, as from every answer.
package bollard.events

import data.bollard.read_shaping

decision := {"allow": true, "deny": [], "obligations": obligations} if {
	input.version == 1
	data.bollard.config.grants.agents[input.agent.id][input.event.area] in {"read", "manage"}
	not filtered
	obligations := object.union({"require_confirmation": false}, read_shaping.fields_obligation)
} else := {"allow": false, "deny": [r | some r in reasons], "obligations": {"require_confirmation": false}}

area_read if data.bollard.config.grants.agents[input.agent.id][input.event.area] in {"read", "manage"}

filters := data.bollard.config.events.filters[input.agent.id]

# filtered holds when the agent has filters and the event fails one. A
# filter that is not of the documented shape filters everything out.
filtered if {
	filters
	not is_object(filters)
}

filtered if {
	types := filters.types
	not input.event.type in types
}

filtered if {
	groups := filters.groups
	not names_group(groups)
}

names_group(groups) if {
	some t in input.event.okta.target
	t.type == "UserGroup"
	object.get(groups, t.id, null) != null
}

reasons contains {"code": "not_granted", "message": msg} if {
	not area_read
	msg := sprintf("agent %q is not granted read access to area %q, which event type %s belongs to", [
		object.get(input, ["agent", "id"], ""),
		object.get(input, ["event", "area"], ""),
		object.get(input, ["event", "type"], ""),
	])
}

reasons contains {"code": "invalid_policy_data", "message": msg} if {
	not read_shaping.fields
	msg := sprintf("the fields removed from answers for agent %q are missing or not a list (data.bollard.config.read_shaping.remove_fields), so events are withheld", [object.get(input, ["agent", "id"], "")])
}

reasons contains {"code": "event_filtered", "message": msg} if {
	filtered
	msg := sprintf("event type %s does not pass agent %q's event filters", [
		object.get(input, ["event", "type"], ""),
		object.get(input, ["agent", "id"], ""),
	])
}

reasons contains {
	"code": "unsupported_input_version",
	"message": sprintf("the policy understands input version 1, not %v", [object.get(input, "version", null)]),
} if {
	not input.version == 1
}
