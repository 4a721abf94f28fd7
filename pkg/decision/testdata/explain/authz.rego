package bollard.authz

import data.bollard.grants

default confirm := false

confirm if data.bollard.catalog.actions[input.action.name].destructive

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": confirm}} if {
	grants.granted
	count(reasons) == 0
} else := {"allow": false, "deny": [r | some r in reasons], "obligations": {"require_confirmation": confirm}}

reasons contains {"code": "not_granted", "message": grants.message(input.agent.id)} if not grants.granted

reasons contains {"code": "no_reason", "message": "never"} if input.agent.id == "nobody"
