package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"sync"
	"time"

	"github.com/bollard-dev/bollard/pkg/approvers"
)

// session is a person signed in: who their token said they are, until
// when, and the token their forms must carry.
type session struct {
	who     approvers.Approver
	csrf    string
	expires time.Time
}

// sessions are held in memory, keyed by the SHA-256 of the cookie's value
// (so that a lookup's timing says nothing of another session's id).
type sessions struct {
	mu   sync.Mutex
	byID map[[32]byte]*session
	max  int
	now  func() time.Time
}

func newSessions(max int, now func() time.Time) *sessions {
	return &sessions{byID: map[[32]byte]*session{}, max: max, now: now}
}

// add opens a session for who, until their token's exp (at most
// maxSessionAge), and returns its id. When full, the expired sessions
// go, then the one that would expire first.
func (s *sessions) add(who approvers.Approver) (string, *session) {
	id := rand.Text()
	now := s.now()
	sess := &session{who: who, csrf: rand.Text(), expires: who.Expires}
	if limit := now.Add(maxSessionAge); sess.expires.After(limit) {
		sess.expires = limit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= s.max {
		var soonest [32]byte
		var first time.Time
		for k, v := range s.byID {
			if !v.expires.After(now) {
				delete(s.byID, k)
			} else if first.IsZero() || v.expires.Before(first) {
				soonest, first = k, v.expires
			}
		}
		if len(s.byID) >= s.max {
			delete(s.byID, soonest)
		}
	}
	s.byID[sha256.Sum256([]byte(id))] = sess
	return id, sess
}

// get is the live session of an id; an expired one is dropped.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byID[key]
	if sess == nil {
		return nil
	}
	if !sess.expires.After(s.now()) {
		delete(s.byID, key)
		return nil
	}
	return sess
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, sha256.Sum256([]byte(id)))
}

func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

// login is a sign-in under way: the PKCE verifier, where to go after, and
// the hash of the pre-login cookie that binds it to the browser that
// started it.
type login struct {
	binding  [32]byte
	verifier string
	next     string
	expires  time.Time
}

// logins are the sign-ins under way, by state: single-use, expiring,
// bounded (the oldest dropped when full: a flood of sign-ins can only
// make people start theirs again).
type logins struct {
	mu    sync.Mutex
	m     map[string]*login
	order []string // states, oldest first (some may be gone already)
	max   int
	now   func() time.Time
}

func newLogins(max int, now func() time.Time) *logins {
	return &logins{m: map[string]*login{}, max: max, now: now}
}

func (l *logins) add(state string, in *login) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.m) >= l.max && len(l.order) > 0 {
		delete(l.m, l.order[0])
		l.order = l.order[1:]
	}
	if len(l.order) > 4*l.max { // states taken by their callbacks
		kept := l.order[:0]
		for _, st := range l.order {
			if l.m[st] != nil {
				kept = append(kept, st)
			}
		}
		l.order = kept
	}
	l.m[state] = in
	l.order = append(l.order, state)
}

// take removes the sign-in of a state and returns it, unless it expired
// or the cookie does not match.
func (l *logins) take(state, cookie string) *login {
	l.mu.Lock()
	in := l.m[state]
	delete(l.m, state)
	l.mu.Unlock()
	if in == nil || !in.expires.After(l.now()) {
		return nil
	}
	sum := sha256.Sum256([]byte(cookie))
	if subtle.ConstantTimeCompare(sum[:], in.binding[:]) != 1 {
		return nil
	}
	return in
}

// session is the request's live session, or nil.
func (c *Console) session(r *http.Request) (string, *session) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return "", nil
	}
	return ck.Value, c.sessions.get(ck.Value)
}

func (c *Console) setSessionCookie(w http.ResponseWriter, id string, sess *session) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: max(1, int(sess.expires.Sub(c.cfg.Now()).Seconds()))})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// The pre-login cookie is Lax: it must come back on the identity
// provider's redirect to the callback, a navigation from another site.
func setLoginCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: LoginCookie, Value: value, Path: CallbackPath, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(loginTTL / time.Second)})
}

func clearLoginCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: LoginCookie, Value: "", Path: CallbackPath, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// checkPost is the gate of every POST: same origin when the browser says,
// a live session, and the session's CSRF token in the form, compared in
// constant time. It answers 403 itself and returns nil when any fails.
func (c *Console) checkPost(w http.ResponseWriter, r *http.Request) (string, *session) {
	if !c.sameOrigin(r) {
		c.log.Warn("console: cross-site POST refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"),
			"sec_fetch_site", r.Header.Get("Sec-Fetch-Site"))
		c.render(w, r, http.StatusForbidden, "message", &view{Title: "Refused", Message: "This request did not come from the console's own page, and was refused."})
		return "", nil
	}
	id, sess := c.session(r)
	if sess == nil {
		c.render(w, r, http.StatusForbidden, "message", &view{Title: "Signed out",
			Message: "Your session has ended, so nothing was done. Sign in again.", SignIn: true})
		return "", nil
	}
	if err := r.ParseForm(); err != nil {
		c.render(w, r, http.StatusBadRequest, "message", &view{Title: "Bad request", Message: "The form could not be read."})
		return "", nil
	}
	if tok := r.PostForm.Get("csrf"); tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(sess.csrf)) != 1 {
		c.log.Warn("console: POST without the session's CSRF token refused", "path", r.URL.Path, "approver", sess.who.Subject)
		c.render(w, r, http.StatusForbidden, "message", &view{Title: "Refused",
			Message: "This form was not the console's own (its CSRF token is missing or wrong), and was refused. Reload the page and try again."})
		return "", nil
	}
	return id, sess
}
