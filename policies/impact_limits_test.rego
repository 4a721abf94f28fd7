package bollard.impact_limits_test

import data.bollard.impact_limits

# Sample limits: default 20 an hour, 100 a day; provisioner-bot 5 and 20;
# helpdesk-bot 10 an hour and no daily limit.
req(agent, destructive, counts) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"action": {"name": "users.delete", "area": "users", "access": "manage", "destructive": destructive},
	"time": "2026-11-30T17:00:00Z",
	"context": {"counts": {"destructive": counts}},
}

allowed(agent, counts) if {
	not impact_limits.blocked with input as req(agent, true, counts)
	count(impact_limits.deny) == 0 with input as req(agent, true, counts)
}

denied(agent, counts, message) if {
	impact_limits.blocked with input as req(agent, true, counts)
	impact_limits.deny == {{"code": "impact_limit", "message": message}} with input as req(agent, true, counts)
}

test_below_the_limits if {
	allowed("provisioner-bot", {"hour": 0, "day": 0})
	allowed("provisioner-bot", {"hour": 4, "day": 19})
	allowed("reader-bot", {"hour": 19, "day": 99})
}

# The counts leave out the current call: at 4 the fifth goes, at 5 it does not.
test_hourly_limit_reached if {
	denied("provisioner-bot", {"hour": 5, "day": 5}, `agent "provisioner-bot" reached its limit of 5 destructive actions per hour (5 in the last 60 minutes)`)
	denied("provisioner-bot", {"hour": 9, "day": 9}, `agent "provisioner-bot" reached its limit of 5 destructive actions per hour (9 in the last 60 minutes)`)
}

test_daily_limit_reached if {
	denied("provisioner-bot", {"hour": 1, "day": 20}, `agent "provisioner-bot" reached its limit of 20 destructive actions per day (20 in the last 24 hours)`)
}

test_both_limits_reached if {
	r := req("provisioner-bot", true, {"hour": 5, "day": 20})
	count(impact_limits.deny) == 2 with input as r
}

test_default_applies_to_agents_without_an_entry if {
	allowed("reader-bot", {"hour": 19, "day": 0})
	denied("reader-bot", {"hour": 20, "day": 0}, `agent "reader-bot" reached its limit of 20 destructive actions per hour (20 in the last 60 minutes)`)
	denied("stranger", {"hour": 0, "day": 100}, `agent "stranger" reached its limit of 100 destructive actions per day (100 in the last 24 hours)`)
}

# helpdesk-bot's entry replaces the default and has no daily limit.
test_entry_replaces_default if {
	allowed("helpdesk-bot", {"hour": 9, "day": 5000})
	denied("helpdesk-bot", {"hour": 10, "day": 0}, `agent "helpdesk-bot" reached its limit of 10 destructive actions per hour (10 in the last 60 minutes)`)
}

test_no_limits if {
	allowed("unlimited", {"hour": 1000, "day": 1000}) with data.bollard.config.impact_limits.agents.unlimited as {}
	allowed("reader-bot", {"hour": 0, "day": 0}) with data.bollard.config.impact_limits as {"default": {}}
	allowed("reader-bot", {"hour": 0, "day": 0}) with data.bollard.config.impact_limits as {}
}

test_zero_limit_refuses_all if {
	denied("x", {"hour": 0, "day": 0}, `agent "x" reached its limit of 0 destructive actions per hour (0 in the last 60 minutes)`) with data.bollard.config.impact_limits.agents.x as {"hour": 0}
}

test_non_destructive_not_limited if {
	r := req("provisioner-bot", false, {"hour": 500, "day": 500})
	not impact_limits.blocked with input as r
	count(impact_limits.deny) == 0 with input as r
}

## Fail closed: missing counts or broken settings.

test_missing_counts_deny if {
	denied("provisioner-bot", {"day": 0}, `the input has no count of agent "provisioner-bot"'s destructive actions in the last 60 minutes, so its limit of 5 per hour cannot be checked`)
	denied("provisioner-bot", {"hour": "3", "day": 0}, `the input has no count of agent "provisioner-bot"'s destructive actions in the last 60 minutes, so its limit of 5 per hour cannot be checked`)
	r := object.remove(req("provisioner-bot", true, {}), ["context"])
	count(impact_limits.deny) == 2 with input as r
	impact_limits.blocked with input as r
}

# The sidecar always sends both counts: a missing one is refused even for
# a window without a limit.
test_missing_counts_without_a_limit if {
	denied("helpdesk-bot", {"hour": 2}, `the input has no count of agent "helpdesk-bot"'s destructive actions in the last 24 hours`)
}

test_malformed_limit_denies if {
	message := `impact limits are not configured correctly for agent "x" (data.bollard.config.impact_limits: default and agents entries are objects of {"hour": n, "day": n}), so destructive actions are refused`
	denied("x", {"hour": 0, "day": 0}, message) with data.bollard.config.impact_limits.agents.x as {"hour": "5"}
	denied("x", {"hour": 0, "day": 0}, message) with data.bollard.config.impact_limits.agents.x as {"day": null}
}

test_normalized if {
	impact_limits.normalized == {"hour": 5, "day": 20} with input as req("provisioner-bot", true, {})
	impact_limits.normalized == {"hour": 10, "day": 9007199254740991} with input as req("helpdesk-bot", true, {})
	impact_limits.normalized == null with input as req("x", true, {}) with data.bollard.config.impact_limits.agents.x as {"hour": "5"}
}

test_missing_settings_deny if {
	message := `impact limits are not configured correctly for agent "provisioner-bot" (data.bollard.config.impact_limits: default and agents entries are objects of {"hour": n, "day": n}), so destructive actions are refused`
	every cfg in [null, "none", {"agents": []}, {"default": 20}, {"agents": {"provisioner-bot": 5}}] {
		denied("provisioner-bot", {"hour": 0, "day": 0}, message) with data.bollard.config.impact_limits as cfg
	}
	denied("provisioner-bot", {"hour": 0, "day": 0}, message) with data.bollard.config as {}
}
