package policies_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the sidecar binary embeds the zone database too

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/shape"
)

// The sample data is what dev mode runs with and what docs/policies.md
// shows: these tests catch typos and shapes the policies would refuse.
// `sidecar policy lint` checks users' own data the same way.

func lookupActions(t *testing.T, where string, names []string) {
	t.Helper()
	for _, n := range names {
		if _, ok := catalog.Lookup(n); !ok {
			t.Errorf("%s: unknown action %q", where, n)
		}
	}
}

// TestGrantsData: every area is a catalog area, every level read or
// manage, every action in the action lists a catalog action. The dev-mode
// demo relies on the three sample agents.
func TestGrantsData(t *testing.T) {
	var g struct {
		Agents  map[string]map[string]string `json:"agents"`
		Actions map[string]struct {
			Allow []string `json:"allow"`
			Deny  []string `json:"deny"`
		} `json:"actions"`
	}
	readJSON(t, "grants.json", "grants", &g)
	for _, id := range []string{"reader-bot", "helpdesk-bot", "provisioner-bot"} {
		if _, ok := g.Agents[id]; !ok {
			t.Errorf("sample agent %q missing", id)
		}
	}
	for id, areas := range g.Agents {
		for area, level := range areas {
			if _, ok := catalog.LookupArea(area); !ok {
				t.Errorf("agent %q: unknown area %q", id, area)
			}
			if level != string(catalog.Read) && level != string(catalog.Manage) {
				t.Errorf("agent %q area %q: level %q is neither read nor manage", id, area, level)
			}
		}
	}
	if got := len(g.Agents["reader-bot"]); got != len(catalog.Areas()) {
		t.Errorf("reader-bot has %d areas, want all %d", got, len(catalog.Areas()))
	}
	for id, lists := range g.Actions {
		lookupActions(t, "grants.actions."+id+".allow", lists.Allow)
		lookupActions(t, "grants.actions."+id+".deny", lists.Deny)
	}
}

func TestBusinessHoursData(t *testing.T) {
	var bh struct {
		Enabled      bool     `json:"enabled"`
		Timezone     string   `json:"timezone"`
		Days         []string `json:"days"`
		Start        string   `json:"start"`
		End          string   `json:"end"`
		Holidays     []string `json:"holidays"`
		ExemptAgents []string `json:"exempt_agents"`
	}
	readJSON(t, "business_hours.json", "business_hours", &bh)
	if _, err := time.LoadLocation(bh.Timezone); err != nil || bh.Timezone == "" {
		t.Errorf("timezone %q: %v", bh.Timezone, err)
	}
	var weekdays []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		weekdays = append(weekdays, d.String())
	}
	for _, d := range bh.Days {
		if !slices.Contains(weekdays, d) {
			t.Errorf("day %q is not a weekday name as time.weekday returns it", d)
		}
	}
	// The policy compares the clock as text, which needs zero-padded HH:MM.
	hhmm := regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	if !hhmm.MatchString(bh.Start) {
		t.Errorf("start %q is not zero-padded HH:MM", bh.Start)
	}
	if !hhmm.MatchString(bh.End) && bh.End != "24:00" {
		t.Errorf("end %q is not zero-padded HH:MM or 24:00", bh.End)
	}
	if bh.Start >= bh.End {
		t.Errorf("start %q is not before end %q", bh.Start, bh.End)
	}
	// The policy compares dates as text: they must be exactly YYYY-MM-DD.
	for _, d := range bh.Holidays {
		if p, err := time.Parse(time.DateOnly, d); err != nil || p.Format(time.DateOnly) != d {
			t.Errorf("holiday %q is not a YYYY-MM-DD date", d)
		}
	}
	if !slices.Contains(bh.ExemptAgents, "helpdesk-bot") {
		t.Error("helpdesk-bot (on call) must be exempt")
	}
}

// TestProtectedData: ids look like Okta ids of their kind, roles are Okta
// role types, every entry says why. The sample protects the simulator's
// admin group and admin, so dev mode shows the rule, and leaves its other
// users alone.
func TestProtectedData(t *testing.T) {
	var p struct {
		Users      map[string]string `json:"users"`
		Groups     map[string]string `json:"groups"`
		AdminRoles []string          `json:"admin_roles"`
		Apps       map[string]string `json:"apps"`
		Policies   map[string]string `json:"policies"`
		// Exempt lists per agent the actions it may take on protected
		// objects.
		Exempt map[string][]string `json:"exempt"`
	}
	readJSON(t, "protected.json", "protected", &p)
	if p.Exempt == nil {
		t.Error("protected.exempt is missing: an empty object says no agent is exempt")
	}
	for agent, names := range p.Exempt {
		lookupActions(t, "protected.exempt."+agent, names)
	}
	for kind, ids := range map[string]struct {
		prefix string
		m      map[string]string
	}{"users": {"00u", p.Users}, "groups": {"00g", p.Groups}, "apps": {"0oa", p.Apps}, "policies": {"00p", p.Policies}} {
		if len(ids.m) == 0 {
			t.Errorf("protected.%s is empty", kind)
		}
		for id, why := range ids.m {
			if !strings.HasPrefix(id, ids.prefix) || len(id) < 19 {
				t.Errorf("protected.%s: %q does not look like an Okta id starting %s", kind, id, ids.prefix)
			}
			if strings.TrimSpace(why) == "" {
				t.Errorf("protected.%s: %q does not say why", kind, id)
			}
		}
	}
	roles := []string{"SUPER_ADMIN", "ORG_ADMIN", "APP_ADMIN", "USER_ADMIN", "HELP_DESK_ADMIN", "READ_ONLY_ADMIN",
		"MOBILE_ADMIN", "API_ACCESS_MANAGEMENT_ADMIN", "REPORT_ADMIN", "GROUP_MEMBERSHIP_ADMIN", "CUSTOM"}
	for _, r := range p.AdminRoles {
		if !slices.Contains(roles, r) {
			t.Errorf("protected.admin_roles: %q is not an Okta admin role type", r)
		}
	}
	if _, ok := p.Groups[oktasim.SeedGroupOktaAdmins]; !ok {
		t.Error("the simulator's Okta Admins group is not protected: dev mode would not show the rule")
	}
	if _, ok := p.Users[oktasim.SeedUserAlice]; ok {
		t.Error("the simulator's ordinary users must stay unprotected, so dev mode can show allowed calls")
	}
}

func TestImpactLimitsData(t *testing.T) {
	var il struct {
		Default map[string]int            `json:"default"`
		Agents  map[string]map[string]int `json:"agents"`
	}
	readJSON(t, "impact_limits.json", "impact_limits", &il)
	check := func(who string, limits map[string]int) {
		for w, n := range limits {
			if w != "hour" && w != "day" {
				t.Errorf("impact limits of %s: unknown window %q (hour or day)", who, w)
			}
			if n < 0 {
				t.Errorf("impact limits of %s: %s limit %d is negative", who, w, n)
			}
		}
	}
	if il.Default == nil {
		t.Error("impact_limits.default is missing")
	}
	check("default", il.Default)
	for id, limits := range il.Agents {
		check(id, limits)
	}
}

// TestReadShapingData: the default cap covers every area with a paginated
// action (a read with no cap is refused), every cap is a positive integer
// for a catalog area, and every list of fields is one the sidecar accepts.
func TestReadShapingData(t *testing.T) {
	var rs struct {
		PageSize struct {
			Default map[string]int            `json:"default"`
			Agents  map[string]map[string]int `json:"agents"`
		} `json:"page_size"`
		RemoveFields struct {
			Default []string            `json:"default"`
			Agents  map[string][]string `json:"agents"`
		} `json:"remove_fields"`
		Logs struct {
			MaxWindowHours struct {
				Default float64            `json:"default"`
				Agents  map[string]float64 `json:"agents"`
			} `json:"max_window_hours"`
		} `json:"logs"`
	}
	readJSON(t, "read_shaping.json", "read_shaping", &rs)
	paginated := map[string]bool{}
	for _, a := range catalog.Actions() {
		if a.Paginated() {
			paginated[a.Area] = true
		}
	}
	for area := range paginated {
		if rs.PageSize.Default[area] <= 0 {
			t.Errorf("page_size.default has no cap for area %q, which has paginated actions", area)
		}
	}
	check := func(who string, caps map[string]int) {
		for area, n := range caps {
			if !paginated[area] {
				t.Errorf("page size for %s: area %q has no paginated action", who, area)
			}
			if n <= 0 {
				t.Errorf("page size for %s on %q: %d is not positive", who, area, n)
			}
		}
	}
	check("default", rs.PageSize.Default)
	for id, caps := range rs.PageSize.Agents {
		check(id, caps)
	}
	if rs.RemoveFields.Default == nil || rs.RemoveFields.Agents == nil {
		t.Error("remove_fields needs default and agents")
	}
	lists := map[string][]string{"default": rs.RemoveFields.Default}
	for id, l := range rs.RemoveFields.Agents {
		lists[id] = l
	}
	for who, l := range lists {
		if _, err := shape.NewRemover(l); err != nil {
			t.Errorf("remove_fields of %s: %v", who, err)
		}
	}
	if rs.Logs.MaxWindowHours.Default <= 0 || rs.Logs.MaxWindowHours.Agents == nil {
		t.Error("logs.max_window_hours needs a positive default and agents")
	}
	for id, h := range rs.Logs.MaxWindowHours.Agents {
		if h <= 0 {
			t.Errorf("logs.max_window_hours of %s: %v is not positive", id, h)
		}
	}
}

func TestConfirmationData(t *testing.T) {
	var c struct {
		RequireForDestructive bool     `json:"require_for_destructive"`
		ManageAgents          []string `json:"manage_agents"`
	}
	readJSON(t, "confirmation.json", "confirmation", &c)
	if !c.RequireForDestructive {
		t.Error("the sample must require confirmation for destructive actions")
	}
	for _, id := range c.ManageAgents {
		if id == "" {
			t.Error("manage_agents: empty agent id")
		}
	}
}
