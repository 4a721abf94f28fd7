package bollard.authz_test

import data.bollard.authz

test_read_allowed if {
	authz.decision.allow with input.action.name as "users.list"
}

test_manage_denied if {
	not authz.decision.allow with input.action.name as "users.delete"
}

test_catalog_is_data if {
	data.bollard.catalog.actions["users.delete"].destructive
	"users.list" in data.bollard.catalog.areas.users.actions
}
