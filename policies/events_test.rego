package bollard.events_test

import data.bollard.events

engineering := "00gENGINEERING0000g7"

ev(agent, typ, targets) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"event": {
		"type": typ,
		"uuid": "e1",
		"area": area(typ),
		"known": area(typ) != "logs",
		"okta": {"uuid": "e1", "eventType": typ, "target": targets},
	},
	"time": "2026-11-30T17:00:00Z",
	"context": {},
}

# What catalog.EventArea returns, for the tests.
area(typ) := a if {
	a := {
		"user.lifecycle.create": "user_lifecycle", "user.lifecycle.deactivate": "user_lifecycle",
		"user.account.update_profile": "users", "group.user_membership.add": "groups",
		"group.user_membership.remove": "groups", "application.lifecycle.activate": "apps",
		"application.user_membership.add": "app_assignments", "user.session.start": "sessions",
	}[typ]
} else := "logs"

user := [{"id": "00uALIactive000000g7", "type": "User"}]

membership := [{"id": "00uALIactive000000g7", "type": "User"}, {"id": engineering, "type": "UserGroup"}]

codes(r) := [c.code | some c in d.deny] if d := events.decision with input as r

test_reader_sees_every_area if {
	every typ in ["user.lifecycle.create", "user.account.update_profile", "group.user_membership.add", "application.lifecycle.activate", "application.user_membership.add", "user.session.start", "policy.lifecycle.update"] {
		events.decision.allow with input as ev("reader-bot", typ, user)
	}
}

test_grant_decides if {
	# provisioner-bot reads users, groups, apps and assignments, not sessions or logs.
	events.decision.allow with input as ev("provisioner-bot", "group.user_membership.add", membership)
	events.decision.allow with input as ev("provisioner-bot", "application.user_membership.add", user)
	codes(ev("provisioner-bot", "user.session.start", user)) == ["not_granted"]
	codes(ev("provisioner-bot", "policy.lifecycle.update", user)) == ["not_granted"]
	codes(ev("stranger", "user.lifecycle.create", user)) == ["not_granted"]
}

test_type_filter if {
	events.decision.allow with input as ev("helpdesk-bot", "user.lifecycle.deactivate", user)
	codes(ev("helpdesk-bot", "user.account.update_profile", user)) == ["event_filtered"]
}

test_group_filter if {
	f := {"reader-bot": {"groups": {engineering: "the engineering team's agent"}}}
	events.decision.allow with input as ev("reader-bot", "group.user_membership.add", membership)
		with data.bollard.config.events.filters as f
	codes(ev("reader-bot", "group.user_membership.add", [{"id": "00gOTHER", "type": "UserGroup"}])) == ["event_filtered"] with data.bollard.config.events.filters as f
	codes(ev("reader-bot", "user.lifecycle.create", user)) == ["event_filtered"] with data.bollard.config.events.filters as f
}

test_malformed_filter_shows_nothing if {
	codes(ev("reader-bot", "user.lifecycle.create", user)) == ["event_filtered"] with data.bollard.config.events.filters as {"reader-bot": ["x"]}
	codes(ev("reader-bot", "user.lifecycle.create", user)) == ["event_filtered"] with data.bollard.config.events.filters as {"reader-bot": {"types": "user.lifecycle.create"}}
}

test_no_filters_configured if {
	events.decision.allow with input as ev("reader-bot", "user.lifecycle.create", user)
		with data.bollard.config.events as {}
}

test_unsupported_version if {
	r := object.union(ev("reader-bot", "user.lifecycle.create", user), {"version": 2})
	codes(r) == ["unsupported_input_version"]
}

test_empty_input_denied if {
	d := events.decision with input as {}
	d.allow == false
	count(d.deny) > 0
}
