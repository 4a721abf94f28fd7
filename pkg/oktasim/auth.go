package oktasim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Authorization schemes the API accepts, as Request.AuthScheme reports them.
const (
	AuthSSWS   = "SSWS"   // an API token: acts as its admin, scopes do not apply
	AuthBearer = "Bearer" // an access token from /oauth2/v1/token
	AuthDPoP   = "DPoP"   // a DPoP-bound access token with a proof per request (RFC 9449)
)

// authResult is who a request authenticated as.
type authResult struct {
	scheme   string
	clientID string
	scopes   []string // nil for SSWS
	actor    target
}

// allows reports whether the caller may call an endpoint that needs scope.
// An SSWS token carries its admin's rights, not scopes, as at Okta.
func (a authResult) allows(scope string) bool {
	return a.scheme == AuthSSWS || slices.Contains(a.scopes, scope)
}

// accessToken is an access token the token endpoint issued. Tokens are
// opaque random strings: a client must not read anything into them.
type accessToken struct {
	clientID string
	scopes   []string
	expires  time.Time
	jkt      string // JWK SHA-256 thumbprint of the DPoP key; "" for a Bearer token
}

// authError is a 401 with what goes with it: the challenge (the
// WWW-Authenticate value) and, when a DPoP nonce is demanded, the nonce.
type authError struct {
	challenge string
	nonce     string
}

func (e *authError) reply(s *Sim, h http.Header, who authResult) reply {
	if e.challenge != "" {
		h.Set("WWW-Authenticate", e.challenge)
	}
	if e.nonce != "" {
		h.Set("DPoP-Nonce", e.nonce)
	}
	rep := s.errorReply(newError(http.StatusUnauthorized, CodeInvalidToken, "Invalid token provided"))
	rep.auth = who
	return rep
}

// presentedScheme is the scheme of the Authorization header in canonical
// case, "" when it is none the API knows.
func presentedScheme(r *http.Request) string {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	for _, known := range []string{AuthSSWS, AuthBearer, AuthDPoP} {
		if strings.EqualFold(scheme, known) {
			return known
		}
	}
	return ""
}

// authenticate checks the Authorization header of an API call. scope is the
// endpoint's, named in the challenge of a refused access token as Okta does.
func (s *Sim) authenticate(r *http.Request, base, scope string) (authResult, *authError) {
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, AuthSSWS):
		who := authResult{scheme: AuthSSWS, actor: tokenOwner()}
		if subtle.ConstantTimeCompare([]byte(cred), []byte(s.token)) != 1 {
			return who, &authError{}
		}
		return who, nil
	case strings.EqualFold(scheme, AuthBearer):
		return s.authenticateToken(r, AuthBearer, cred, base, scope)
	case strings.EqualFold(scheme, AuthDPoP):
		return s.authenticateToken(r, AuthDPoP, cred, base, scope)
	}
	return authResult{}, &authError{}
}

// authenticateToken checks an access token presented with scheme. A
// DPoP-bound token is only good with the DPoP scheme and a proof signed by
// its key for this very request; a Bearer token only with Bearer (RFC 9449
// section 7.1 forbids the downgrade).
func (s *Sim) authenticateToken(r *http.Request, scheme, token, base, scope string) (authResult, *authError) {
	who := authResult{scheme: scheme}
	fail := func(code, desc string) *authError {
		return &authError{challenge: challenge(scheme, base, scope, r.URL.Path, code, desc)}
	}
	now := s.now()
	s.mu.Lock()
	tok, ok := s.tokens[token]
	expired := ok && !now.Before(tok.expires)
	if expired {
		delete(s.tokens, token)
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return who, fail("invalid_token", "The access token is invalid.")
	case expired:
		return who, fail("invalid_token", "The access token is expired.")
	}
	who.clientID = tok.clientID
	switch {
	case scheme == AuthBearer && tok.jkt != "":
		return who, fail("invalid_token", "The access token is bound to a DPoP key and must be sent with the DPoP scheme.")
	case scheme == AuthDPoP && tok.jkt == "":
		return who, fail("invalid_token", "The access token is not DPoP-bound and must be sent with the Bearer scheme.")
	case scheme == AuthDPoP:
		_, perr := s.checkProof(r.Header.Values("DPoP"), proofWant{
			htm: r.Method, htu: base + r.URL.EscapedPath(), ath: tokenHash(token), jkt: tok.jkt, nonce: s.resNonce,
		}, now)
		if perr != nil {
			if perr.code == errUseDPoPNonce {
				e := fail(perr.code, "Resource server requires nonce in DPoP proof.")
				e.nonce = s.dpopNonce(now)
				return who, e
			}
			return who, fail(perr.code, perr.desc)
		}
	}
	who.scopes = tok.scopes
	who.actor = s.clients[tok.clientID].actor()
	return who, nil
}

// tokenHash is the ath of a DPoP proof: base64url of the SHA-256 of the
// access token's ASCII bytes.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// challenge renders a WWW-Authenticate value the way Okta's resource server
// does for an access token it refuses: the authorization server, the realm,
// the scope the endpoint needs, the OAuth error and the path. DPoP
// challenges also list the proof algorithms accepted, as RFC 9449 asks.
func challenge(scheme, base, scope, resource, code, desc string) string {
	q := func(v string) string {
		return `"` + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `"`, `\"`) + `"`
	}
	var parts []string
	if scheme == AuthDPoP {
		parts = append(parts, "algs="+q(strings.Join(proofAlgNames, " ")))
	} else {
		scheme = AuthBearer
	}
	parts = append(parts, "authorization_uri="+q(base+"/oauth2/v1/authorize"), "realm="+q(base))
	if scope != "" {
		parts = append(parts, "scope="+q(scope))
	}
	parts = append(parts, "error="+q(code), "error_description="+q(desc), "resource="+q(resource))
	return scheme + " " + strings.Join(parts, ", ")
}

// replayCache remembers the jtis already used until they would be refused
// anyway (expired assertion, proof too old), so that it stays small however
// long the simulator runs. Callers hold s.mu.
type replayCache struct {
	until map[string]time.Time
	next  int // sweep once the cache grows past this
}

func newReplayCache() *replayCache {
	return &replayCache{until: map[string]time.Time{}, next: 1024}
}

// seen reports whether key was used and has not run out.
func (c *replayCache) seen(key string, now time.Time) bool {
	until, ok := c.until[key]
	return ok && !now.After(until)
}

// use records key until the given time. Sweeping when the cache has doubled
// keeps the cost per use constant on average.
func (c *replayCache) use(key string, until, now time.Time) {
	c.until[key] = until
	if len(c.until) <= c.next {
		return
	}
	for k, u := range c.until {
		if now.After(u) {
			delete(c.until, k)
		}
	}
	c.next = max(1024, 2*len(c.until))
}
