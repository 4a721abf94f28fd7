# METADATA
# title: Confirmation of destructive actions
# description: |
#   Destructive actions carry the obligation require_confirmation: the
#   sidecar asks for a confirmation token before it forwards the call.
#   data.bollard.config.confirmation.require_for_destructive turns this off
#   only when it is explicitly false; missing, it stays on.
package bollard.confirmation

default required := false

required if {
	input.action.destructive
	object.get(data.bollard.config, ["confirmation", "require_for_destructive"], true) != false
}
