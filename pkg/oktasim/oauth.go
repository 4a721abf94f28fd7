package oktasim

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TokenPath is the token endpoint of the org authorization server, where a
// service app trades a Private Key JWT client assertion for an access token
// to the Management API. The assertion's aud must be the request's origin
// followed by TokenPath.
const TokenPath = "/oauth2/v1/token"

// ClientAssertionType is the client_assertion_type of Private Key JWT.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// DefaultTokenTTL is how long an access token lasts when ServiceApp.TokenTTL
// is zero: Okta's org authorization server issues one-hour tokens.
const DefaultTokenTTL = time.Hour

// maxAssertionLifetime is how far in the future a client assertion's exp
// may be: Okta refuses assertions good for more than an hour.
const maxAssertionLifetime = time.Hour

// ServiceApp is an OAuth 2.0 service app (an "API Services" integration)
// that authenticates with Private Key JWT.
type ServiceApp struct {
	// ClientID is the app's client id: the iss and sub of its assertions.
	ClientID string
	// Name is the app's label, the actor's displayName in the System Log;
	// ClientID when empty.
	Name string
	// PublicKeys verify the app's client assertions, chosen by kid. RSA and
	// EC keys only; a private key is reduced to its public half. A key
	// without a kid can only be used while it is the only key, as at Okta.
	PublicKeys jose.JSONWebKeySet
	// Scopes are the Okta API scopes granted to the app; a token request
	// may ask for any subset.
	Scopes []string
	// RequireDPoP makes the app's tokens DPoP-bound: a token request needs
	// a DPoP proof with a server nonce, and API calls the proof key.
	RequireDPoP bool
	// TokenTTL is the access tokens' lifetime, DefaultTokenTTL when zero.
	TokenTTL time.Duration
}

type serviceApp struct {
	ServiceApp
	keys []jose.JSONWebKey // public keys only
	ttl  time.Duration
}

func newServiceApp(a ServiceApp) (*serviceApp, error) {
	if a.ClientID == "" {
		return nil, errors.New("empty client id")
	}
	sa := &serviceApp{ServiceApp: a, ttl: a.TokenTTL}
	sa.Scopes = slices.Clone(a.Scopes)
	if sa.ttl <= 0 {
		sa.ttl = DefaultTokenTTL
	}
	if sa.Name == "" {
		sa.Name = a.ClientID
	}
	if len(a.PublicKeys.Keys) == 0 {
		return nil, fmt.Errorf("app %q has no public key", a.ClientID)
	}
	for i, k := range a.PublicKeys.Keys {
		pub := k.Public()
		switch pub.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
		default:
			return nil, fmt.Errorf("app %q: key %d (kid %q) is not an RSA or EC key", a.ClientID, i, k.KeyID)
		}
		sa.keys = append(sa.keys, pub)
	}
	return sa, nil
}

// actor is the app as the System Log names it when it acts.
func (a *serviceApp) actor() target {
	return target{id: a.ClientID, typ: "PublicClientApp", alternateID: a.ClientID, displayName: a.Name}
}

// grantScopes checks the scope parameter of a token request against the
// app's grants. Okta's org authorization server has no default scopes.
func (a *serviceApp) grantScopes(raw string) ([]string, *oauthError) {
	asked := strings.Fields(raw)
	if len(asked) == 0 {
		return nil, badRequest("invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
	}
	var out []string
	for _, sc := range asked {
		if !slices.Contains(a.Scopes, sc) {
			return nil, badRequest("invalid_scope", "The requested scope is invalid, unknown, or malformed.")
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

// oauthError is an error of the OAuth server, which answers in RFC 6749's
// shape ({"error", "error_description"}) rather than the API's.
type oauthError struct {
	status     int
	code, desc string
	nonce      string // DPoP-Nonce to send with use_dpop_nonce
}

func badRequest(code, desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: code, desc: desc}
}

// invalidClient is a failed client authentication, which Okta answers 401.
func invalidClient(desc string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", desc: desc}
}

func isTokenPath(segs []string) bool {
	return len(segs) == 3 && segs[0] == "oauth2" && segs[1] == "v1" && segs[2] == "token"
}

// grantTypes are the grants the org authorization server knows; only
// client_credentials is configured for a service app.
var grantTypes = []string{"client_credentials", "authorization_code", "refresh_token", "password",
	"urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer",
	"urn:ietf:params:oauth:grant-type:token-exchange"}

// serveToken answers POST /oauth2/v1/token.
func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request, reqID string) reply {
	h := w.Header()
	// Token responses, errors included, must not be cached (RFC 6749 5.1).
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if r.Method != http.MethodPost {
		h.Set("Allow", http.MethodPost)
		return s.errorReply(newError(http.StatusMethodNotAllowed, CodeMethodNotSupported, "The endpoint does not support the provided HTTP method"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var out obj
	var who authResult
	oerr := badRequest("invalid_request", "The request body could not be read.")
	if err == nil {
		out, who, oerr = s.grant(r, body, reqID)
	}
	if oerr != nil {
		if oerr.nonce != "" {
			h.Set("DPoP-Nonce", oerr.nonce)
		}
		payload, _ := encodeJSON(obj{{"error", oerr.code}, {"error_description", oerr.desc}})
		return reply{status: oerr.status, payload: payload, auth: who}
	}
	payload, _ := encodeJSON(out)
	return reply{status: http.StatusOK, payload: payload, auth: who}
}

// grant runs a token request through Okta's checks in order: the form, the
// grant type, the client's assertion, the grant type for this client, the
// scopes, then the DPoP proof. Only a request that passes them all uses up
// its assertion's jti, so a client may resend the same assertion after
// use_dpop_nonce.
func (s *Sim) grant(r *http.Request, body []byte, reqID string) (obj, authResult, *oauthError) {
	var who authResult
	now := s.now()
	form, oerr := parseTokenForm(r, body)
	if oerr != nil {
		return nil, who, oerr
	}
	gt := form.Get("grant_type")
	switch {
	case gt == "":
		return nil, who, badRequest("invalid_request", "The token request must specify a 'grant_type'.")
	case !slices.Contains(grantTypes, gt):
		return nil, who, badRequest("unsupported_grant_type", "The authorization server does not support the requested 'grant_type' value.")
	}
	base := baseURL(r)
	as, oerr := s.verifyAssertion(r, form, base+TokenPath, now)
	if oerr != nil {
		return nil, who, oerr
	}
	app := as.app
	who.clientID = app.ClientID
	if gt != "client_credentials" {
		return nil, who, badRequest("unauthorized_client", "The client is not authorized to use the provided grant type. Configured grant types: [client_credentials].")
	}
	scopes, oerr := app.grantScopes(form.Get("scope"))
	if oerr != nil {
		return nil, who, oerr
	}
	jkt := ""
	if app.RequireDPoP {
		var perr *proofError
		jkt, perr = s.checkProof(r.Header.Values("DPoP"), proofWant{htm: http.MethodPost, htu: base + TokenPath, nonce: true}, now)
		if perr != nil {
			oerr := badRequest(perr.code, perr.desc)
			if perr.code == errUseDPoPNonce {
				oerr.nonce = s.dpopNonce(now)
			}
			return nil, who, oerr
		}
	}

	token := randomToken()
	expires := now.Add(app.ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	if as.jti != "" {
		// Checked again now that the request is about to succeed: two
		// requests may have raced with the same assertion.
		key := app.ClientID + "\x00" + as.jti
		if s.assertions.seen(key, now) {
			return nil, who, invalidClient(assertionReplayed)
		}
		s.assertions.use(key, as.exp, now)
	}
	s.storeToken(token, &accessToken{clientID: app.ClientID, scopes: scopes, expires: expires, jkt: jkt}, now)
	s.appendEvent(eventSpec{
		eventType: "app.oauth2.token.grant.access_token", message: "OAuth2 access token is granted",
		severity: "INFO", result: "SUCCESS", actor: app.actor(),
		targets: []target{{id: "AT." + tokenHash(token)[:20], typ: "access_token", alternateID: "unknown", displayName: "Access Token",
			detail: obj{{"expires", ts(expires)}, {"subject", app.ClientID}}}},
		reqID: reqID, ip: remoteIP(r), agent: r.UserAgent(), uri: r.URL.RequestURI(), published: now,
	})
	who.scopes = scopes
	typ := AuthBearer
	if jkt != "" {
		typ = AuthDPoP
	}
	return obj{
		{"token_type", typ},
		{"expires_in", int(app.ttl / time.Second)},
		{"access_token", token},
		{"scope", strings.Join(scopes, " ")},
	}, who, nil
}

// parseTokenForm reads the body of a token request: form-encoded, each
// parameter at most once (RFC 6749 section 3.2).
func parseTokenForm(r *http.Request, body []byte) (url.Values, *oauthError) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, badRequest("invalid_request", "The token request must be sent as application/x-www-form-urlencoded.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest("invalid_request", "The token request body is malformed.")
	}
	if k := repeatedParam(form); k != "" {
		return nil, badRequest("invalid_request", "The '"+k+"' parameter must not be repeated.")
	}
	return form, nil
}

// repeatedParam is the first parameter, in name order, given more than
// once; "" when none is.
func repeatedParam(form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if len(form[k]) > 1 {
			return k
		}
	}
	return ""
}

// storeToken keeps an access token, and drops the expired ones whenever
// the store has doubled since the last sweep. Callers hold s.mu.
func (s *Sim) storeToken(token string, t *accessToken, now time.Time) {
	s.tokens[token] = t
	if len(s.tokens) <= s.tokenSweep {
		return
	}
	for k, old := range s.tokens {
		if !now.Before(old.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokenSweep = max(1024, 2*len(s.tokens))
}

// randomToken is an opaque access token: 256 random bits, so that a test
// cannot guess one and a client cannot parse one.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
