package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/bollard-dev/bollard/pkg/approvers"
)

// newSession opens a session for who, until their token's exp, the ID
// token's if it ends sooner (so that the hint sign-out sends is still
// good), and at most maxSessionAge; it returns the session's id (the
// cookie's value) and the session.
func newSession(who approvers.Approver, idToken string, idExpires, now time.Time) (string, *session) {
	sess := &session{who: who, csrf: rand.Text(), idToken: idToken, expires: who.Expires}
	if !idExpires.IsZero() && idExpires.Before(sess.expires) {
		sess.expires = idExpires
	}
	if limit := now.Add(maxSessionAge); sess.expires.After(limit) {
		sess.expires = limit
	}
	return rand.Text(), sess
}

// storeKey is what a session id or a state is kept under: its SHA-256,
// never the value itself, so that what the store holds (or a lookup's
// timing) opens no session and ends no sign-in.
func storeKey(value string) [32]byte { return sha256.Sum256([]byte(value)) }

// maxCookieLen bounds the session id and state taken from a request: ours
// are 26 characters.
const maxCookieLen = 64

// storeTimeout bounds one store operation within the request's context.
const storeTimeout = 2 * time.Second

// takeLogin ends a sign-in under way: the state's, once, unless it
// expired or the pre-login cookie is not the browser's that started it.
func (c *Console) takeLogin(ctx context.Context, state, cookie string) (*login, error) {
	if state == "" || len(state) > maxCookieLen {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	in, err := c.store.takeLogin(ctx, storeKey(state))
	if err != nil || in == nil || !in.expires.After(c.cfg.Now()) {
		return nil, err
	}
	sum := sha256.Sum256([]byte(cookie))
	if subtle.ConstantTimeCompare(sum[:], in.binding[:]) != 1 {
		return nil, nil
	}
	return in, nil
}

// session is the request's live session: its id and the session, or
// "", nil when there is none. An expired session is dropped. An error
// means the store could not be asked: there is no session then either.
func (c *Console) session(r *http.Request) (string, *session, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" || len(ck.Value) > maxCookieLen {
		return "", nil, nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	sess, err := c.store.getSession(ctx, storeKey(ck.Value))
	if err != nil {
		return "", nil, err
	}
	if sess != nil && !sess.expires.After(c.cfg.Now()) {
		c.endSession(r.Context(), ck.Value)
		return "", nil, nil
	}
	if sess == nil {
		return "", nil, nil
	}
	return ck.Value, sess, nil
}

// endSession removes a session from the store.
func (c *Console) endSession(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	err := c.store.deleteSession(ctx, storeKey(id))
	if err != nil {
		c.log.Error("console: a session could not be removed from the store", "error", err)
	}
	return err
}

// storeDown answers a request the store could not serve: nothing was
// done, and nothing is assumed.
func (c *Console) storeDown(w http.ResponseWriter, r *http.Request, err error, what string) {
	c.log.Error("console: the session store cannot be reached", "during", what, "error", err)
	c.render(w, r, http.StatusServiceUnavailable, "message", &view{Title: "Console unavailable",
		Message: "The console cannot reach the store that keeps its sessions and sign-ins, so nothing was done. Try again shortly."})
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
	id, sess, err := c.session(r)
	if err != nil {
		c.storeDown(w, r, err, "POST "+r.URL.Path)
		return "", nil
	}
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
