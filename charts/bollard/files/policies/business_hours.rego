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

# applies says the hours restrict this agent's action: it is destructive,
# the rule is on and the agent is not on call. It depends only on the agent
# and the action (it is part of the standing, policies/authz.rego);
# in_hours is checked on every call it applies to.
applies if {
	input.action.destructive == true
	not off
	not exempt
}

# Missing or unreadable configuration keeps the restriction on: only an
# explicit false turns it off.
off if data.bollard.config.business_hours.enabled == false

exempt if input.agent.id in data.bollard.config.business_hours.exempt_agents

# blocked is the call refused for the hours; message is the reason's.
blocked if {
	applies
	not in_hours
}

# An unknown time zone or a malformed time leaves this undefined, so
# destructive actions are refused rather than allowed.
in_hours if in_hours_for(settings)

# in_hours_for(h) says input.time is in the hours h (as settings gives
# them). One time.format gives the weekday, the clock and the date in the
# configured zone (the date of 2026-12-25T03:00:00Z in New York is still
# the 24th). Zero-padded "HH:MM" strings sort in time order, so the clock
# is compared as text.
in_hours_for(h) if {
	[day, clock, date] := split(time.format([time.parse_rfc3339_ns(input.time), h.timezone, "Monday 15:04 2006-01-02"]), " ")
	day in h.days
	clock >= h.start
	clock < h.end
	not date in h.holidays
}

# settings are the hours as the standing carries them, so that checking a
# call reads no data (policies/authz.rego); undefined when they cannot be
# read. A call is in hours under them exactly when in_hours holds.
settings := {
	"timezone": c.timezone, "days": c.days, "start": c.start, "end": c.end, "holidays": holidays,
	"message": sprintf("destructive actions are allowed only on %s, %s to %s %s", [concat(", ", c.days), c.start, c.end, c.timezone]),
} if {
	c := data.bollard.config.business_hours
	is_string(c.timezone)
	is_array(c.days)
	is_string(c.start)
	is_string(c.end)
	holidays := object.get(c, "holidays", [])
	is_array(holidays)
}

# open: destructive actions may run now for this agent, whatever the reason.
open if in_hours

open if off

open if exempt

## The reason's message, evaluated only when the call is denied.

message := m if {
	m := message_for(settings)
} else := "destructive actions are allowed only during business hours"

# message_for(h) says why a call is outside the hours h. A broken
# configuration must not leave the reason undefined (that would allow the
# call), so the message falls back to a generic one.
message_for(h) := sprintf("destructive actions are not allowed on holidays: %s is a holiday in %s", [today, h.timezone]) if {
	today := time.format([time.parse_rfc3339_ns(input.time), h.timezone, "2006-01-02"])
	today in h.holidays
} else := msg if {
	msg := h.message
} else := "destructive actions are allowed only during business hours"
