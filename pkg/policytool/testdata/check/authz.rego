package bollard.authz

# A policy for check's tests: it reads every part of the input.
decision := {"allow": true, "deny": [], "obligations": obligations} if {
	count(reasons) == 0
} else := {"allow": false, "deny": [r | some r in reasons], "obligations": obligations}

obligations := {"require_confirmation": input.action.destructive, "max_page_size": 25}

reasons contains {"code": "weekend", "message": "not on weekends"} if {
	time.weekday(time.parse_rfc3339_ns(input.time)) in {"Saturday", "Sunday"}
}

reasons contains {"code": "impact_limit", "message": "too many destructive calls this hour"} if {
	input.context.counts.destructive.hour >= 3
}

reasons contains {"code": "wrong_team", "message": "only the it team's agents"} if {
	input.agent.auth_method == "jwt"
	object.get(input.agent.claims, "team", "") != "it"
}

reasons contains {"code": "no_limit", "message": "list calls must set a limit"} if {
	input.action.name == "users.list"
	not input.params.limit
}
