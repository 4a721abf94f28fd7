# METADATA
# title: Grants
# description: |
#   data.bollard.config.grants.agents maps each agent id to the access it has
#   per catalog area, "read" or "manage". A manage grant implies read. An
#   agent that is not listed has no access at all.
#   data.bollard.config.grants.actions refines that per agent and action:
#   {"allow": [names], "deny": [names]}. allow grants one action without a
#   grant on its area; deny refuses one even with it. Deny wins.
package bollard.grants

# granted is what package bollard.authz checks on every call. Object lookups
# by agent id and area keep the cost flat in the number of agents. The first
# definition is the common case, an agent without action lists, with its
# conditions written out: OPA stops at the first definition that holds, and
# each rule it has to evaluate adds to every call.
granted if {
	g := data.bollard.config.grants
	have := g.agents[input.agent.id][input.action.area]
	{"read": {"read"}, "manage": {"read", "manage"}}[have][input.action.access]
	not g.actions[input.agent.id]
}

# Agents with action lists: the entry must be well formed, the action not
# on its deny list, and granted by the area (here) or by the allow list
# (below).
granted if {
	g := data.bollard.config.grants
	entry := g.actions[input.agent.id]
	is_object(entry)
	deny := object.get(entry, "deny", [])
	is_array(deny)
	is_array(object.get(entry, "allow", []))
	not object.get(input, ["action", "name"], "") in deny
	have := g.agents[input.agent.id][input.action.area]
	{"read": {"read"}, "manage": {"read", "manage"}}[have][input.action.access]
}

granted if {
	entry := data.bollard.config.grants.actions[input.agent.id]
	well_formed(entry)
	not object.get(input, ["action", "name"], "") in object.get(entry, "deny", [])
	input.action.name in object.get(entry, "allow", [])
}

## The same, rule by rule, for the reasons: evaluated only when the call is
## denied. test_granted_iff_no_reasons checks that both agree.

# The literal maps each grant to the access it covers.
area_granted if {
	have := data.bollard.config.grants.agents[input.agent.id][input.action.area]
	{"read": {"read"}, "manage": {"read", "manage"}}[have][input.action.access]
}

action_allowed if input.action.name in data.bollard.config.grants.actions[input.agent.id].allow

listed_denied if input.action.name in data.bollard.config.grants.actions[input.agent.id].deny

# An entry that is not {"allow": [...], "deny": [...]} cannot say what it
# denies, so it denies every call of that agent rather than none. (false
# counts as no entry, as in the first definition of granted: a JSON entry
# should be an object.)
malformed_entry if {
	entry := data.bollard.config.grants.actions[input.agent.id]
	entry != false
	not well_formed(entry)
}

well_formed(entry) if {
	is_object(entry)
	is_array(object.get(entry, "allow", []))
	is_array(object.get(entry, "deny", []))
}

# Messages read the input with object.get so that a missing field still
# yields a reason: a deny rule must never be undefined because its message is.
deny contains {"code": "not_granted", "message": msg} if {
	not area_granted
	not action_allowed
	msg := sprintf("agent %q is not granted %v access to area %q", [
		object.get(input, ["agent", "id"], ""),
		object.get(input, ["action", "access"], ""),
		object.get(input, ["action", "area"], ""),
	])
}

deny contains {"code": "action_denied", "message": msg} if {
	listed_denied
	msg := sprintf("agent %q may not call %q: the action is on its deny list", [
		object.get(input, ["agent", "id"], ""),
		object.get(input, ["action", "name"], ""),
	])
}

deny contains {"code": "action_denied", "message": msg} if {
	malformed_entry
	msg := sprintf(`agent %q is refused every action: its entry in grants.actions is not {"allow": [...], "deny": [...]}`, [
		object.get(input, ["agent", "id"], ""),
	])
}
