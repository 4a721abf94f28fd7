package bollard.authz_test

import data.bollard.authz

test_passes if {
	authz.decision.allow with input.action.name as "users.list"
}

test_fails if {
	d := authz.decision with input.action.name as "users.delete"
	print("decided", d.allow)
	d.allow == true
}

test_errors if {
	authz.level(1) == 1
}

todo_test_later if {
	false
}
