package bollard.authz_test

test_nothing if {
	true
}
