# METADATA
# title: Grants
# description: |
#   data.bollard.config.grants.agents maps each agent id to the access it has
#   per catalog area, "read" or "manage". A manage grant implies read. An
#   agent that is not listed has no access at all.
package bollard.grants

# Object lookups by agent id and area, so the cost does not grow with the
# number of agents. The literal maps each grant to the access it covers; a
# literal is cheaper than a rule on this path, which runs on every call.
granted if {
	have := data.bollard.config.grants.agents[input.agent.id][input.action.area]
	{"read": {"read"}, "manage": {"read", "manage"}}[have][input.action.access]
}

# The message reads the input with object.get so that a missing field still
# yields a reason: a deny rule must never be undefined because its message is.
deny contains {"code": "not_granted", "message": msg} if {
	not granted
	msg := sprintf("agent %q is not granted %v access to area %q", [
		object.get(input, ["agent", "id"], ""),
		object.get(input, ["action", "access"], ""),
		object.get(input, ["action", "area"], ""),
	])
}
