package oktasim

import (
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"time"
)

// PeopleSessionCookie is the cookie by which the people's authorization
// server remembers a browser that signed in, as Okta's session cookie
// does: while its session lives, /v1/authorize sends that browser back to
// the client with a code without asking for the person again (single
// sign-on), until /v1/logout, the session's end (the idle lifetime), its
// revocation through the Sessions API, or the user's deactivation or
// suspension. HttpOnly, Secure, SameSite=Lax (it must come on the
// client's top-level redirect), Path PeopleAuthServerPath; its value is a
// random token, kept by the simulator as its SHA-256.
const PeopleSessionCookie = "sid"

// maxBrowsers bounds the browsers remembered, as maxCodes the codes.
const maxBrowsers = 10000

// rememberBrowserLocked remembers the browser of a new session and
// returns the value of its cookie; "" when too many live sessions are
// remembered already (the sign-in still works, without single sign-on).
// Callers hold s.mu.
func (s *Sim) rememberBrowserLocked(ss *session, now time.Time) string {
	as := s.people
	if len(as.browsers) >= maxBrowsers {
		for k, id := range as.browsers {
			if live, ok := s.sessions[id]; !ok || !live.expiresAt.After(now) {
				delete(as.browsers, k)
			}
		}
		if len(as.browsers) >= maxBrowsers {
			return ""
		}
	}
	token := rand.Text()
	as.browsers[sha256.Sum256([]byte(token))] = ss.id
	return token
}

// browserSessionLocked is the live session the request's cookie names,
// with its key in the browsers remembered; nil when there is none (no
// cookie, an unknown one, or a session that ended). Callers hold s.mu.
func (s *Sim) browserSessionLocked(r *http.Request, now time.Time) (*session, [32]byte) {
	ck, err := r.Cookie(PeopleSessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 64 {
		return nil, [32]byte{}
	}
	key := sha256.Sum256([]byte(ck.Value))
	id, ok := s.people.browsers[key]
	if !ok {
		return nil, key
	}
	ss, ok := s.sessions[id]
	if !ok || !ss.expiresAt.After(now) {
		delete(s.people.browsers, key)
		return nil, key
	}
	return ss, key
}

// resumeSession issues a code for a browser already signed in, for an
// ACTIVE user with a password; ok is false when the person must sign in.
// code is "" when too many codes wait.
func (s *Sim) resumeSession(r *http.Request, ar *authzRequest) (code string, ok bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, _ := s.browserSessionLocked(r, now)
	if ss == nil {
		return "", false
	}
	u := s.users[ss.userID]
	if u == nil || u.status != StatusActive || !u.hasPassword {
		return "", false
	}
	code = randomToken()
	if !s.people.storeCode(code, &authCode{clientID: ar.client.ClientID, redirectURI: ar.redirectURI, challenge: ar.challenge,
		userID: u.id, scopes: ar.scopes, nonce: ar.nonce, authTime: ss.lastPasswordVerification, expires: now.Add(PeopleCodeTTL)}, now) {
		return "", true
	}
	return code, true
}

func setPeopleSessionCookie(h http.Header, value string) {
	c := &http.Cookie{Name: PeopleSessionCookie, Value: value, Path: PeopleAuthServerPath, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteLaxMode}
	h.Add("Set-Cookie", c.String())
}

func clearPeopleSessionCookie(h http.Header) {
	c := &http.Cookie{Name: PeopleSessionCookie, Value: "", Path: PeopleAuthServerPath, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1}
	h.Add("Set-Cookie", c.String())
}
