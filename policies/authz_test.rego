package bollard.authz_test

import data.bollard.authz

# Actions as pkg/catalog describes them.
users_list := {
	"name": "users.list", "area": "users", "access": "read", "scope": "okta.users.read",
	"method": "GET", "path": "/api/v1/users", "destructive": false, "event": "",
}

users_delete := {
	"name": "users.delete", "area": "users", "access": "manage", "scope": "okta.users.manage",
	"method": "DELETE", "path": "/api/v1/users/{userId}", "destructive": true, "event": "",
}

deactivate := {
	"name": "user_lifecycle.deactivate", "area": "user_lifecycle", "access": "manage",
	"scope": "okta.users.manage", "method": "POST", "path": "/api/v1/users/{userId}/lifecycle/deactivate",
	"destructive": true, "event": "user.lifecycle.deactivate",
}

monday_noon := "2026-11-30T17:00:00Z"

saturday := "2026-11-28T13:00:00Z"

req(agent, action, at) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"action": action,
	"resource": {},
	"params": {},
	"time": at,
	"context": {},
}

allowed(confirm) := {"allow": true, "deny": [], "obligations": {"require_confirmation": confirm}}

test_read_allowed if {
	authz.decision == allowed(false) with input as req("reader-bot", users_list, saturday)
}

test_destructive_in_hours_needs_confirmation if {
	authz.decision == allowed(true) with input as req("provisioner-bot", users_delete, monday_noon)
}

test_on_call_agent_outside_hours if {
	authz.decision == allowed(true) with input as req("helpdesk-bot", deactivate, saturday)
}

test_outside_hours_denied if {
	d := authz.decision with input as req("provisioner-bot", users_delete, saturday)
	d.allow == false
	[r.code | some r in d.deny] == ["outside_business_hours"]
	d.obligations.require_confirmation == true
}

test_reasons_listed_together_and_sorted if {
	d := authz.decision with input as req("reader-bot", deactivate, saturday)
	d.allow == false
	[r.code | some r in d.deny] == ["not_granted", "outside_business_hours"]
}

test_not_granted if {
	authz.decision == {
		"allow": false,
		"deny": [{
			"code": "not_granted",
			"message": `agent "reader-bot" is not granted manage access to area "users"`,
		}],
		"obligations": {"require_confirmation": false},
	} with input as req("reader-bot", object.union(users_delete, {"destructive": false}), monday_noon)
}

test_unknown_agent if {
	d := authz.decision with input as req("stranger", users_list, monday_noon)
	d.allow == false
	[r.code | some r in d.deny] == ["not_granted"]
}

test_manage_implies_read if {
	sessions_get := {"name": "sessions.get", "area": "sessions", "access": "read", "destructive": false}
	authz.decision.allow with input as req("helpdesk-bot", sessions_get, saturday)
}

test_unsupported_version if {
	v2 := object.union(req("reader-bot", users_list, saturday), {"version": 2})
	d := authz.decision with input as v2
	d.allow == false
	[r.code | some r in d.deny] == ["unsupported_input_version"]
}

test_missing_version if {
	unversioned := object.remove(req("reader-bot", users_list, saturday), ["version"])
	d := authz.decision with input as unversioned
	d.allow == false
	[r.code | some r in d.deny] == ["unsupported_input_version"]
}

test_empty_input_denied if {
	d := authz.decision with input as {}
	d.allow == false
	count(d.deny) > 0
}

test_allow_iff_no_reasons if {
	agents := ["reader-bot", "helpdesk-bot", "provisioner-bot", "stranger"]
	actions := [users_list, users_delete, deactivate]
	times := [saturday, monday_noon, "not a time"]
	every agent in agents {
		every action in actions {
			every at in times {
				every version in [1, 2] {
					agrees(object.union(req(agent, action, at), {"version": version}))
				}
			}
		}
	}
}

agrees(r) if {
	d := authz.decision with input as r
	d.allow == true
	count(authz.reasons) == 0 with input as r
}

agrees(r) if {
	d := authz.decision with input as r
	d.allow == false
	count(authz.reasons) > 0 with input as r
	d.deny == authz.deny with input as r
}
