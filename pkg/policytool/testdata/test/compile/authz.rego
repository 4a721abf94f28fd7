package bollard.authz

decision := {"allow": false, "deny": [{"code": "x", "message": "x"}], "obligations": {"require_confirmation": false}} if {
	unused := input.agent.id
}
