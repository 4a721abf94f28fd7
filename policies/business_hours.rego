# METADATA
# title: Business hours for destructive actions
# description: |
#   Destructive actions run only on the days and between the hours set in
#   data.bollard.config.business_hours, read in its time zone. Agents in
#   exempt_agents (on call) are not restricted. start is inclusive, end is
#   exclusive, both zero-padded "HH:MM" (end may be "24:00").
package bollard.business_hours

cfg := data.bollard.config.business_hours

# blocked is what package bollard.authz checks on every call; deny is the
# reason it lists when blocked.
blocked if {
	input.action.destructive
	not disabled
	not exempt
	not within_hours
}

deny contains {"code": "outside_business_hours", "message": message} if blocked

# A broken configuration must not leave the reason undefined (that would allow
# the call), so the message falls back to a generic one.
message := sprintf(
	"destructive actions are allowed only on %s, %s to %s %s",
	[concat(", ", cfg.days), cfg.start, cfg.end, cfg.timezone],
) if {
	true
} else := "destructive actions are allowed only during business hours"

# Missing or unreadable configuration keeps the restriction on: only an
# explicit false turns it off.
disabled if cfg.enabled == false

exempt if input.agent.id in cfg.exempt_agents

# An unknown time zone or a malformed time leaves within_hours undefined, so
# destructive actions are refused rather than allowed. Zero-padded "HH:MM"
# strings sort in time order, so the clock is compared as text.
within_hours if {
	ns := time.parse_rfc3339_ns(input.time)
	time.format([ns, cfg.timezone, "Monday"]) in cfg.days
	now := time.format([ns, cfg.timezone, "15:04"])
	now >= cfg.start
	now < cfg.end
}
