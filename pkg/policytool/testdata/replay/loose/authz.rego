package bollard.authz

# A looser candidate: everything is allowed; destructive calls need confirmation.
decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": input.action.destructive}}
