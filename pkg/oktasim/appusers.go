package oktasim

import (
	"net/http"
	"strings"
	"time"
)

// appUser is a user's assignment to an app, with the app-specific profile
// and credentials.
type appUser struct {
	userID                              string
	created, lastUpdated, statusChanged time.Time
	scope, status                       string
	credentials, profile                map[string]any
}

func (s *Sim) renderAppUser(a *app, au *appUser, base string, embedUser bool) obj {
	o := obj{
		{"id", au.userID},
		{"externalId", nil},
		{"created", ts(au.created)},
		{"lastUpdated", ts(au.lastUpdated)},
		{"scope", au.scope},
		{"status", au.status},
		{"statusChanged", ts(au.statusChanged)},
		{"passwordChanged", nil},
		{"syncState", "DISABLED"},
		{"credentials", mapOr(au.credentials)},
		{"profile", mapOr(au.profile)},
		{"_links", obj{
			{"app", href(base + "/api/v1/apps/" + a.id)},
			{"user", href(base + "/api/v1/users/" + au.userID)},
		}},
	}
	if u := s.users[au.userID]; embedUser && u != nil {
		o = append(o, kv{"_embedded", obj{{"user", s.renderUser(u, base)}}})
	}
	return o
}

func appUserTarget(u *user) target {
	return target{id: u.id, typ: "AppUser", alternateID: u.login(), displayName: u.displayName()}
}

func (s *Sim) listAppUsers(c *call) (int, any, error) {
	a, err := s.appOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	p, err := parsePage(c, appUsersDefault, appUsersMax)
	if err != nil {
		return 0, nil, err
	}
	q := strings.ToLower(c.query.Get("q"))
	var hits []*appUser
	for _, au := range a.users {
		if q != "" {
			u := s.users[au.userID]
			name := strings.ToLower(getString(au.credentials, "userName"))
			if !strings.HasPrefix(name, q) && (u == nil || !u.matchesQ(q)) {
				continue
			}
		}
		hits = append(hits, au)
	}
	sortByID(hits, func(au *appUser) string { return au.userID })
	page, next := pageByID(hits, func(au *appUser) string { return au.userID }, p)
	embed := strings.Contains(c.query.Get("expand"), "user")
	out := make([]obj, len(page))
	for i, au := range page {
		out[i] = s.renderAppUser(a, au, c.base, embed)
	}
	c.setLinks(next)
	return http.StatusOK, out, nil
}

func (s *Sim) assignAppUser(c *call) (int, any, error) {
	a, err := s.appOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	body, err := c.jsonBody()
	if err != nil {
		return 0, nil, err
	}
	uid := getString(body, "id")
	if uid == "" {
		return 0, nil, errValidation("id", "id: The field cannot be left blank")
	}
	u, ok := s.users[uid]
	if !ok {
		return 0, nil, errNotFound(uid, "User")
	}
	if u.status == StatusDeprovisioned {
		return 0, nil, newError(http.StatusForbidden, "E0000117", "Cannot assign apps or update app profiles for an inactive user.")
	}
	if _, dup := a.users[u.id]; dup {
		return 0, nil, newError(http.StatusConflict, CodeAlreadyAssigned, "The specified user is already assigned to the application.")
	}
	au := &appUser{userID: u.id, created: c.now, lastUpdated: c.now, statusChanged: c.now, scope: "USER", status: "ACTIVE",
		credentials: map[string]any{"userName": u.login()}, profile: map[string]any{}}
	if sc := getString(body, "scope"); sc != "" {
		au.scope = sc
	}
	au.apply(body)
	a.users[u.id] = au
	s.record(c, "application.user_membership.add", "Add user to application membership", appUserTarget(u), a.target())
	return http.StatusOK, s.renderAppUser(a, au, c.base, false), nil
}

// apply merges an assignment's credentials and profile from a request.
func (au *appUser) apply(body map[string]any) {
	if creds, ok := getMap(body, "credentials"); ok {
		if name := getString(creds, "userName"); name != "" {
			au.credentials["userName"] = name
		}
	}
	if p, ok := getMap(body, "profile"); ok {
		for k, v := range p {
			au.profile[k] = cloneValue(v)
		}
	}
}

// assignment resolves an app and one of its assigned users by user id.
func (s *Sim) assignment(c *call) (*app, *appUser, *user, error) {
	a, err := s.appOr404(c.param(0))
	if err != nil {
		return nil, nil, nil, err
	}
	au, ok := a.users[c.param(1)]
	u := s.users[c.param(1)]
	if !ok || u == nil {
		return nil, nil, nil, errNotFound(c.param(1), "AppUser")
	}
	return a, au, u, nil
}

func (s *Sim) getAppUser(c *call) (int, any, error) {
	a, au, _, err := s.assignment(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderAppUser(a, au, c.base, strings.Contains(c.query.Get("expand"), "user")), nil
}

func (s *Sim) updateAppUser(c *call) (int, any, error) {
	a, au, u, err := s.assignment(c)
	if err != nil {
		return 0, nil, err
	}
	body, err := c.jsonBody()
	if err != nil {
		return 0, nil, err
	}
	if u.status == StatusDeprovisioned {
		return 0, nil, newError(http.StatusForbidden, "E0000117", "Cannot assign apps or update app profiles for an inactive user.")
	}
	au.apply(body)
	au.lastUpdated = c.now
	s.record(c, "application.user_membership.update", "Update application user", appUserTarget(u), a.target())
	return http.StatusOK, s.renderAppUser(a, au, c.base, false), nil
}

func (s *Sim) unassignAppUser(c *call) (int, any, error) {
	a, _, u, err := s.assignment(c)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.boolQuery("sendEmail", false); err != nil {
		return 0, nil, err
	}
	delete(a.users, u.id)
	s.record(c, "application.user_membership.remove", "Remove user from application membership", appUserTarget(u), a.target())
	return http.StatusNoContent, nil, nil
}
