package bollard.grants_test

import data.bollard.grants

areas := [
	"users", "user_lifecycle", "groups", "apps", "app_assignments",
	"sessions", "policies", "factors", "logs",
]

req(agent, area, access) := {
	"version": 1,
	"agent": {"id": agent, "auth_method": "key", "claims": {}},
	"action": {"name": sprintf("%s.x", [area]), "area": area, "access": access, "destructive": false},
	"time": "2026-11-30T15:00:00Z",
}

test_reader_reads_every_area if {
	every area in areas {
		grants.granted with input as req("reader-bot", area, "read")
	}
}

test_reader_cannot_manage if {
	every area in areas {
		not grants.granted with input as req("reader-bot", area, "manage")
	}
}

test_manage_implies_read if {
	grants.granted with input as req("helpdesk-bot", "sessions", "manage")
	grants.granted with input as req("helpdesk-bot", "sessions", "read")
	grants.granted with input as req("helpdesk-bot", "user_lifecycle", "read")
	grants.granted with input as req("provisioner-bot", "app_assignments", "read")
}

test_read_does_not_imply_manage if {
	not grants.granted with input as req("helpdesk-bot", "users", "manage")
	not grants.granted with input as req("provisioner-bot", "apps", "manage")
}

test_area_without_grant if {
	not grants.granted with input as req("helpdesk-bot", "apps", "read")
	not grants.granted with input as req("provisioner-bot", "logs", "read")
}

test_helpdesk_grants if {
	every area in ["users", "groups", "factors", "sessions", "logs"] {
		grants.granted with input as req("helpdesk-bot", area, "read")
	}
	every area in ["user_lifecycle", "sessions"] {
		grants.granted with input as req("helpdesk-bot", area, "manage")
	}
}

test_provisioner_grants if {
	every area in ["users", "groups", "app_assignments"] {
		grants.granted with input as req("provisioner-bot", area, "manage")
	}
	grants.granted with input as req("provisioner-bot", "apps", "read")
}

test_unknown_agent_denied if {
	grants.deny == {{
		"code": "not_granted",
		"message": `agent "stranger" is not granted read access to area "users"`,
	}} with input as req("stranger", "users", "read")
}

test_deny_names_area_and_access if {
	grants.deny == {{
		"code": "not_granted",
		"message": `agent "reader-bot" is not granted manage access to area "user_lifecycle"`,
	}} with input as req("reader-bot", "user_lifecycle", "manage")
}

test_granted_has_no_deny if {
	count(grants.deny) == 0 with input as req("provisioner-bot", "users", "manage")
}

test_unknown_access_in_input_denied if {
	not grants.granted with input as req("provisioner-bot", "users", "admin")
}

test_unknown_level_in_data_denied if {
	not grants.granted with input as req("a", "users", "read")
		with data.bollard.config.grants.agents as {"a": {"users": "admin"}}
}

test_missing_agent_id_denied if {
	r := object.remove(req("reader-bot", "users", "read"), ["agent"])
	not grants.granted with input as r
	count(grants.deny) == 1 with input as r
}

## Action lists: grants.actions[agent] = {"allow": [...], "deny": [...]}.

act(agent, name, area, access) := object.union(req(agent, area, access), {"action": {
	"name": name, "area": area, "access": access, "destructive": false,
}})

# The grants with other action lists. Tests replace a rule's whole settings
# object: with an object value, OPA merges a "with" on a deeper path into
# what a policy reads from above it, rather than replacing it.
with_lists(lists) := {"agents": data.bollard.config.grants.agents, "actions": lists}

codes(r) := {c.code | some c in reasons} if {
	reasons := grants.deny with input as r
}

granted_bool(r) if {
	grants.granted with input as r
} else := false

test_allow_list_grants_one_action if {
	# helpdesk-bot reads factors; its allow list adds factors.unenroll only.
	grants.granted with input as act("helpdesk-bot", "factors.unenroll", "factors", "manage")
	count(grants.deny) == 0 with input as act("helpdesk-bot", "factors.unenroll", "factors", "manage")
	not grants.granted with input as act("helpdesk-bot", "factors.enroll", "factors", "manage")
	codes(act("helpdesk-bot", "factors.enroll", "factors", "manage")) == {"not_granted"}
}

test_deny_list_refuses_despite_area_grant if {
	r := act("provisioner-bot", "groups.delete", "groups", "manage")
	not grants.granted with input as r
	grants.deny == {{
		"code": "action_denied",
		"message": `agent "provisioner-bot" may not call "groups.delete": the action is on its deny list`,
	}} with input as r

	# The rest of the area stays granted.
	grants.granted with input as act("provisioner-bot", "groups.remove_member", "groups", "manage")
}

test_deny_wins_over_allow if {
	lists := {"a": {"allow": ["users.delete"], "deny": ["users.delete"]}}
	r := act("a", "users.delete", "users", "manage")
	not grants.granted with input as r with data.bollard.config.grants as with_lists(lists)
	codes(r) == {"action_denied"} with data.bollard.config.grants as with_lists(lists)
}

test_allow_list_without_any_area_grant if {
	lists := {"stranger": {"allow": ["logs.list"]}}
	grants.granted with input as act("stranger", "logs.list", "logs", "read")
		with data.bollard.config.grants as with_lists(lists)
	not grants.granted with input as act("stranger", "users.list", "users", "read")
		with data.bollard.config.grants as with_lists(lists)
}

test_missing_keys_are_empty_lists if {
	lists := {"reader-bot": {}}
	grants.granted with input as act("reader-bot", "users.list", "users", "read")
		with data.bollard.config.grants as with_lists(lists)
}

test_malformed_entry_denies_everything if {
	every entry in [
		"users.delete",
		["users.delete"],
		{"deny": "users.delete"},
		{"allow": "users.list"},
		null,
	] {
		r := act("reader-bot", "users.list", "users", "read")
		not grants.granted with input as r with data.bollard.config.grants as with_lists({"reader-bot": entry})
		codes(r) == {"action_denied"} with data.bollard.config.grants as with_lists({"reader-bot": entry})
	}
}

test_malformed_entry_message if {
	r := act("reader-bot", "users.list", "users", "read")
	grants.deny == {{
		"code": "action_denied",
		"message": `agent "reader-bot" is refused every action: its entry in grants.actions is not {"allow": [...], "deny": [...]}`,
	}} with input as r with data.bollard.config.grants as with_lists({"reader-bot": "oops"})
}

test_no_action_lists_at_all if {
	grants.granted with input as act("reader-bot", "users.list", "users", "read")
		with data.bollard.config.grants as {"agents": data.bollard.config.grants.agents}
}

# Every way of deciding agrees with the reasons: granted iff no reason.
mixed_lists := {
	"reader-bot": {"allow": ["users.delete"], "deny": ["users.list"]},
	"helpdesk-bot": {"deny": ["sessions.revoke"]},
	"provisioner-bot": "broken",
	"stranger": {"allow": ["logs.list"]},
}

test_granted_iff_no_reasons if {
	every agent in ["reader-bot", "helpdesk-bot", "provisioner-bot", "stranger", "nobody"] {
		every name, a in data.bollard.catalog.actions {
			agrees(act(agent, name, a.area, a.access))
		}
	}
}

agrees(r) if {
	grants.granted with input as r with data.bollard.config.grants as with_lists(mixed_lists)
	count(grants.deny) == 0 with input as r with data.bollard.config.grants as with_lists(mixed_lists)
}

agrees(r) if {
	not grants.granted with input as r with data.bollard.config.grants as with_lists(mixed_lists)
	count(grants.deny) > 0 with input as r with data.bollard.config.grants as with_lists(mixed_lists)
}
