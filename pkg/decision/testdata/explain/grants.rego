package bollard.grants

level[area] := access if {
	some area, access in data.bollard.config.grants[input.agent.id]
}

granted if level[input.action.area] == "manage"

granted if {
	level[input.action.area] == "read"
	input.action.access == "read"
}

message(agent) := sprintf("agent %q is not granted %s", [agent, input.action.name])
