package catalog

import (
	"maps"
	"slices"
	"strings"
)

// EventTypes are the Okta event hook types Bollard maps to an area: the
// events the catalog's actions fire, and user.session.start, which Okta
// fires at sign-in rather than for an API call.
var EventTypes = []string{
	"user.lifecycle.create",
	"user.lifecycle.deactivate",
	"user.account.update_profile",
	"group.user_membership.add",
	"group.user_membership.remove",
	"application.lifecycle.activate",
	"application.user_membership.add",
	"user.session.start",
}

// eventAreas maps an event type's family (its prefix up to the last dot) to
// the area whose read grant lets an agent see it: lifecycle events to
// user_lifecycle, profile changes to users, memberships to groups, app
// lifecycle to apps, app assignments to app_assignments, sessions to
// sessions. The family, not the action that fires the event, decides:
// users.create fires user.lifecycle.create, a lifecycle event.
var eventAreas = map[string]string{
	"user.lifecycle":              "user_lifecycle",
	"user.account":                "users",
	"group.user_membership":       "groups",
	"application.lifecycle":       "apps",
	"application.user_membership": "app_assignments",
	"user.session":                "sessions",
}

// EventArea returns the area an event type belongs to. Types Bollard does
// not map belong to the System Log area, logs, with known false: any event
// is a System Log event, and an agent that may read the log may see it.
func EventArea(eventType string) (area string, known bool) {
	if i := strings.LastIndexByte(eventType, '.'); i > 0 {
		if a, ok := eventAreas[eventType[:i]]; ok {
			return a, true
		}
	}
	return "logs", false
}

// EventAreas lists the areas whose read grant lets an agent see some
// event: every area an event type maps to, and logs. Sorted.
func EventAreas() []string {
	seen := map[string]bool{"logs": true}
	for _, a := range eventAreas {
		seen[a] = true
	}
	return slices.Sorted(maps.Keys(seen))
}
