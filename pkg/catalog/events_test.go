package catalog

import (
	"slices"
	"testing"
)

func TestEventArea(t *testing.T) {
	for typ, want := range map[string]string{
		"user.lifecycle.create":           "user_lifecycle",
		"user.lifecycle.deactivate":       "user_lifecycle",
		"user.account.update_profile":     "users",
		"group.user_membership.add":       "groups",
		"group.user_membership.remove":    "groups",
		"application.lifecycle.activate":  "apps",
		"application.user_membership.add": "app_assignments",
		"user.session.start":              "sessions",
	} {
		if got, known := EventArea(typ); got != want || !known {
			t.Errorf("EventArea(%q) = %q, %v; want %q", typ, got, known, want)
		}
	}
	for _, typ := range []string{"policy.lifecycle.update", "user", "", ".", "user.lifecycle", "user.session.start.extra.x"} {
		if got, known := EventArea(typ); got != "logs" || known {
			t.Errorf("EventArea(%q) = %q, %v; want logs, unknown", typ, got, known)
		}
	}
}

// Every event an action fires is mapped, to an area that exists, and is
// listed in EventTypes.
func TestEveryCatalogEventIsMapped(t *testing.T) {
	for _, a := range Actions() {
		if a.Event == "" {
			continue
		}
		area, known := EventArea(a.Event)
		if !known {
			t.Errorf("%s fires %s, which has no area", a.Name, a.Event)
		}
		if _, ok := LookupArea(area); !ok {
			t.Errorf("%s maps to unknown area %s", a.Event, area)
		}
		if !slices.Contains(EventTypes, a.Event) {
			t.Errorf("%s fires %s, which EventTypes lacks", a.Name, a.Event)
		}
	}
	for _, typ := range EventTypes {
		if _, known := EventArea(typ); !known {
			t.Errorf("EventTypes lists %s, which has no area", typ)
		}
	}
}
