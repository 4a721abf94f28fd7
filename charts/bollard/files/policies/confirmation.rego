# METADATA
# title: Confirmation
# description: |
#   The obligation require_confirmation: the sidecar asks for a confirmation
#   token before it forwards the call. Destructive actions need one unless
#   data.bollard.config.confirmation.require_for_destructive is explicitly
#   false (missing, it stays on). Agents listed in manage_agents need one for
#   every manage action.
package bollard.confirmation

default required := false

# Equalities first, so that OPA's rule index skips the definitions that
# cannot apply: a read, most calls, evaluates none of them.
required if {
	input.action.destructive == true
	not destructive_off
}

required if {
	input.action.access == "manage"
	input.agent.id in data.bollard.config.confirmation.manage_agents
}

# A manage_agents that is not a list cannot say who is in it: every manage
# action then needs confirmation.
required if {
	input.action.access == "manage"
	manage_agents_malformed
}

# Missing or unreadable configuration keeps confirmation on: only an
# explicit false turns it off.
destructive_off if data.bollard.config.confirmation.require_for_destructive == false

manage_agents_malformed if {
	agents := data.bollard.config.confirmation.manage_agents
	not is_array(agents)
}
