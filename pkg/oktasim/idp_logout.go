package oktasim

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxIDTokenHint bounds id_token_hint: an ID token with many groups is
// longer than maxParamLen.
const maxIDTokenHint = 16 << 10

// serveLogout answers GET /oauth2/default/v1/logout, OpenID Connect
// RP-initiated logout as Okta serves it: id_token_hint (required) must be
// an ID token this server signed for one of its clients, unexpired;
// post_logout_redirect_uri (optional) must be one of that client's
// PostLogoutRedirectURIs, compared exactly; anything else is a 400 page
// and ends nothing, so that no one can use the endpoint as an open
// redirect. The browser's session ends when it is the token's subject's,
// then the browser goes to post_logout_redirect_uri with the state, or is
// shown a page that says it signed out.
func (s *Sim) serveLogout(w http.ResponseWriter, r *http.Request, issuer, reqID string) reply {
	h := w.Header()
	q := r.URL.Query()
	if k := repeatedParam(q); k != "" {
		return errorPage(h, "invalid_request", "The '"+k+"' parameter must not be repeated.")
	}
	hint := q.Get("id_token_hint")
	rest := url.Values{}
	for k, vs := range q {
		if k != "id_token_hint" {
			rest[k] = vs
		}
	}
	switch {
	case hint == "":
		return errorPage(h, "invalid_request", "The 'id_token_hint' parameter is required.")
	case len(hint) > maxIDTokenHint:
		return errorPage(h, "invalid_request", "The 'id_token_hint' parameter is too long.")
	case longParam(rest) != "":
		return errorPage(h, "invalid_request", "The '"+longParam(rest)+"' parameter is too long.")
	}
	now := s.now()
	c, sub, err := s.people.checkIDTokenHint(hint, issuer, now)
	if err != nil {
		return errorPage(h, "invalid_token", "The 'id_token_hint' is not a valid, unexpired ID token of this authorization server: "+err.Error())
	}
	post := q.Get("post_logout_redirect_uri")
	if post != "" && !slices.Contains(c.PostLogoutRedirectURIs, post) {
		return errorPage(h, "invalid_request", "The 'post_logout_redirect_uri' parameter must be a Logout redirect URI in the client app settings.")
	}
	if s.endBrowserSession(r, sub, now, reqID) {
		clearPeopleSessionCookie(h)
	}
	if post == "" {
		return signedOutPage(h)
	}
	return redirectTo(h, post, nil, q.Get("state"))
}

// idTokenHint is what /v1/logout reads of an ID token.
type idTokenHint struct {
	Issuer   string `json:"iss"`
	Audience string `json:"aud"`
	Subject  string `json:"sub"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
}

// checkIDTokenHint verifies an ID token this server issued (its key, its
// issuer, an ID token's jti, a registered client as audience, not
// expired) and returns the client and the user id.
func (as *peopleAS) checkIDTokenHint(raw, issuer string, now time.Time) (*peopleClient, string, error) {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, "", errors.New("not a signed JWT")
	}
	payload, err := jws.Verify(as.pub)
	if err != nil {
		return nil, "", errors.New("not signed by this authorization server")
	}
	var t idTokenHint
	if err := json.Unmarshal(payload, &t); err != nil {
		return nil, "", errors.New("its claims cannot be read")
	}
	c := as.client(t.Audience)
	switch {
	case t.Issuer != issuer:
		return nil, "", errors.New("another issuer")
	case !strings.HasPrefix(t.ID, "ID.") || c == nil || t.Subject == "":
		return nil, "", errors.New("not an ID token for a client of this authorization server")
	case now.Unix() >= t.Expiry:
		return nil, "", errors.New("expired")
	}
	return c, t.Subject, nil
}

// endBrowserSession ends the session the request's cookie names when it
// is userID's, as Okta does only for the token's subject, and records
// user.session.end. It reports whether the browser's cookie should go:
// the session ended, or it names none.
func (s *Sim) endBrowserSession(r *http.Request, userID string, now time.Time, reqID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, key := s.browserSessionLocked(r, now)
	if ss == nil {
		return true
	}
	if ss.userID != userID {
		return false
	}
	delete(s.sessions, ss.id)
	delete(s.people.browsers, key)
	e := eventSpec{eventType: "user.session.end", message: "User logout from Okta", severity: "INFO", result: "SUCCESS",
		targets: []target{ss.target(s)}, reqID: reqID, ip: remoteIP(r), agent: r.UserAgent(), uri: r.URL.Path,
		published: now, sessionID: ss.id}
	if u := s.users[ss.userID]; u != nil {
		e.actor = u.target()
	}
	s.appendEvent(e)
	return true
}

var signedOutTemplate = template.Must(template.New("signed-out").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed out</title><style>{{.Style}}</style></head>
<body><main>
<h1 id="signed-out">Signed out</h1>
<p>You have signed out of the Okta simulator.</p>
</main></body></html>
`))

// signedOutPage is what a logout without post_logout_redirect_uri shows
// (Okta shows its sign-in page).
func signedOutPage(h http.Header) reply {
	var b bytes.Buffer
	_ = signedOutTemplate.Execute(&b, struct{ Style template.CSS }{template.CSS(pageStyle)})
	setPageHeaders(h, "'none'")
	return reply{status: http.StatusOK, payload: b.Bytes(), contentType: "text/html; charset=utf-8"}
}
