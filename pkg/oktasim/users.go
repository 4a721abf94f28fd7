package oktasim

import (
	"net/http"
	"strings"
	"time"
)

// User statuses, as Okta names them.
const (
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
	StatusActive          = "ACTIVE"
	StatusRecovery        = "RECOVERY"
	StatusLockedOut       = "LOCKED_OUT"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusSuspended       = "SUSPENDED"
	StatusDeprovisioned   = "DEPROVISIONED"
)

type user struct {
	id, status                              string
	created, activated, statusChanged       time.Time
	lastLogin, lastUpdated, passwordChanged time.Time
	profile                                 map[string]any
	hasPassword                             bool
	recoveryQuestion                        string
	provider                                string // OKTA, FEDERATION, ...
	ext                                     obj    // fields Okta's SDK models lack (seed data)
}

func (u *user) login() string { return getString(u.profile, "login") }

func (u *user) displayName() string {
	return strings.TrimSpace(getString(u.profile, "firstName") + " " + getString(u.profile, "lastName"))
}

func (u *user) target() target {
	return target{id: u.id, typ: "User", alternateID: u.login(), displayName: u.displayName()}
}

// setStatus moves a user to a new status; Okta stamps statusChanged and
// lastUpdated on every transition and never leaves transitioningToStatus set
// once a synchronous call returns.
func (u *user) setStatus(status string, now time.Time) {
	u.status = status
	u.statusChanged = now
	u.lastUpdated = now
	if status == StatusActive && u.activated.IsZero() {
		u.activated = now
	}
}

func (s *Sim) renderUser(u *user, base string) obj {
	creds := obj{}
	if u.hasPassword {
		creds = append(creds, kv{"password", obj{}})
	}
	// emails is in every real response but not in Okta's typed SDK models.
	if email := getString(u.profile, "email"); email != "" {
		creds = append(creds, kv{"emails", []obj{{{"value", email}, {"status", "VERIFIED"}, {"type", "PRIMARY"}}}})
	}
	if u.recoveryQuestion != "" {
		creds = append(creds, kv{"recovery_question", obj{{"question", u.recoveryQuestion}}})
	}
	creds = append(creds, kv{"provider", obj{{"type", u.provider}, {"name", u.provider}}})

	o := obj{
		{"id", u.id},
		{"status", u.status},
		{"created", ts(u.created)},
		{"activated", tsOrNull(u.activated)},
		{"statusChanged", tsOrNull(u.statusChanged)},
		{"lastLogin", tsOrNull(u.lastLogin)},
		{"lastUpdated", ts(u.lastUpdated)},
		{"passwordChanged", tsOrNull(u.passwordChanged)},
		{"type", obj{{"id", defaultUserTypeID}}},
		{"profile", mapOr(u.profile)},
		{"credentials", creds},
	}
	o = append(o, u.ext...)
	return append(o, kv{"_links", userLinks(u, base)})
}

// userLinks advertises the lifecycle operations valid in the user's status,
// as Okta does.
func userLinks(u *user, base string) obj {
	self := base + "/api/v1/users/" + u.id
	var o obj
	op := func(name string) { o = append(o, kv{name, hrefMethod(self+"/lifecycle/"+name, "POST")}) }
	switch u.status {
	case StatusStaged, StatusDeprovisioned:
		op("activate")
	case StatusProvisioned:
		op("reactivate")
	case StatusActive:
		op("suspend")
	case StatusSuspended:
		op("unsuspend")
	case StatusLockedOut:
		op("unlock")
	}
	if u.status != StatusDeprovisioned {
		op("deactivate")
	}
	return append(o,
		kv{"schema", href(base + "/api/v1/meta/schemas/user/" + userSchemaID)},
		kv{"type", href(base + "/api/v1/meta/types/user/" + defaultUserTypeID)},
		kv{"self", href(self)},
	)
}

// resolveUser finds a user by id, login or login short name (the part
// before the @), the three forms Okta accepts in /api/v1/users/{id}. Short
// names are rare and have no index: they are looked for in id order, which
// a reference with an @ cannot be.
func (s *Sim) resolveUser(ref string) *user {
	if u, ok := s.users[ref]; ok {
		return u
	}
	if u := s.userByLogin(ref); u != nil {
		return u
	}
	if strings.Contains(ref, "@") {
		return nil
	}
	for _, id := range s.userIDs {
		u := s.users[id]
		if short, _, ok := strings.Cut(u.login(), "@"); ok && strings.EqualFold(short, ref) {
			return u
		}
	}
	return nil
}

func (s *Sim) userOr404(ref string) (*user, error) {
	if u := s.resolveUser(ref); u != nil {
		return u, nil
	}
	return nil, errNotFound(ref, "User")
}

// matchesQ is Okta's q: a prefix of the first name, last name or email.
func (u *user) matchesQ(q string) bool {
	q = strings.ToLower(q)
	for _, f := range []string{"firstName", "lastName", "email", "login"} {
		if strings.HasPrefix(strings.ToLower(getString(u.profile, f)), q) {
			return true
		}
	}
	return false
}

func (s *Sim) listUsers(c *call) (int, any, error) {
	search, err := parseFilter(c, "search")
	if err != nil {
		return 0, nil, err
	}
	filter, err := parseFilter(c, "filter")
	if err != nil {
		return 0, nil, err
	}
	q := c.query.Get("q")
	def := usersDefault
	if q != "" {
		def = usersQueryDefault
	}
	p, err := parsePage(c, def, usersMax)
	if err != nil {
		return 0, nil, err
	}
	page, next := s.scanUsers(p.after, p.limit, func(u *user) bool {
		// Okta leaves deactivated users out of a plain listing; a search or
		// filter decides for itself (status eq "DEPROVISIONED").
		if search == nil && filter == nil && u.status == StatusDeprovisioned {
			return false
		}
		if q != "" && !u.matchesQ(q) {
			return false
		}
		if search != nil || filter != nil {
			get := objectGetter(s.renderUser(u, c.base))
			if (search != nil && !search.match(get)) || (filter != nil && !filter.match(get)) {
				return false
			}
		}
		return true
	})
	out := make([]obj, len(page))
	for i, u := range page {
		out[i] = s.renderUser(u, c.base)
	}
	c.setLinks(next)
	return http.StatusOK, out, nil
}

func (s *Sim) getUser(c *call) (int, any, error) {
	u, err := s.userOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderUser(u, c.base), nil
}

// validateProfile applies the rules of Okta's default user schema: login,
// email, firstName and lastName are required, login looks like an email
// address and is unique in the org (deactivated users included).
func (s *Sim) validateProfile(profile map[string]any, selfID string) error {
	var causes []string
	first := ""
	fail := func(field, msg string) {
		if first == "" {
			first = field
		}
		causes = append(causes, field+": "+msg)
	}
	for _, f := range []string{"login", "email", "firstName", "lastName"} {
		if blank(profile, f) {
			fail(f, "The field cannot be left blank")
		}
	}
	if login := getString(profile, "login"); login != "" {
		if !strings.Contains(login, "@") {
			fail("login", "Username must be in the form of an email address")
		}
		if other := s.userByLogin(login); other != nil && other.id != selfID {
			fail("login", "An object with this field already exists in the current organization")
		}
	}
	if email := getString(profile, "email"); email != "" && !strings.Contains(email, "@") {
		fail("email", "Does not match required pattern")
	}
	if first != "" {
		return errValidation(first, causes...)
	}
	return nil
}

// applyCredentials takes a password and recovery question from a request's
// credentials block. The password itself is not kept: Okta never returns it.
func (u *user) applyCredentials(body map[string]any, now time.Time) bool {
	creds, ok := getMap(body, "credentials")
	if !ok {
		return false
	}
	changed := false
	if pw, ok := getMap(creds, "password"); ok && (getString(pw, "value") != "" || pw["hash"] != nil) {
		u.hasPassword = true
		u.passwordChanged = now
		changed = true
	}
	if rq, ok := getMap(creds, "recovery_question"); ok && getString(rq, "question") != "" {
		u.recoveryQuestion = getString(rq, "question")
		changed = true
	}
	return changed
}

func (s *Sim) createUser(c *call) (int, any, error) {
	body, err := c.jsonBody()
	if err != nil {
		return 0, nil, err
	}
	activate, err := c.boolQuery("activate", true)
	if err != nil {
		return 0, nil, err
	}
	federated, err := c.boolQuery("provider", false)
	if err != nil {
		return 0, nil, err
	}
	nextLogin := c.query.Get("nextLogin")
	if nextLogin != "" && nextLogin != "changePassword" {
		return 0, nil, errValidation("nextLogin", "nextLogin: The value must be changePassword.")
	}
	profile, _ := getMap(body, "profile")
	if err := s.validateProfile(profile, ""); err != nil {
		return 0, nil, err
	}
	var groups []*group
	if ids, ok := body["groupIds"].([]any); ok {
		for _, v := range ids {
			id, _ := v.(string)
			g := s.groups[id]
			if g == nil || g.typ != groupOkta {
				return 0, nil, errValidation("groupIds", "groupIds: Group "+id+" does not exist or is not an Okta group.")
			}
			groups = append(groups, g)
		}
	}

	u := &user{id: s.newID(prefixUser), status: StatusStaged, created: c.now, lastUpdated: c.now,
		profile: cloneMap(profile), provider: "OKTA"}
	u.applyCredentials(body, c.now)
	if nextLogin != "" {
		if !activate {
			return 0, nil, newError(http.StatusBadRequest, "E0000125", `Could not create user. To create a user and expire their password immediately, "activate" must be true`)
		}
		if !u.hasPassword {
			return 0, nil, newError(http.StatusBadRequest, "E0000124", "Could not create user. To create a user and expire their password immediately, a password must be specified")
		}
	}
	switch {
	case federated:
		u.provider = "FEDERATION"
		if activate {
			u.setStatus(StatusActive, c.now)
		}
	case activate && nextLogin != "":
		u.setStatus(StatusPasswordExpired, c.now)
		u.activated = c.now
	case activate && u.hasPassword:
		u.setStatus(StatusActive, c.now)
	case activate:
		// Without a password the user must finish activation by email.
		u.setStatus(StatusProvisioned, c.now)
	}
	s.putUser(u)
	s.addMember(s.everyone(), u, c.now)
	for _, g := range groups {
		s.addMember(g, u, c.now)
	}
	s.record(c, "user.lifecycle.create", "Create Okta user", u.target())
	if u.status != StatusStaged {
		s.record(c, "user.lifecycle.activate", "Activate Okta user", u.target())
	}
	return http.StatusOK, s.renderUser(u, c.base), nil
}

// updateUser is Okta's POST: a partial update that merges the profile.
func (s *Sim) updateUser(c *call) (int, any, error) {
	return s.changeUser(c, false)
}

// replaceUser is Okta's PUT: the profile is replaced and unset fields are
// cleared; credentials not sent are kept.
func (s *Sim) replaceUser(c *call) (int, any, error) {
	return s.changeUser(c, true)
}

func (s *Sim) changeUser(c *call, replace bool) (int, any, error) {
	u, err := s.userOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	body, err := c.jsonBody()
	if err != nil {
		return 0, nil, err
	}
	if _, ok := c.query["strict"]; ok {
		if _, err := c.boolQuery("strict", false); err != nil {
			return 0, nil, err
		}
	}
	patch, hasProfile := getMap(body, "profile")
	if body["profile"] != nil && !hasProfile {
		return 0, nil, errMalformed()
	}
	var profile map[string]any
	switch {
	case replace:
		profile = cloneMap(patch)
	case hasProfile:
		profile = cloneMap(u.profile)
		for k, v := range patch {
			profile[k] = cloneValue(v)
		}
	}
	if profile != nil || replace {
		if err := s.validateProfile(profile, u.id); err != nil {
			return 0, nil, err
		}
		s.setProfile(u, profile)
		s.record(c, "user.account.update_profile", "Update user profile for Okta", u.target())
	}
	if u.applyCredentials(body, c.now) {
		s.record(c, "user.account.update_password", "Update password for user", u.target())
	}
	u.lastUpdated = c.now
	return http.StatusOK, s.renderUser(u, c.base), nil
}

// deleteUser follows Okta: a user that is not DEPROVISIONED is deactivated
// by the first DELETE; a second DELETE removes it for good.
func (s *Sim) deleteUser(c *call) (int, any, error) {
	u, err := s.userOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.boolQuery("sendEmail", false); err != nil {
		return 0, nil, err
	}
	if u.status != StatusDeprovisioned {
		s.deactivate(c, u)
		return http.StatusNoContent, nil, nil
	}
	s.removeUser(u)
	s.record(c, "user.lifecycle.delete.completed", "Delete Okta user", u.target())
	return http.StatusNoContent, nil, nil
}

// removeUser drops a user and everything that hangs off it.
func (s *Sim) removeUser(u *user) {
	s.dropUser(u)
	delete(s.userRoles, u.id)
	for _, g := range s.groups {
		delete(g.members, u.id)
	}
	for _, a := range s.apps {
		delete(a.users, u.id)
	}
	for id, f := range s.factors {
		if f.userID == u.id {
			delete(s.factors, id)
		}
	}
	for id, ss := range s.sessions {
		if ss.userID == u.id {
			delete(s.sessions, id)
		}
	}
}
