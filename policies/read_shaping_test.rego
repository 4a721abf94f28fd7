package bollard.read_shaping_test

import data.bollard.read_shaping

now := "2026-11-30T17:00:00Z"

req(agent, name, params) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"action": object.remove(data.bollard.catalog.actions[name], ["paginated"]),
	"resource": {},
	"params": params,
	"time": now,
	"context": {},
}

shaped(r, obligations) if {
	read_shaping.obligations == obligations with input as r
	count(read_shaping.settings_deny) == 0 with input as r
	count(read_shaping.log_deny) == 0 with input as r
}

# refused: the settings cannot shape the call (invalid_policy_data), or the
# System Log query reaches too far back (log_window).
refused(r, "invalid_policy_data", message) if {
	not read_shaping.obligations with input as r
	read_shaping.settings_deny == {{"code": "invalid_policy_data", "message": message}} with input as r
}

refused(r, "log_window", message) if {
	not read_shaping.log_ok with input as r
	read_shaping.log_deny == {{"code": "log_window", "message": message}} with input as r
}

# The settings with one key replaced. Tests replace the whole settings
# object: with an object value, OPA merges a "with" on a deeper path into
# what a policy reads from above it, rather than replacing it.
settings(key, value) := object.union(object.remove(data.bollard.config.read_shaping, [key]), {key: value})

codes(r) := {c.code | some c in reasons} if {
	reasons := read_shaping.settings_deny | read_shaping.log_deny with input as r
}

## Page size, for paginated reads: the agent's cap for the area, else the
## default's. Sample: 200 for every paginated area; helpdesk-bot 50 for
## users and 100 for logs.

test_default_page_size if {
	shaped(req("provisioner-bot", "users.list", {}), {"max_page_size": 200, "remove_fields": ["profile.mobilePhone"]})
	shaped(req("provisioner-bot", "groups.list_members", {}), {"max_page_size": 200, "remove_fields": ["profile.mobilePhone"]})
}

test_agent_page_size if {
	shaped(req("helpdesk-bot", "users.list", {}), {"max_page_size": 50, "remove_fields": ["profile.mobilePhone"]})
	shaped(req("helpdesk-bot", "groups.list", {}), {"max_page_size": 200, "remove_fields": ["profile.mobilePhone"]})
}

test_one_number_for_every_area if {
	ps := {"default": 300, "agents": {"helpdesk-bot": 40, "reader-bot": {"users": 20}}}
	cfg := settings("page_size", ps)
	shaped(req("provisioner-bot", "groups.list", {}), {"max_page_size": 300, "remove_fields": ["profile.mobilePhone"]}) with data.bollard.config.read_shaping as cfg
	shaped(req("helpdesk-bot", "users.list", {}), {"max_page_size": 40, "remove_fields": ["profile.mobilePhone"]}) with data.bollard.config.read_shaping as cfg
	shaped(req("reader-bot", "users.list", {}), {"max_page_size": 20, "remove_fields": ["profile.mobilePhone", "profile.secondEmail"]}) with data.bollard.config.read_shaping as cfg
	shaped(req("reader-bot", "apps.list", {}), {"max_page_size": 300, "remove_fields": ["profile.mobilePhone", "profile.secondEmail"]}) with data.bollard.config.read_shaping as cfg
}

test_no_cap_for_single_objects_and_unpaginated_lists if {
	shaped(req("provisioner-bot", "users.get", {}), {"remove_fields": ["profile.mobilePhone"]})
	shaped(req("provisioner-bot", "factors.list", {}), {"remove_fields": ["profile.mobilePhone"]})
	shaped(req("provisioner-bot", "policies.list_rules", {}), {"remove_fields": ["profile.mobilePhone"]})
}

# Writes answer with the object they changed: hidden fields are removed
# from those answers too, and they take no page cap.
test_manage_actions_shaped if {
	every name in ["users.create", "users.update", "users.delete", "groups.add_member", "app_assignments.assign"] {
		shaped(req("reader-bot", name, {}), {"remove_fields": ["profile.mobilePhone", "profile.secondEmail"]})
	}
}

page_size_message := `the page-size cap for agent "provisioner-bot" on area "users" is missing or not a positive whole number (data.bollard.config.read_shaping.page_size), so paginated reads are refused`

test_broken_page_size_refuses_lists if {
	r := req("provisioner-bot", "users.list", {})
	every cap in [0, -1, 2.5, "100", null, {"users": 100}] {
		ps := {"default": object.union(data.bollard.config.read_shaping.page_size.default, {"users": cap}), "agents": {}}
		refused(r, "invalid_policy_data", page_size_message) with data.bollard.config.read_shaping as settings("page_size", ps)
	}
	every ps in [{"default": {"groups": 200}, "agents": {}}, {"default": {"users": 200}, "agents": {"provisioner-bot": 0}}, {"agents": {}}, {}, null] {
		refused(r, "invalid_policy_data", page_size_message) with data.bollard.config.read_shaping as settings("page_size", ps)
	}

	# Single-object reads do not need a cap.
	shaped(req("provisioner-bot", "users.get", {}), {"remove_fields": ["profile.mobilePhone"]}) with data.bollard.config.read_shaping as settings("page_size", null)
}

## Fields removed: the agent's list replaces the default; [] removes none.

test_default_fields if {
	shaped(req("helpdesk-bot", "factors.get", {}), {"remove_fields": ["profile.mobilePhone"]})
}

test_agent_fields if {
	shaped(req("reader-bot", "users.get", {}), {"remove_fields": ["profile.mobilePhone", "profile.secondEmail"]})
}

test_empty_list_removes_nothing if {
	rf := {"default": ["profile.mobilePhone"], "agents": {"reader-bot": []}}
	shaped(req("reader-bot", "users.get", {}), {}) with data.bollard.config.read_shaping as settings("remove_fields", rf)
	shaped(req("reader-bot", "users.list", {}), {"max_page_size": 200}) with data.bollard.config.read_shaping as settings("remove_fields", rf)
}

fields_message := `the fields removed from answers for agent "provisioner-bot" are missing or not a list (data.bollard.config.read_shaping.remove_fields), so its calls are refused`

test_broken_fields_refuse_every_call if {
	every name in ["users.get", "users.list", "logs.list", "users.update", "groups.delete"] {
		r := req("provisioner-bot", name, {})
		every rf in [null, {}, {"default": "profile.mobilePhone", "agents": {}}, {"default": ["profile.mobilePhone"]}, {"default": ["profile.mobilePhone"], "agents": []}] {
			refused(r, "invalid_policy_data", fields_message) with data.bollard.config.read_shaping as settings("remove_fields", rf)
		}
	}
}

## System Log window. Sample: 168 hours (Okta's own default of 7 days);
## helpdesk-bot 24 hours.

logs(agent, params) := req(agent, "logs.list", params)

test_default_window if {
	shaped(logs("reader-bot", {"since": "2026-11-23T17:00:00Z"}), {"max_page_size": 200, "remove_fields": ["profile.mobilePhone", "profile.secondEmail"]})
	refused(logs("reader-bot", {"since": "2026-11-23T16:59:59Z"}), "log_window", `agent "reader-bot" may read the System Log only 168 hours back: since 2026-11-23T16:59:59Z is before 2026-11-23T17:00:00Z`)
}

test_agent_window if {
	shaped(logs("helpdesk-bot", {"since": "2026-11-29T17:00:00Z"}), {"max_page_size": 100, "remove_fields": ["profile.mobilePhone"]})
	shaped(logs("helpdesk-bot", {"since": "2026-11-30T12:00:00-05:00"}), {"max_page_size": 100, "remove_fields": ["profile.mobilePhone"]})
	refused(logs("helpdesk-bot", {"since": "2026-11-29T16:59:59.999Z"}), "log_window", `agent "helpdesk-bot" may read the System Log only 24 hours back: since 2026-11-29T16:59:59.999Z is before 2026-11-29T17:00:00Z`)
}

# Without since Okta would return seven days; the call is allowed because
# the sidecar sends the earliest since the window allows, which the
# constraint states.
test_absent_since_takes_the_window if {
	shaped(logs("helpdesk-bot", {"limit": 10}), {"max_page_size": 100, "remove_fields": ["profile.mobilePhone"]})
	read_shaping.constraints(24) == [{
		"param": "since", "min": "2026-11-29T17:00:00Z", "default": "2026-11-29T17:00:00Z",
		"description": "since no earlier than 24 hours before the call (2026-11-29T17:00:00Z)",
	}] with input as logs("helpdesk-bot", {})
	not read_shaping.constraints(0) with input as logs("helpdesk-bot", {})
	not read_shaping.constraints(24) with input as object.union(logs("helpdesk-bot", {}), {"time": "noon"})
}

test_malformed_since if {
	refused(logs("reader-bot", {"since": "yesterday"}), "log_window", "since yesterday is not an RFC 3339 time")
}

test_malformed_time if {
	every params in [{}, {"since": now}] {
		r := object.union(logs("reader-bot", params), {"time": "noon"})
		refused(r, "log_window", "the request time is not an RFC 3339 time, so the System Log window cannot be checked")
	}
}

window_message := `the System Log window for agent "reader-bot" is missing or not a positive number of hours (data.bollard.config.read_shaping.logs.max_window_hours), so System Log queries are refused`

test_broken_window_refuses_logs if {
	every w in [{}, {"default": 0, "agents": {}}, {"default": "168", "agents": {}}, {"default": 168}, null] {
		refused(logs("reader-bot", {"since": now}), "log_window", window_message) with data.bollard.config.read_shaping as settings("logs", {"max_window_hours": w})
	}
	shaped(req("reader-bot", "users.get", {}), {"remove_fields": ["profile.mobilePhone", "profile.secondEmail"]}) with data.bollard.config.read_shaping as settings("logs", null)
}

## The catalog tells which actions are paginated.

test_action_not_in_catalog if {
	r := object.union(req("reader-bot", "users.get", {}), {"action": {"name": "users.teleport"}})
	not read_shaping.obligations with input as r
	codes(r) == {"invalid_policy_data"}
	list := req("reader-bot", "users.list", {}) # built from the catalog before it is taken away
	refused(list, "invalid_policy_data", `the action catalog (data.bollard.catalog) has no action "users.list", so its answers cannot be shaped and it is refused`) with data.bollard.catalog as {}
}

## Obligations and reasons agree: a call is shaped exactly when no setting
## stands in the way, and refused with a reason otherwise.

other_settings := [
	data.bollard.config.read_shaping,
	settings("page_size", {"default": 300, "agents": {"helpdesk-bot": 40, "reader-bot": {"users": 0}}}),
	settings("remove_fields", {"default": [], "agents": {"reader-bot": "profile"}}),
	settings("logs", {"max_window_hours": {"default": "a week", "agents": {}}}),
]

test_obligations_iff_no_reasons if {
	every cfg in other_settings {
		every agent in ["reader-bot", "helpdesk-bot", "provisioner-bot", "stranger"] {
			every name, _ in data.bollard.catalog.actions {
				every params in [{}, {"since": "2026-11-30T00:00:00Z"}, {"since": "2026-11-01T00:00:00Z"}] {
					agrees(req(agent, name, params)) with data.bollard.config.read_shaping as cfg
				}
			}
		}
	}
}

agrees(r) if {
	read_shaping.obligations with input as r
	count(read_shaping.settings_deny) == 0 with input as r
}

agrees(r) if {
	not read_shaping.obligations with input as r
	count(read_shaping.settings_deny) > 0 with input as r
}

test_log_ok_iff_no_reason if {
	every cfg in other_settings {
		every agent in ["reader-bot", "helpdesk-bot", "stranger"] {
			every params in [{}, {"since": "2026-11-30T00:00:00Z"}, {"since": "2026-11-01T00:00:00Z"}, {"since": "soon"}] {
				every at in [now, "noon"] {
					log_agrees(object.union(logs(agent, params), {"time": at})) with data.bollard.config.read_shaping as cfg
				}
			}
		}
	}
}

log_agrees(r) if {
	read_shaping.log_ok with input as r
	count(read_shaping.log_deny) == 0 with input as r
}

log_agrees(r) if {
	not read_shaping.log_ok with input as r
	count(read_shaping.log_deny) == 1 with input as r
}
