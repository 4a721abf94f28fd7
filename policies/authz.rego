# METADATA
# title: Bollard authorization entry point
# description: |
#   Bollard evaluates data.bollard.authz.decision once per agent call.
#   docs/policy-contract.md describes the input and the decision's shape.
package bollard.authz

import data.bollard.business_hours
import data.bollard.confirmation
import data.bollard.grants

# The first branch is the common case, written as plain conditions because it
# runs on every call and conditions are cheaper to evaluate than collecting
# reasons. Any other outcome is a denial that lists every reason. Each reason
# rule below must have its negation among the first branch's conditions;
# test_allow_iff_no_reasons in authz_test.rego checks that they agree.
decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": confirmation.required}} if {
	input.version == 1
	grants.granted
	not business_hours.blocked
} else := {
	"allow": false,
	"deny": deny,
	"obligations": {"require_confirmation": confirmation.required},
}

# Sets iterate in sorted order, so the list is stable from call to call.
deny := [r | some r in reasons]

reasons contains r if some r in grants.deny

reasons contains r if some r in business_hours.deny

# A different input version means the sidecar and the policy disagree about
# the input's shape: refuse rather than guess.
reasons contains {
	"code": "unsupported_input_version",
	"message": sprintf("the policy understands input version 1, not %v", [object.get(input, "version", null)]),
} if {
	not input.version == 1
}
