package oktasim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxFormBytes bounds the body of a token request or a sign-in form: a
// few parameters of at most maxParamLen bytes each.
const maxFormBytes = 64 << 10

// servePeopleToken answers POST /oauth2/default/v1/token, and a CORS
// preflight for it.
func (s *Sim) servePeopleToken(w http.ResponseWriter, r *http.Request, issuer, reqID string) reply {
	h := w.Header()
	if r.Method == http.MethodOptions {
		if h.Get("Access-Control-Allow-Origin") != "" {
			h.Set("Access-Control-Allow-Methods", http.MethodPost)
			h.Set("Access-Control-Allow-Headers", "Accept, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
		}
		return reply{status: http.StatusNoContent}
	}
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	var out obj
	var who authResult
	oerr := badRequest("invalid_request", "The request body could not be read.")
	if err == nil {
		out, who, oerr = s.redeemCode(r, body, issuer, reqID)
	}
	if oerr != nil {
		payload, _ := encodeJSON(obj{{"error", oerr.code}, {"error_description", oerr.desc}})
		return reply{status: oerr.status, payload: payload, auth: who}
	}
	payload, _ := encodeJSON(out)
	return reply{status: http.StatusOK, payload: payload, auth: who}
}

// Errors of the token endpoint, in Okta's words.
const (
	descBadClient = "Client authentication failed. Either the client or the client credentials are invalid."
	descBadCode   = "The authorization code is invalid or has expired."
)

// redeemCode runs a token request through the checks in order: the form,
// the client (public: a client id and no credentials), the grant type, the
// parameters, then the code, its redirect URI and its PKCE verifier. A
// code is consumed by the first attempt to redeem it, whatever the outcome.
func (s *Sim) redeemCode(r *http.Request, body []byte, issuer, reqID string) (obj, authResult, *oauthError) {
	var who authResult
	as := s.people
	form, oerr := parseTokenForm(r, body)
	if oerr != nil {
		return nil, who, oerr
	}
	if r.Header.Get("Authorization") != "" || form.Has("client_secret") || form.Has("client_assertion") || form.Has("client_assertion_type") {
		return nil, who, invalidClient("Client authentication failed. The client's token endpoint authentication method is 'none': it must not send client credentials.")
	}
	client := as.client(form.Get("client_id"))
	if client == nil {
		return nil, who, invalidClient(descBadClient)
	}
	who.clientID = client.ClientID
	gt := form.Get("grant_type")
	switch {
	case gt == "":
		return nil, who, badRequest("invalid_request", "The token request must specify a 'grant_type'.")
	case !slices.Contains(grantTypes, gt):
		return nil, who, badRequest("unsupported_grant_type", "The authorization server does not support the requested 'grant_type' value.")
	case gt != "authorization_code":
		return nil, who, badRequest("unauthorized_client", "The client is not authorized to use the provided grant type. Configured grant types: [authorization_code].")
	}
	code, redirectURI, verifier := form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier")
	switch {
	case code == "":
		return nil, who, badRequest("invalid_request", "The 'code' parameter is required.")
	case redirectURI == "":
		return nil, who, badRequest("invalid_request", "The 'redirect_uri' parameter is required.")
	case verifier == "":
		return nil, who, badRequest("invalid_request", "PKCE code verifier is required when the token endpoint authentication method is 'NONE'.")
	}

	now := s.now()
	s.mu.Lock()
	ac := as.takeCode(code, now)
	var u *user
	if ac != nil {
		u = s.users[ac.userID]
	}
	switch {
	case ac == nil || ac.clientID != client.ClientID:
		oerr = badRequest("invalid_grant", descBadCode)
	case ac.redirectURI != redirectURI:
		oerr = badRequest("invalid_grant", "The 'redirect_uri' does not match the redirection URI used in the authorization request.")
	case !validVerifier(verifier) || subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(ac.challenge)) != 1:
		oerr = badRequest("invalid_grant", "PKCE verification failed.")
	case u == nil || u.status != StatusActive:
		// Deactivated, suspended or deleted since signing in.
		oerr = badRequest("invalid_grant", descBadCode)
	}
	if oerr != nil {
		s.mu.Unlock()
		return nil, who, oerr
	}
	p := s.personLocked(u)
	g := grantInfo{issuer: issuer, audience: as.audience, clientID: client.ClientID, scopes: ac.scopes, nonce: ac.nonce,
		authTime: ac.authTime, issued: now, ttl: PeopleTokenTTL}
	atJTI, idJTI := randomToken(), randomToken()
	expires := now.Add(PeopleTokenTTL)
	for _, t := range []target{
		{id: "AT." + atJTI, typ: "access_token", alternateID: "unknown", displayName: "Access Token",
			detail: obj{{"expires", ts(expires)}, {"subject", p.login}, {"audience", as.audience}}},
		{id: "ID." + idJTI, typ: "id_token", alternateID: "unknown", displayName: "ID Token",
			detail: obj{{"expires", ts(expires)}, {"subject", p.id}, {"audience", client.ClientID}}},
	} {
		s.appendEvent(eventSpec{
			eventType: "app.oauth2.as.token.grant." + t.typ, message: "OAuth2 " + strings.ReplaceAll(t.typ, "_", " ") + " is granted",
			severity: "INFO", result: "SUCCESS", actor: u.target(), targets: []target{t},
			reqID: reqID, ip: remoteIP(r), agent: r.UserAgent(), uri: r.URL.RequestURI(), published: now,
		})
	}
	s.mu.Unlock()

	access, err := as.sign(accessClaims(g, p, atJTI))
	if err != nil {
		return nil, who, &oauthError{status: http.StatusInternalServerError, code: "server_error", desc: "The token could not be signed."}
	}
	id, err := as.sign(idClaims(g, p, idJTI, access))
	if err != nil {
		return nil, who, &oauthError{status: http.StatusInternalServerError, code: "server_error", desc: "The token could not be signed."}
	}
	who.scopes = slices.Clone(ac.scopes)
	return obj{
		{"token_type", AuthBearer},
		{"expires_in", int(PeopleTokenTTL / time.Second)},
		{"access_token", access},
		{"scope", strings.Join(ac.scopes, " ")},
		{"id_token", id},
	}, who, nil
}

// authCode is an authorization code waiting to be redeemed.
type authCode struct {
	clientID, redirectURI string
	challenge             string // the S256 code challenge
	userID                string
	scopes                []string
	nonce                 string
	authTime, expires     time.Time
}

// maxCodes bounds the codes waiting: a runaway sign-in loop meets it
// rather than memory's end.
const maxCodes = 10000

// storeCode keeps a new code unless too many are waiting even after the
// expired ones are dropped. Callers hold s.mu.
func (as *peopleAS) storeCode(code string, c *authCode, now time.Time) bool {
	if len(as.codes) >= maxCodes {
		for k, old := range as.codes {
			if !now.Before(old.expires) {
				delete(as.codes, k)
			}
		}
		if len(as.codes) >= maxCodes {
			return false
		}
	}
	as.codes[code] = c
	return true
}

// takeCode removes a code and returns it if it has not expired: a code is
// consumed by any attempt to redeem it, successful or not. Callers hold
// s.mu.
func (as *peopleAS) takeCode(code string, now time.Time) *authCode {
	c, ok := as.codes[code]
	if !ok {
		return nil
	}
	delete(as.codes, code)
	if !now.Before(c.expires) {
		return nil
	}
	return c
}

// validVerifier checks RFC 7636's syntax for a code verifier: 43 to 128
// unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	return strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' || r == '~')
	}) < 0
}

// s256 is the S256 code challenge of a verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
