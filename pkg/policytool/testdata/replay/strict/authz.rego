package bollard.authz

# A stricter candidate: reader-bot is frozen, destructive calls stop at three
# an hour, nothing is allowed after 20:00 UTC, and no page size is capped.
decision := {"allow": true, "deny": [], "obligations": obligations} if {
	count(reasons) == 0
} else := {"allow": false, "deny": [r | some r in reasons], "obligations": obligations}

obligations := {"require_confirmation": input.action.destructive}

reasons contains {"code": "frozen", "message": "reader-bot is frozen"} if input.agent.id == "reader-bot"

reasons contains {"code": "impact_limit", "message": "at most three destructive calls an hour"} if {
	input.context.counts.destructive.hour >= 3
}

reasons contains {"code": "late", "message": "nothing after 20:00 UTC"} if {
	[hour, _, _] := time.clock(time.parse_rfc3339_ns(input.time))
	hour >= 20
}
