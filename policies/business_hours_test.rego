package bollard.business_hours_test

import data.bollard.business_hours

# November 2026 is EST (UTC-5): Monday 2026-11-30 08:00 in New York is 13:00Z.
req(agent, destructive, at) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"action": {"name": "users.delete", "area": "users", "access": "manage", "destructive": destructive},
	"time": at,
}

# What policies/authz.rego lists for the hours: the reason, when blocked.
deny := {{"code": "outside_business_hours", "message": business_hours.message}} if {
	business_hours.blocked
} else := set()

outside(agent, at) if {
	deny == {{
		"code": "outside_business_hours",
		"message": "destructive actions are allowed only on Monday, Tuesday, Wednesday, Thursday, Friday, 08:00 to 18:00 America/New_York",
	}} with input as req(agent, true, at)
}

inside(agent, at) if {
	count(deny) == 0 with input as req(agent, true, at)
}

test_opening_boundary if {
	outside("provisioner-bot", "2026-11-30T12:59:59Z")
	inside("provisioner-bot", "2026-11-30T13:00:00Z")
}

test_closing_boundary if {
	inside("provisioner-bot", "2026-11-30T22:59:59Z")
	outside("provisioner-bot", "2026-11-30T23:00:00Z")
}

test_fractional_seconds if {
	inside("provisioner-bot", "2026-11-30T22:59:59.999999999Z")
}

test_weekend if {
	outside("provisioner-bot", "2026-11-28T17:00:00Z") # Saturday noon
	outside("provisioner-bot", "2026-11-29T17:00:00Z") # Sunday noon
	inside("provisioner-bot", "2026-12-04T17:00:00Z") # Friday noon
}

# The day is the day in the configured zone, not in UTC: 00:30Z on Tuesday is
# still Monday evening in New York, and 03:00Z on Saturday is Friday 22:00.
test_day_in_time_zone if {
	outside("provisioner-bot", "2026-12-01T00:30:00Z")
	outside("provisioner-bot", "2026-12-05T03:00:00Z")
	inside("provisioner-bot", "2026-12-01T13:30:00Z")
}

test_offset_in_input if {
	inside("provisioner-bot", "2026-11-30T08:00:00-05:00")
	outside("provisioner-bot", "2026-11-30T07:59:00-05:00")
}

# July is EDT (UTC-4): 08:00 in New York is 12:00Z.
test_daylight_saving if {
	outside("provisioner-bot", "2026-07-10T11:59:59Z")
	inside("provisioner-bot", "2026-07-10T12:00:00Z")
	inside("provisioner-bot", "2026-07-10T21:59:59Z")
	outside("provisioner-bot", "2026-07-10T22:00:00Z")
}

test_exempt_agent if {
	count(deny) == 0 with input as req("helpdesk-bot", true, "2026-11-28T03:00:00Z")
}

test_non_destructive_any_time if {
	count(deny) == 0 with input as req("provisioner-bot", false, "2026-11-28T03:00:00Z")
}

test_disabled if {
	count(deny) == 0 with input as req("provisioner-bot", true, "2026-11-28T03:00:00Z")
		with data.bollard.config.business_hours.enabled as false
}

test_enabled_missing_stays_on if {
	r := req("provisioner-bot", true, "2026-11-28T03:00:00Z")
	cfg := object.remove(data.bollard.config.business_hours, ["enabled"])
	count(deny) == 1 with input as r with data.bollard.config.business_hours as cfg
}

test_other_zone if {
	cfg := object.union(data.bollard.config.business_hours, {"timezone": "Europe/Paris"})
	r := req("provisioner-bot", true, "2026-11-30T07:00:00Z") # 08:00 in Paris
	count(deny) == 0 with input as r with data.bollard.config.business_hours as cfg
	count(deny) == 0 with input as r
		with data.bollard.config.business_hours.timezone as "Europe/Paris"
}

test_end_of_day if {
	r := req("provisioner-bot", true, "2026-12-01T04:59:59Z") # Monday 23:59:59 in New York
	count(deny) == 1 with input as r
	count(deny) == 0 with input as r with data.bollard.config.business_hours.end as "24:00"
}

test_unknown_time_zone_denies if {
	count(deny) == 1 with input as req("provisioner-bot", true, "2026-11-30T15:00:00Z")
		with data.bollard.config.business_hours.timezone as "Mars/Olympus_Mons"
}

test_malformed_time_denies if {
	count(deny) == 1 with input as req("provisioner-bot", true, "Monday at noon")
}

test_missing_time_denies if {
	r := object.remove(req("provisioner-bot", true, "2026-11-30T15:00:00Z"), ["time"])
	count(deny) == 1 with input as r
}

test_broken_config_still_denies if {
	deny == {{
		"code": "outside_business_hours",
		"message": "destructive actions are allowed only during business hours",
	}} with input as req("provisioner-bot", true, "2026-11-30T15:00:00Z")
		with data.bollard.config.business_hours as {"exempt_agents": []}
}

test_no_config_still_denies if {
	count(deny) == 1 with input as req("provisioner-bot", true, "2026-11-30T15:00:00Z")
		with data.bollard.config as {}
}

## Holidays: dates in the configured zone, destructive actions refused all day.

holiday_message := "destructive actions are not allowed on holidays: 2026-12-25 is a holiday in America/New_York"

test_holiday_blocks_all_day if {
	# Friday 2026-12-25 at noon in New York, a weekday within hours.
	deny == {{"code": "outside_business_hours", "message": holiday_message}} with input as req("provisioner-bot", true, "2026-12-25T17:00:00Z")
	outside_on_holiday("2026-12-25T13:00:00Z") # 08:00, opening time
	outside_on_holiday("2026-12-25T22:59:59Z") # 17:59:59
}

outside_on_holiday(at) if {
	deny == {{"code": "outside_business_hours", "message": holiday_message}} with input as req("provisioner-bot", true, at)
}

test_day_after_holiday if {
	inside("provisioner-bot", "2026-12-28T17:00:00Z") # Monday noon
}

# The date is the date in the configured zone: 03:00Z on the 25th is still
# the 24th in New York, 03:00Z on the 26th is still Christmas.
test_holiday_date_in_time_zone if {
	cfg := object.union(data.bollard.config.business_hours, {"end": "24:00", "holidays": ["2026-12-25"]})
	count(deny) == 0 with input as req("provisioner-bot", true, "2026-12-25T03:00:00Z")
		with data.bollard.config.business_hours as cfg
	deny == {{"code": "outside_business_hours", "message": holiday_message}} with input as req("provisioner-bot", true, "2026-12-26T03:00:00Z")
		with data.bollard.config.business_hours as cfg
}

test_exempt_agent_on_holiday if {
	count(deny) == 0 with input as req("helpdesk-bot", true, "2026-12-25T17:00:00Z")
}

test_non_destructive_on_holiday if {
	count(deny) == 0 with input as req("provisioner-bot", false, "2026-12-25T17:00:00Z")
}

test_no_holidays_listed if {
	cfg := object.remove(data.bollard.config.business_hours, ["holidays"])
	count(deny) == 0 with input as req("provisioner-bot", true, "2026-12-25T17:00:00Z")
		with data.bollard.config.business_hours as cfg
}

test_malformed_holidays_deny if {
	r := req("provisioner-bot", true, "2026-11-30T17:00:00Z")
	every holidays in ["2026-12-25", {"2026-12-25": true}, 20261225] {
		count(deny) == 1 with input as r
			with data.bollard.config.business_hours.holidays as holidays
	}
}
