# METADATA
# title: Business hours for destructive actions
# description: |
#   Destructive actions run only on the days and between the hours set in
#   data.bollard.config.business_hours, read in its time zone. Agents in
#   exempt_agents (on call) are not restricted. start is inclusive, end is
#   exclusive, both zero-padded "HH:MM" (end may be "24:00"). holidays
#   lists dates, "YYYY-MM-DD" in the same time zone, on which destructive
#   actions are refused all day.
package bollard.business_hours

cfg := data.bollard.config.business_hours

# blocked is what package bollard.authz checks for manage actions; deny is
# the reason it lists when blocked. Conditions written as equalities let
# OPA's rule index skip definitions that cannot apply.
blocked if {
	input.action.destructive == true
	not open
}

deny contains {"code": "outside_business_hours", "message": message} if blocked

# An unknown time zone or a malformed time leaves this undefined, so
# destructive actions are refused rather than allowed. One time.format
# gives the weekday, the clock and the date in the configured zone (the
# date of 2026-12-25T03:00:00Z in New York is still the 24th). Zero-padded
# "HH:MM" strings sort in time order, so the clock is compared as text.
open if {
	c := data.bollard.config.business_hours
	[day, clock, date] := split(time.format([time.parse_rfc3339_ns(input.time), c.timezone, "Monday 15:04 2006-01-02"]), " ")
	day in c.days
	clock >= c.start
	clock < c.end
	holidays := object.get(c, "holidays", [])
	is_array(holidays)
	not date in holidays
}

# Missing or unreadable configuration keeps the restriction on: only an
# explicit false turns it off.
open if data.bollard.config.business_hours.enabled == false

open if input.agent.id in data.bollard.config.business_hours.exempt_agents

## The reason's message, evaluated only when the call is denied.

today := time.format([time.parse_rfc3339_ns(input.time), cfg.timezone, "2006-01-02"])

holiday if today in cfg.holidays

# A broken configuration must not leave the reason undefined (that would allow
# the call), so the message falls back to a generic one.
message := sprintf("destructive actions are not allowed on holidays: %s is a holiday in %s", [today, cfg.timezone]) if {
	holiday
} else := sprintf(
	"destructive actions are allowed only on %s, %s to %s %s",
	[concat(", ", cfg.days), cfg.start, cfg.end, cfg.timezone],
) if {
	true
} else := "destructive actions are allowed only during business hours"
