package oktasim

import (
	"net/http"
	"time"
)

// sessionIdle is how far a refresh pushes expiresAt out: Okta extends a
// session by the idle lifetime of the sign-on policy (two hours by default).
const sessionIdle = 2 * time.Hour

type session struct {
	id, userID, status                               string
	createdAt, expiresAt                             time.Time
	lastPasswordVerification, lastFactorVerification time.Time
	amr                                              []string
	mfaActive                                        bool
}

func (s *Sim) renderSession(ss *session, base string) obj {
	login := ""
	if u := s.users[ss.userID]; u != nil {
		login = u.login()
	}
	self := base + "/api/v1/sessions/" + ss.id
	return obj{
		{"id", ss.id},
		{"userId", ss.userID},
		{"login", login},
		{"createdAt", ts(ss.createdAt)},
		{"expiresAt", ts(ss.expiresAt)},
		{"status", ss.status},
		{"lastPasswordVerification", tsOrNull(ss.lastPasswordVerification)},
		{"lastFactorVerification", tsOrNull(ss.lastFactorVerification)},
		{"amr", append([]string{}, ss.amr...)},
		{"idp", obj{{"id", oktaIdPID}, {"type", "OKTA"}}},
		// mfaActive is in Okta's responses but not in its SDK's Session model.
		{"mfaActive", ss.mfaActive},
		{"_links", obj{
			{"self", hrefHints(self, "GET", "DELETE")},
			{"refresh", hrefHints(self+"/lifecycle/refresh", "POST")},
			{"user", obj{{"name", login}, {"href", base + "/api/v1/users/" + ss.userID}, {"hints", obj{{"allow", []string{"GET"}}}}}},
		}},
	}
}

// sessionOr404 finds a live session; an expired one is gone, as in Okta.
func (s *Sim) sessionOr404(id string, now time.Time) (*session, error) {
	ss, ok := s.sessions[id]
	if !ok || !ss.expiresAt.After(now) {
		return nil, errNotFound(id, "Session")
	}
	return ss, nil
}

func (ss *session) target(s *Sim) target {
	t := target{id: ss.id, typ: "Session", alternateID: "unknown", displayName: "unknown"}
	if u := s.users[ss.userID]; u != nil {
		t.alternateID = u.login()
		t.displayName = u.displayName()
	}
	return t
}

func (s *Sim) getSession(c *call) (int, any, error) {
	ss, err := s.sessionOr404(c.param(0), c.now)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderSession(ss, c.base), nil
}

func (s *Sim) refreshSession(c *call) (int, any, error) {
	ss, err := s.sessionOr404(c.param(0), c.now)
	if err != nil {
		return 0, nil, err
	}
	ss.expiresAt = c.now.Add(sessionIdle)
	s.record(c, "user.session.refresh", "Refresh user session", ss.target(s))
	return http.StatusOK, s.renderSession(ss, c.base), nil
}

func (s *Sim) revokeSession(c *call) (int, any, error) {
	ss, err := s.sessionOr404(c.param(0), c.now)
	if err != nil {
		return 0, nil, err
	}
	t := ss.target(s)
	delete(s.sessions, ss.id)
	s.record(c, "user.session.end", "User logout from Okta", t)
	return http.StatusNoContent, nil, nil
}

// endUserSessions signs a user out everywhere.
func (s *Sim) endUserSessions(userID string) {
	for id, ss := range s.sessions {
		if ss.userID == userID {
			delete(s.sessions, id)
		}
	}
}
