package oktasim

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// assertionAlgs are the client assertion algorithms Okta accepts for
// Private Key JWT.
var assertionAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

// parseAlgs adds the HMAC algorithms to what the parser accepts, only so
// that an assertion signed with a client secret is told why it is refused.
var parseAlgs = append(slices.Clone(assertionAlgs), jose.HS256, jose.HS384, jose.HS512)

const assertionReplayed = "The client_assertion token has already been used."

// clientAssertion is a verified Private Key JWT.
type clientAssertion struct {
	app *serviceApp
	jti string
	exp time.Time
}

// verifyAssertion authenticates the client of a token request: a
// client_assertion JWT whose signature verifies with the key its kid names,
// whose iss and sub are the client id, whose aud is the token endpoint and
// whose exp is in the future but at most an hour away. Okta's org
// authorization server accepts no other client authentication for
// client_credentials.
func (s *Sim) verifyAssertion(r *http.Request, form url.Values, tokenURL string, now time.Time) (clientAssertion, *oauthError) {
	var none clientAssertion
	if _, _, basic := r.BasicAuth(); basic || form.Get("client_secret") != "" {
		return none, invalidClient("Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.")
	}
	assertionType, raw := form.Get("client_assertion_type"), form.Get("client_assertion")
	if assertionType == "" && raw == "" {
		if id := form.Get("client_id"); id != "" && s.clients[id] != nil {
			return none, invalidClient("Client Credentials requests to the Org Authorization Server must use the private_key_jwt token_endpoint_auth_method.")
		} else if id != "" {
			return none, invalidClient("Invalid value for 'client_id' parameter.")
		}
		return none, invalidClient("A client_id must be provided in the request.")
	}
	if assertionType != ClientAssertionType {
		return none, invalidClient("The client_assertion_type is invalid.")
	}
	tok, err := jwt.ParseSigned(raw, parseAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return none, invalidClient("The parsing of the client_assertion failed.")
	}
	hdr := tok.Headers[0]
	if !slices.Contains(assertionAlgs, jose.SignatureAlgorithm(hdr.Algorithm)) {
		return none, invalidClient("The client_assertion signature algorithm is not supported; use RS256 or ES256.")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return none, invalidClient("The parsing of the client_assertion failed.")
	}
	clientID := unverified.Subject
	if id := form.Get("client_id"); id != "" {
		if id != clientID {
			return none, invalidClient("The client_id parameter does not match the 'sub' claim of the client_assertion.")
		}
	}
	app := s.clients[clientID]
	if app == nil {
		return none, invalidClient("Invalid value for 'client_id' parameter.")
	}
	key, ok := app.key(hdr.KeyID)
	if !ok {
		return none, invalidClient("The client_assertion JWT kid is invalid.")
	}
	var c jwt.Claims
	if err := tok.Claims(key.Key, &c); err != nil {
		return none, invalidClient("The client_assertion signature is invalid.")
	}
	switch {
	case c.Issuer != app.ClientID || c.Subject != app.ClientID:
		return none, invalidClient("The 'iss' and 'sub' claims of the client_assertion must both be the client_id.")
	case len(c.Audience) != 1 || c.Audience[0] != tokenURL:
		return none, invalidClient("The audience claim for client_assertion must be the endpoint invoking the client_assertion.")
	case c.Expiry == nil:
		return none, invalidClient("The client_assertion token must have an 'exp' claim.")
	case !now.Before(c.Expiry.Time()):
		return none, invalidClient("The client_assertion token is expired.")
	case c.Expiry.Time().After(now.Add(maxAssertionLifetime + clockSkew)):
		return none, invalidClient("The client_assertion token has an expiration too far into the future.")
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(clockSkew)):
		return none, invalidClient("The client_assertion token is not valid yet.")
	}
	if c.ID != "" {
		s.mu.Lock()
		replayed := s.assertions.seen(app.ClientID+"\x00"+c.ID, now)
		s.mu.Unlock()
		if replayed {
			return none, invalidClient(assertionReplayed)
		}
	}
	return clientAssertion{app: app, jti: c.ID, exp: c.Expiry.Time()}, nil
}

// key finds the verification key a kid names. Without a kid the app's only
// key is used; with several keys a kid is required.
func (a *serviceApp) key(kid string) (jose.JSONWebKey, bool) {
	if kid == "" {
		if len(a.keys) == 1 {
			return a.keys[0], true
		}
		return jose.JSONWebKey{}, false
	}
	for _, k := range a.keys {
		if k.KeyID == kid {
			return k, true
		}
	}
	return jose.JSONWebKey{}, false
}
