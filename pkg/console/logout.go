package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// maxIDTokenBytes bounds the ID token a session keeps: Okta's, with a
// groups claim, are a few kilobytes.
const maxIDTokenBytes = 16 << 10

// idHint is the ID token a session keeps to end the provider's session at
// sign-out, and when it expires.
type idHint struct {
	token   string
	expires time.Time
}

// checkIDToken checks the ID token a sign-in ended with against the
// sign-in (OpenID Connect Core 3.1.3.7): the issuer, the console as its
// audience, the nonce sent, not expired. Its signature is not checked: it
// came straight from the token endpoint over TLS (3.1.3.7 item 6), and
// the console takes no identity from it; who signed in is the access
// token's, verified by the approvers' authenticator. It is kept, as a
// hint, only when the provider has an end-session endpoint. No ID token at
// all is no error: sign-out then ends the console's session only.
func (c *Console) checkIDToken(ctx context.Context, raw, nonce string) (idHint, error) {
	if raw == "" {
		c.log.Warn("console: the provider sent no ID token; sign-out will not end the provider's session")
		return idHint{}, nil
	}
	if len(raw) > maxIDTokenBytes {
		return idHint{}, errors.New("the ID token is too large")
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return idHint{}, errors.New("the ID token is not a signed JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return idHint{}, errors.New("the ID token's claims are not base64url")
	}
	var claims struct {
		Issuer   string          `json:"iss"`
		Audience json.RawMessage `json:"aud"`
		Party    string          `json:"azp"`
		Nonce    string          `json:"nonce"`
		Expiry   int64           `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return idHint{}, errors.New("the ID token's claims are not JSON, or not of their types")
	}
	var aud []string
	if json.Unmarshal(claims.Audience, &aud) != nil {
		var one string
		if json.Unmarshal(claims.Audience, &one) != nil {
			return idHint{}, errors.New("the ID token's audience is not a string or an array of strings")
		}
		aud = []string{one}
	}
	expires := time.Unix(claims.Expiry, 0)
	switch {
	case claims.Issuer != c.cfg.Issuer:
		return idHint{}, errors.New("the ID token names another issuer")
	case !slices.Contains(aud, c.cfg.ClientID) || (len(aud) > 1 && claims.Party != c.cfg.ClientID):
		return idHint{}, errors.New("the ID token is not for this console")
	case nonce == "" || subtle.ConstantTimeCompare([]byte(claims.Nonce), []byte(nonce)) != 1:
		return idHint{}, errors.New("the ID token carries another nonce")
	case claims.Expiry == 0 || !expires.After(c.cfg.Now()):
		return idHint{}, errors.New("the ID token has expired, or has no exp")
	}
	p, err := c.discover(ctx)
	if err != nil || p.endSession == "" {
		return idHint{}, err
	}
	return idHint{token: raw, expires: expires}, nil
}

// logout ends the session, then the provider's (OpenID Connect
// RP-initiated logout): the browser goes to its end-session endpoint with
// the ID token as hint, and comes back to the console's list, which says
// it signed out. The ID token is never in a page or a cookie: only in that
// redirect.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	id, sess := c.checkPost(w, r)
	if sess == nil {
		return
	}
	if err := c.endSession(r.Context(), id); err != nil {
		// The cookie stays, so that signing out can be tried again: the
		// session is not over until the store says so.
		c.render(w, r, http.StatusServiceUnavailable, "message", &view{Title: "Not signed out",
			Message: "The console cannot reach the store that keeps its sessions, so your session could not be ended. Try again shortly."})
		return
	}
	clearSessionCookie(w)
	c.log.Info("console: signed out", "approver", sess.who.Subject)
	p, err := c.discover(r.Context())
	switch {
	case err == nil && p.endSession == "":
		c.render(w, r, http.StatusOK, "message", &view{Title: "Signed out", Message: "You have signed out.", SignIn: true})
		return
	case err != nil || sess.idToken == "":
		c.log.Warn("console: the provider's session could not be ended", "approver", sess.who.Subject, "error", err)
		c.render(w, r, http.StatusOK, "message", &view{Title: "Signed out", SignIn: true,
			Message: "You have signed out of the console. Your identity provider's session could not be ended from here: sign out there too."})
		return
	}
	u, _ := url.Parse(p.endSession) // checked by discover, without query
	u.RawQuery = url.Values{"id_token_hint": {sess.idToken}, "post_logout_redirect_uri": {c.PostLogoutURL()},
		"state": {rand.Text()}}.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// PostLogoutURL is where the identity provider sends the browser after
// sign-out: the console's list, at its origin. Register it at the
// provider's app as a sign-out redirect URI (Okta: "Sign-out redirect
// URIs"); a provider refuses any other.
func (c *Console) PostLogoutURL() string { return c.origin + Prefix }

// signedOut is the page the provider's sign-out comes back to: the list's
// address with a state and no session (the session cookie is
// SameSite=Strict, so it would not come on the provider's redirect
// anyway). It says nothing but that, so a link made to look like it
// cannot make the console do anything.
func (c *Console) signedOut(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "message", &view{Title: "Signed out",
		Message: "You have signed out.", SignIn: true})
}

// printableURL is a URL from a provider for a log line: at most 200
// characters, control characters dropped.
func printableURL(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
