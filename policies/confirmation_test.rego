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
