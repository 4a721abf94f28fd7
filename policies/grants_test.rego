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
