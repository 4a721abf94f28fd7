package oktasim

import (
	"fmt"
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

// signInAgent is the browser a simulated sign-in comes from.
const signInAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

// StartSession signs a user in, as if through Okta's sign-in page: there is
// no Management API call for that, so tests and dev mode call this. The
// user (an id or a login) must be ACTIVE. It creates a session that lasts
// the idle lifetime, stamps the user's lastLogin, and records
// user.session.start with the user as actor (and so delivers it to hooks
// that subscribe). It returns the session id.
func (s *Sim) StartSession(user string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.resolveUser(user)
	if u == nil {
		return "", fmt.Errorf("oktasim: no user %q", user)
	}
	if u.status != StatusActive {
		return "", fmt.Errorf("oktasim: user %s is %s; only an ACTIVE user can sign in", u.id, u.status)
	}
	return s.openSession(u, eventSpec{reqID: s.nextRequestID(), ip: "127.0.0.1", agent: signInAgent, uri: "/api/v1/authn"}, s.now()).id, nil
}

// openSession signs an ACTIVE user in with their password: a session
// that lasts the idle lifetime, the user's lastLogin, and a
// user.session.start event with the request's id, IP, user agent and URI
// from where. Callers hold s.mu.
func (s *Sim) openSession(u *user, where eventSpec, now time.Time) *session {
	ss := &session{id: "102" + s.marker + s.objectIDs.chars(22), userID: u.id, status: "ACTIVE", createdAt: now,
		expiresAt: now.Add(sessionIdle), lastPasswordVerification: now, amr: []string{"pwd"}}
	s.sessions[ss.id] = ss
	u.lastLogin = now
	e := where
	e.eventType, e.message, e.severity, e.result = "user.session.start", "User login to Okta", "INFO", "SUCCESS"
	e.actor, e.published, e.sessionID = u.target(), now, ss.id
	s.appendEvent(e)
	return ss
}
