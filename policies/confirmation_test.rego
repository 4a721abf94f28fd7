package bollard.confirmation_test

import data.bollard.confirmation

req(destructive) := {"version": 1, "action": {"name": "users.delete", "destructive": destructive}}

test_destructive_requires_confirmation if {
	confirmation.required with input as req(true)
}

test_non_destructive_needs_none if {
	confirmation.required == false with input as req(false)
}

test_flag_off if {
	confirmation.required == false with input as req(true)
		with data.bollard.config.confirmation.require_for_destructive as false
}

test_flag_missing_defaults_on if {
	confirmation.required with input as req(true)
		with data.bollard.config.confirmation as {}
}

test_flag_not_false_stays_on if {
	confirmation.required with input as req(true)
		with data.bollard.config.confirmation.require_for_destructive as "no"
}

## manage_agents: every manage action of a listed agent needs confirmation.

manage(agent, access) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"action": {"name": "users.update", "access": access, "destructive": false},
}

test_manage_agent_confirms_every_manage_action if {
	confirmation.required with input as manage("onboarding-bot", "manage")
}

test_manage_agent_reads_without_confirmation if {
	confirmation.required == false with input as manage("onboarding-bot", "read")
}

test_other_agents_manage_without_confirmation if {
	confirmation.required == false with input as manage("provisioner-bot", "manage")
}

test_manage_agents_missing if {
	confirmation.required == false with input as manage("onboarding-bot", "manage")
		with data.bollard.config.confirmation as {"require_for_destructive": true}
}

test_manage_agents_malformed_confirms_all_manage_actions if {
	every broken in ["onboarding-bot", {"onboarding-bot": true}, 1] {
		confirmation.required with input as manage("provisioner-bot", "manage")
			with data.bollard.config.confirmation.manage_agents as broken
		confirmation.required == false with input as manage("provisioner-bot", "read")
			with data.bollard.config.confirmation.manage_agents as broken
	}
}

test_destructive_off_but_manage_agent_on if {
	d := object.union(manage("onboarding-bot", "manage"), {"action": {"destructive": true}})
	confirmation.required with input as d
		with data.bollard.config.confirmation.require_for_destructive as false
}
