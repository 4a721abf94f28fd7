package oktasim

import (
	"net/http"
	"strings"
	"time"
)

// Group types. Only OKTA_GROUP groups are managed through the API: app
// groups belong to the import that created them and Everyone to Okta.
const (
	groupOkta    = "OKTA_GROUP"
	groupApp     = "APP_GROUP"
	groupBuiltIn = "BUILT_IN"
)

type group struct {
	id, typ                                     string
	created, lastUpdated, lastMembershipUpdated time.Time
	profile                                     map[string]any
	objectClass                                 []string
	members                                     map[string]bool
	ext                                         obj
}

func (g *group) name() string { return getString(g.profile, "name") }

func (g *group) target() target {
	return target{id: g.id, typ: "UserGroup", alternateID: "unknown", displayName: g.name()}
}

func (s *Sim) renderGroup(g *group, base string, stats bool) obj {
	self := base + "/api/v1/groups/" + g.id
	logo := "okta"
	if g.typ == groupApp {
		logo = "app"
	}
	o := obj{
		{"id", g.id},
		{"created", ts(g.created)},
		{"lastUpdated", ts(g.lastUpdated)},
		{"lastMembershipUpdated", ts(g.lastMembershipUpdated)},
		{"objectClass", g.objectClass},
		{"type", g.typ},
		{"profile", mapOr(g.profile)},
	}
	o = append(o, g.ext...)
	o = append(o, kv{"_links", obj{
		{"logo", []obj{
			{{"name", "medium"}, {"href", base + "/img/logos/groups/" + logo + "-medium.png"}, {"type", "image/png"}},
			{{"name", "large"}, {"href", base + "/img/logos/groups/" + logo + "-large.png"}, {"type", "image/png"}},
		}},
		{"users", href(self + "/users")},
		{"apps", href(self + "/apps")},
	}})
	if stats {
		apps := 0
		for _, a := range s.apps {
			if a.groups[g.id] {
				apps++
			}
		}
		o = append(o, kv{"_embedded", obj{{"stats", obj{
			{"usersCount", len(g.members)}, {"appsCount", apps}, {"groupPushMappingsCount", 0}, {"hasAdminPrivilege", len(s.groupRoles[g.id]) > 0},
		}}}})
	}
	return o
}

func (s *Sim) groupOr404(id string) (*group, error) {
	if g, ok := s.groups[id]; ok {
		return g, nil
	}
	return nil, errNotFound(id, "UserGroup")
}

// everyone is the BUILT_IN group every user belongs to (nil in an unseeded
// org).
func (s *Sim) everyone() *group { return s.groups[SeedGroupEveryone] }

// managed refuses changes to groups the API may not change.
func (g *group) managed() error {
	if g.typ != groupOkta {
		return errForbidden("Only groups of type OKTA_GROUP can be modified.")
	}
	return nil
}

func (s *Sim) addMember(g *group, u *user, now time.Time) bool {
	if g == nil || g.members[u.id] {
		return false
	}
	g.members[u.id] = true
	g.lastMembershipUpdated = now
	return true
}

func (s *Sim) listGroups(c *call) (int, any, error) {
	search, err := parseFilter(c, "search")
	if err != nil {
		return 0, nil, err
	}
	filter, err := parseFilter(c, "filter")
	if err != nil {
		return 0, nil, err
	}
	p, err := parsePage(c, groupsDefault, groupsMax)
	if err != nil {
		return 0, nil, err
	}
	q := strings.ToLower(c.query.Get("q"))
	stats := strings.Contains(c.query.Get("expand"), "stats")
	groups := make([]*group, 0, len(s.groups))
	for _, g := range s.groups {
		if q != "" && !strings.HasPrefix(strings.ToLower(g.name()), q) {
			continue
		}
		if search != nil || filter != nil {
			get := objectGetter(s.renderGroup(g, c.base, false))
			if (search != nil && !search.match(get)) || (filter != nil && !filter.match(get)) {
				continue
			}
		}
		groups = append(groups, g)
	}
	sortByID(groups, func(g *group) string { return g.id })
	page, next := pageByID(groups, func(g *group) string { return g.id }, p)
	out := make([]obj, len(page))
	for i, g := range page {
		out[i] = s.renderGroup(g, c.base, stats)
	}
	c.setLinks(next)
	return http.StatusOK, out, nil
}

func (s *Sim) getGroup(c *call) (int, any, error) {
	g, err := s.groupOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderGroup(g, c.base, strings.Contains(c.query.Get("expand"), "stats")), nil
}

// groupProfile validates a group body: a name is required and unique among
// Okta groups.
func (s *Sim) groupProfile(c *call, selfID string) (map[string]any, error) {
	body, err := c.jsonBody()
	if err != nil {
		return nil, err
	}
	profile, _ := getMap(body, "profile")
	if blank(profile, "name") {
		return nil, errValidation("name", "name: The field cannot be left blank")
	}
	for _, g := range s.groups {
		if g.id != selfID && g.typ == groupOkta && strings.EqualFold(g.name(), getString(profile, "name")) {
			return nil, errValidation("name", "name: An object with this field already exists in the current organization")
		}
	}
	return cloneMap(profile), nil
}

func (s *Sim) createGroup(c *call) (int, any, error) {
	profile, err := s.groupProfile(c, "")
	if err != nil {
		return 0, nil, err
	}
	g := &group{id: s.newID(prefixGroup), typ: groupOkta, created: c.now, lastUpdated: c.now, lastMembershipUpdated: c.now,
		profile: profile, objectClass: []string{"okta:user_group"}, members: map[string]bool{}}
	s.groups[g.id] = g
	s.record(c, "group.lifecycle.create", "Create Okta group", g.target())
	return http.StatusOK, s.renderGroup(g, c.base, false), nil
}

func (s *Sim) replaceGroup(c *call) (int, any, error) {
	g, err := s.groupOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if err := g.managed(); err != nil {
		return 0, nil, err
	}
	profile, err := s.groupProfile(c, g.id)
	if err != nil {
		return 0, nil, err
	}
	g.profile = profile
	g.lastUpdated = c.now
	s.record(c, "group.profile.update", "Update Okta group profile", g.target())
	return http.StatusOK, s.renderGroup(g, c.base, false), nil
}

func (s *Sim) deleteGroup(c *call) (int, any, error) {
	g, err := s.groupOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if err := g.managed(); err != nil {
		return 0, nil, err
	}
	delete(s.groups, g.id)
	delete(s.groupRoles, g.id)
	for _, a := range s.apps {
		delete(a.groups, g.id)
	}
	s.record(c, "group.lifecycle.delete", "Delete Okta group", g.target())
	return http.StatusNoContent, nil, nil
}

func (s *Sim) listGroupMembers(c *call) (int, any, error) {
	g, err := s.groupOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	search, err := parseFilter(c, "search")
	if err != nil {
		return 0, nil, err
	}
	p, err := parsePage(c, membersDefault, membersMax)
	if err != nil {
		return 0, nil, err
	}
	keep := func(u *user) bool {
		return search == nil || search.match(objectGetter(s.renderUser(u, c.base)))
	}
	var page []*user
	var next string
	if len(g.members)*8 >= len(s.userIDs) {
		// A big group (Everyone in a large org): walk the sorted user index
		// from the cursor instead of sorting the whole membership per page.
		page, next = s.scanUsers(p.after, p.limit, func(u *user) bool { return g.members[u.id] && keep(u) })
	} else {
		var members []*user
		for id := range g.members {
			if u := s.users[id]; u != nil && keep(u) {
				members = append(members, u)
			}
		}
		sortByID(members, func(u *user) string { return u.id })
		page, next = pageByID(members, func(u *user) string { return u.id }, p)
	}
	out := make([]obj, len(page))
	for i, u := range page {
		out[i] = s.renderUser(u, c.base)
	}
	c.setLinks(next)
	return http.StatusOK, out, nil
}

// memberTarget resolves the group and user of a membership call. Only user
// ids are accepted here, not logins.
func (s *Sim) memberTarget(c *call) (*group, *user, error) {
	g, err := s.groupOr404(c.param(0))
	if err != nil {
		return nil, nil, err
	}
	u, ok := s.users[c.param(1)]
	if !ok {
		return nil, nil, errNotFound(c.param(1), "User")
	}
	if err := g.managed(); err != nil {
		return nil, nil, err
	}
	return g, u, nil
}

func (s *Sim) addGroupMember(c *call) (int, any, error) {
	g, u, err := s.memberTarget(c)
	if err != nil {
		return 0, nil, err
	}
	if s.addMember(g, u, c.now) {
		s.record(c, "group.user_membership.add", "Add user to group membership", u.target(), g.target())
	}
	return http.StatusNoContent, nil, nil
}

func (s *Sim) removeGroupMember(c *call) (int, any, error) {
	g, u, err := s.memberTarget(c)
	if err != nil {
		return 0, nil, err
	}
	if g.members[u.id] {
		delete(g.members, u.id)
		g.lastMembershipUpdated = c.now
		s.record(c, "group.user_membership.remove", "Remove user from group membership", u.target(), g.target())
	}
	return http.StatusNoContent, nil, nil
}

// listUserGroups is Okta's listUserGroups: the groups a user is a member
// of, Everyone included, in id order. The user may be named by id, login or
// login short name.
func (s *Sim) listUserGroups(c *call) (int, any, error) {
	u, err := s.userOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	p, err := parsePage(c, userGroupsDefault, userGroupsMax)
	if err != nil {
		return 0, nil, err
	}
	var groups []*group
	for _, g := range s.groups {
		if g.members[u.id] {
			groups = append(groups, g)
		}
	}
	sortByID(groups, func(g *group) string { return g.id })
	page, next := pageByID(groups, func(g *group) string { return g.id }, p)
	out := make([]obj, len(page))
	for i, g := range page {
		out[i] = s.renderGroup(g, c.base, false)
	}
	c.setLinks(next)
	return http.StatusOK, out, nil
}
