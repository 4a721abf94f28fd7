package bollard.authz

# Read actions are allowed, by their access in the catalog; nothing else is.
decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false}} if {
	data.bollard.catalog.actions[input.action.name].access == "read"
} else := {
	"allow": false,
	"deny": [{"code": "read_only", "message": "only read actions are allowed"}],
	"obligations": {"require_confirmation": false},
}
