package oktasim

import (
	"crypto/subtle"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxParamLen bounds each parameter of an authorization request.
const maxParamLen = 2048

// authzRequest is an authorization request that passed the checks.
type authzRequest struct {
	client      *peopleClient
	redirectURI string
	state       string
	nonce       string
	scopes      []string
	challenge   string
	loginHint   string
	mode        string // response_mode as given: "" or "query"
	prompt      string // "", "none", "login" or "consent"
}

// authzError is a refused authorization request: redirected to the client
// when its redirect URI is known good, else shown on a 400 page, as Okta
// does.
type authzError struct {
	code, desc string
	redirect   bool
}

// serveAuthorize answers /oauth2/default/v1/authorize. GET checks the
// request and shows the sign-in page; POST is the page's form, which
// carries the request again with the username and password, and on success
// redirects to the client with a code.
func (s *Sim) serveAuthorize(w http.ResponseWriter, r *http.Request, reqID string) reply {
	as := s.people
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err == nil && mt == "application/x-www-form-urlencoded" {
			params, err = url.ParseQuery(string(body))
		}
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return errorPage(w.Header(), "invalid_request", "The sign-in form could not be read.")
		}
	}
	ar, aerr := as.parseAuthorize(params)
	switch {
	case aerr != nil && aerr.redirect:
		return redirectTo(w.Header(), ar.redirectURI, url.Values{"error": {aerr.code}, "error_description": {aerr.desc}}, ar.state)
	case aerr != nil:
		return errorPage(w.Header(), aerr.code, aerr.desc)
	case r.Method == http.MethodGet:
		// A browser already signed in goes straight back with a code, as
		// at Okta, unless the client asks for the person again.
		if ar.prompt != "login" {
			if code, ok := s.resumeSession(r, ar); ok {
				return codeRedirect(w.Header(), ar, code)
			}
		}
		if ar.prompt == "none" {
			return redirectTo(w.Header(), ar.redirectURI, url.Values{"error": {"login_required"},
				"error_description": {"The client specified not to prompt, but the user is not logged in."}}, ar.state)
		}
		return signInPage(w.Header(), r.URL.Path, ar, ar.loginHint, "")
	}
	username := strings.TrimSpace(params.Get("username"))
	code, cookie, ok := s.signIn(r, ar, username, params.Get("password"), reqID)
	if !ok {
		return signInPage(w.Header(), r.URL.Path, ar, username, "Unable to sign in")
	}
	if cookie != "" {
		setPeopleSessionCookie(w.Header(), cookie)
	}
	return codeRedirect(w.Header(), ar, code)
}

// codeRedirect sends the browser back to the client with a code, or with
// temporarily_unavailable when too many codes wait ("").
func codeRedirect(h http.Header, ar *authzRequest, code string) reply {
	if code == "" {
		return redirectTo(h, ar.redirectURI, url.Values{"error": {"temporarily_unavailable"},
			"error_description": {"Too many authorization codes are waiting to be redeemed; try again shortly."}}, ar.state)
	}
	return redirectTo(h, ar.redirectURI, url.Values{"code": {code}}, ar.state)
}

// parseAuthorize checks an authorization request in Okta's order. Until
// the client and its redirect URI are known good, errors are shown on a
// page (the returned request is nil); after, they are redirected, with the
// state when it is good.
func (as *peopleAS) parseAuthorize(q url.Values) (*authzRequest, *authzError) {
	page := func(code, desc string) (*authzRequest, *authzError) {
		return nil, &authzError{code: code, desc: desc}
	}
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			return page("invalid_request", "The '"+k+"' parameter must not be repeated.")
		}
	}
	c := as.client(q.Get("client_id"))
	switch {
	case q.Get("client_id") == "":
		return page("invalid_request", "The 'client_id' parameter is required.")
	case c == nil:
		return page("invalid_client", "Invalid value for 'client_id' parameter.")
	case q.Get("redirect_uri") == "":
		return page("invalid_request", "The 'redirect_uri' parameter is required.")
	case !slices.Contains(c.RedirectURIs, q.Get("redirect_uri")):
		return page("invalid_request", "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.")
	}
	ar := &authzRequest{client: c, redirectURI: q.Get("redirect_uri")}
	if st := q["state"]; len(st) == 1 && len(st[0]) <= maxParamLen {
		ar.state = st[0]
	}
	fail := func(code, desc string) (*authzRequest, *authzError) {
		return ar, &authzError{code: code, desc: desc, redirect: true}
	}
	if k := repeatedParam(q); k != "" {
		return fail("invalid_request", "The '"+k+"' parameter must not be repeated.")
	}
	if k := longParam(q); k != "" {
		return fail("invalid_request", "The '"+k+"' parameter is too long.")
	}
	if ar.state == "" {
		return fail("invalid_request", "The 'state' parameter is required.")
	}
	switch rt := q.Get("response_type"); {
	case rt == "":
		return fail("invalid_request", "The 'response_type' parameter is required.")
	case rt != "code":
		return fail("unsupported_response_type", "The response type is not supported by the authorization server. Configured response types: [code].")
	}
	ar.mode = q.Get("response_mode")
	if ar.mode != "" && ar.mode != "query" {
		return fail("unsupported_response_mode", "The response mode is not supported by the authorization server. Supported response modes: [query].")
	}
	asked := strings.Fields(q.Get("scope"))
	if len(asked) == 0 {
		return fail("invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
	}
	for _, sc := range asked {
		if !slices.Contains(peopleScopes, sc) {
			return fail("invalid_scope", "One or more scopes are not configured for the authorization server resource.")
		}
		if !slices.Contains(ar.scopes, sc) {
			ar.scopes = append(ar.scopes, sc)
		}
	}
	if !slices.Contains(ar.scopes, "openid") {
		return fail("invalid_scope", "The 'scope' parameter must include 'openid'.")
	}
	ar.challenge = q.Get("code_challenge")
	switch {
	case ar.challenge == "":
		return fail("invalid_request", "PKCE code challenge is required when the token endpoint authentication method is 'NONE'.")
	case q.Get("code_challenge_method") != "S256":
		return fail("invalid_request", "PKCE code challenge method must be 'S256'.")
	case len(ar.challenge) != 43 || strings.IndexFunc(ar.challenge, notBase64URL) >= 0:
		return fail("invalid_request", "PKCE code challenge must be the base64url SHA-256 hash of the code verifier (43 characters).")
	}
	switch ar.prompt = q.Get("prompt"); ar.prompt {
	case "", "none", "login", "consent":
	default:
		return fail("invalid_request", "The 'prompt' parameter is invalid.")
	}
	ar.nonce, ar.loginHint = q.Get("nonce"), q.Get("login_hint")
	return ar, nil
}

// longParam is the first parameter, in name order, longer than
// maxParamLen; "" when none is.
func longParam(q url.Values) string {
	var long []string
	for k, vs := range q {
		if len(k) > maxParamLen || slices.ContainsFunc(vs, func(v string) bool { return len(v) > maxParamLen }) {
			long = append(long, k)
		}
	}
	if len(long) == 0 {
		return ""
	}
	return slices.Min(long)
}

func notBase64URL(r rune) bool {
	return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
}

// signIn checks a username and password and, when they are good for an
// ACTIVE user, opens a session, remembers it for the browser (cookie is
// the value of its session cookie; "" when too many browsers are
// remembered) and issues a code for the request. ok is false for any bad
// credential or a user who cannot sign in (one answer for all, as Okta's
// "Unable to sign in"); code is "" when too many codes wait.
func (s *Sim) signIn(r *http.Request, ar *authzRequest, username, password, reqID string) (code, cookie string, ok bool) {
	as := s.people
	now := s.now()
	where := eventSpec{reqID: reqID, ip: remoteIP(r), agent: r.UserAgent(), uri: r.URL.Path}
	good := password != "" && subtle.ConstantTimeCompare([]byte(password), []byte(as.password)) == 1
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userByLogin(username)
	if u == nil {
		return "", "", false
	}
	if !good || u.status != StatusActive || !u.hasPassword {
		e := where
		e.eventType, e.message, e.severity, e.result = "user.session.start", "User login to Okta", "WARN", "FAILURE"
		e.reason, e.actor, e.published = "INVALID_CREDENTIALS", u.target(), now
		if good {
			e.reason = "VERIFICATION_ERROR"
		}
		s.appendEvent(e)
		return "", "", false
	}
	code = randomToken()
	if !as.storeCode(code, &authCode{clientID: ar.client.ClientID, redirectURI: ar.redirectURI, challenge: ar.challenge,
		userID: u.id, scopes: ar.scopes, nonce: ar.nonce, authTime: now, expires: now.Add(PeopleCodeTTL)}, now) {
		return "", "", true
	}
	ss := s.openSession(u, where, now)
	return code, s.rememberBrowserLocked(ss, now), true
}

// redirectTo answers 302 to the client's redirect URI with params and the
// state added to its query.
func redirectTo(h http.Header, redirectURI string, params url.Values, state string) reply {
	u, err := url.Parse(redirectURI) // registered, so it parses
	if err != nil {
		return errorPage(h, "server_error", "The redirect URI could not be used.")
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	h.Set("Location", u.String())
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	return reply{status: http.StatusFound}
}
