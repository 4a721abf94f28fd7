package oktasim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The people's authorization server: a custom authorization server, as the
// "default" one of an Okta org with API Access Management, that signs in
// the org's users (people, not service apps) with OpenID Connect
// authorization code + PKCE and issues JWT access and ID tokens. Bollard's
// approvers authenticate with such tokens (docs/approvals.md).
const (
	// PeopleAuthServerID is the authorization server's id, as in Okta's
	// paths and issuer.
	PeopleAuthServerID = "default"
	// PeopleAuthServerPath follows the origin in the issuer and the
	// endpoints: the issuer is origin + PeopleAuthServerPath.
	PeopleAuthServerPath = "/oauth2/" + PeopleAuthServerID
	// DefaultPeopleAudience is the audience of the access tokens when
	// WithPeopleAuthServer is given none: Okta's default server's.
	DefaultPeopleAudience = "api://default"
	// DefaultPeoplePassword is the password every ACTIVE user signs in
	// with unless WithPeoplePassword sets another. It is published, so it
	// guards nothing: the simulator is for tests and dev mode only.
	DefaultPeoplePassword = "Oktasim-Dev-1"
	// PeopleTokenTTL is the lifetime of access and ID tokens, as in
	// Okta's default access policy.
	PeopleTokenTTL = time.Hour
	// PeopleCodeTTL is how long an authorization code may be redeemed.
	PeopleCodeTTL = 60 * time.Second
	// PersonTokenClientID is the cid of PersonToken's tokens when no
	// PeopleClient is registered.
	PersonTokenClientID = "0oaPERSONTOKEN0000g7"
)

// maxPersonTokenTTL is the longest access token lifetime Okta's access
// policies allow: a day.
const maxPersonTokenTTL = 24 * time.Hour

// peopleScopes are the scopes the server knows, in the order the metadata
// lists them; every request must include openid.
var peopleScopes = []string{"openid", "profile", "email"}

// PeopleClient is an OpenID Connect app that people sign in to, such as
// Bollard's approval console: a public client (token endpoint
// authentication "none") that must use PKCE, as Okta's single-page apps.
type PeopleClient struct {
	// ClientID is the app's client id.
	ClientID string
	// Name is the app's label, shown on the sign-in page and in the System
	// Log; ClientID when empty.
	Name string
	// RedirectURIs are the sign-in redirect URIs, compared exactly:
	// absolute http or https URLs without a fragment. At least one.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the sign-out redirect URIs, where
	// /v1/logout may send the browser (post_logout_redirect_uri), compared
	// exactly: absolute http or https URLs without a fragment. Optional;
	// any other is refused.
	PostLogoutRedirectURIs []string
}

type peopleConfig struct {
	on       bool
	audience string
	clients  []PeopleClient
	password string
}

// WithPeopleAuthServer serves the people's authorization server at
// /oauth2/default (PeopleAuthServerPath) with access tokens for audience
// (DefaultPeopleAudience when empty) and the given apps as its clients. It
// generates the server's RSA signing key, which takes a moment, so it is
// off unless asked for. New panics on a client without a client id, with
// a client id given twice, or without a valid redirect URI.
func WithPeopleAuthServer(audience string, clients ...PeopleClient) Option {
	return func(c *config) {
		c.people.on = true
		if audience != "" {
			c.people.audience = audience
		}
		c.people.clients = append(c.people.clients, clients...)
	}
}

// WithPeoplePassword sets the password every ACTIVE user signs in with on
// the people's authorization server (DefaultPeoplePassword otherwise). An
// empty password is ignored: none is ever accepted.
func WithPeoplePassword(password string) Option {
	return func(c *config) {
		if password != "" {
			c.people.password = password
		}
	}
}

// peopleAS is the server's configuration, its key, the codes it has
// issued and the browsers signed in. codes and browsers are guarded by
// Sim.mu; the clients, which
// RegisterPeopleClient may add to after New, by mu. A registered client
// never changes.
type peopleAS struct {
	audience string
	password string
	signer   jose.Signer
	pub      *rsa.PublicKey // verifies the ID tokens /v1/logout is given
	jwks     []byte         // the public key set, encoded
	codes    map[string]*authCode
	browsers map[[32]byte]string // SHA-256 of a PeopleSessionCookie -> session id

	mu      sync.RWMutex
	clients map[string]*peopleClient
	order   []string        // client ids in registration order
	origins map[string]bool // the redirect URIs' origins: CORS is allowed from them
}

type peopleClient struct {
	PeopleClient
	origins map[string]string // redirect URI -> its origin, for the sign-in page's CSP
}

func newPeopleAS(cfg peopleConfig) (*peopleAS, error) {
	as := &peopleAS{audience: cfg.audience, password: cfg.password, clients: map[string]*peopleClient{},
		origins: map[string]bool{}, codes: map[string]*authCode{}, browsers: map[[32]byte]string{}}
	for _, pc := range cfg.clients {
		if err := as.addClient(pc); err != nil {
			return nil, err
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate the signing key: %w", err)
	}
	as.pub = &key.PublicKey
	pub := jose.JSONWebKey{Key: &key.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key id: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	as.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		return nil, fmt.Errorf("encode the key set: %w", err)
	}
	as.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), pub.KeyID))
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	return as, nil
}

// addClient checks a client and registers it.
func (as *peopleAS) addClient(pc PeopleClient) error {
	if pc.ClientID == "" {
		return errors.New("a client without a client id")
	}
	if len(pc.RedirectURIs) == 0 {
		return fmt.Errorf("client %q has no redirect URI", pc.ClientID)
	}
	c := &peopleClient{PeopleClient: pc, origins: map[string]string{}}
	c.RedirectURIs = slices.Clone(pc.RedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(pc.PostLogoutRedirectURIs)
	if c.Name == "" {
		c.Name = pc.ClientID
	}
	for _, raw := range c.RedirectURIs {
		origin, err := redirectOrigin(raw)
		if err != nil {
			return fmt.Errorf("client %q: redirect URI %q: %w", pc.ClientID, raw, err)
		}
		c.origins[raw] = origin
	}
	for _, raw := range c.PostLogoutRedirectURIs {
		if _, err := redirectOrigin(raw); err != nil {
			return fmt.Errorf("client %q: post-logout redirect URI %q: %w", pc.ClientID, raw, err)
		}
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.clients[pc.ClientID] != nil {
		return fmt.Errorf("client id %q registered twice", pc.ClientID)
	}
	for _, origin := range c.origins {
		as.origins[origin] = true
	}
	as.clients[pc.ClientID] = c
	as.order = append(as.order, pc.ClientID)
	return nil
}

// client is the registered client of that id, or nil.
func (as *peopleAS) client(id string) *peopleClient {
	as.mu.RLock()
	defer as.mu.RUnlock()
	return as.clients[id]
}

// RegisterPeopleClient adds an app to the people's authorization server
// after New, as an admin adds one to a running org: for a client whose
// redirect URI is known only once it listens, such as Bollard's console in
// dev mode on a port chosen by the system. It takes the rules of
// WithPeopleAuthServer and returns their errors rather than panic; a
// client id cannot be registered twice.
func (s *Sim) RegisterPeopleClient(pc PeopleClient) error {
	if s.people == nil {
		return errors.New("oktasim: RegisterPeopleClient needs WithPeopleAuthServer")
	}
	if err := s.people.addClient(pc); err != nil {
		return fmt.Errorf("oktasim: %w", err)
	}
	return nil
}

// redirectOrigin checks a registered redirect URI and returns its origin.
func redirectOrigin(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", err
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("not an http or https URL")
	case u.Host == "" || u.User != nil || u.Fragment != "" || strings.ContainsAny(raw, " ;,'\"#"):
		return "", errors.New("not an absolute URL with a host and without user info, a fragment, spaces, quotes, commas or semicolons")
	}
	return u.Scheme + "://" + u.Host, nil
}

// isPeopleASPath reports whether a path is under /oauth2/{authServerId}:
// any id but v1, which is the org authorization server's.
func isPeopleASPath(segs []string) bool {
	return len(segs) >= 2 && segs[0] == "oauth2" && segs[1] != "v1"
}

// servePeopleAS answers /oauth2/{authServerId}/...: the metadata and the
// keys as JSON, the sign-in and sign-out pages as HTML, the token endpoint
// as OAuth.
// These endpoints are public: no API token is asked for, as at Okta.
func (s *Sim) servePeopleAS(w http.ResponseWriter, r *http.Request, segs []string, reqID string) reply {
	as := s.people
	if as == nil || segs[1] != PeopleAuthServerID {
		return s.errorReply(errNotFound(segs[1], "AuthorizationServer"))
	}
	rest := strings.Join(segs[2:], "/")
	var methods []string
	switch rest {
	case ".well-known/openid-configuration", ".well-known/oauth-authorization-server", "v1/keys", "v1/logout":
		methods = []string{http.MethodGet}
	case "v1/authorize":
		methods = []string{http.MethodGet, http.MethodPost}
	case "v1/token":
		methods = []string{http.MethodPost, http.MethodOptions}
	default:
		return s.errorReply(newError(http.StatusNotFound, CodePathNotFound, "The requested path was not found"))
	}
	if !slices.Contains(methods, r.Method) {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		return s.errorReply(newError(http.StatusMethodNotAllowed, CodeMethodNotSupported, "The endpoint does not support the provided HTTP method"))
	}
	issuer := baseURL(r) + PeopleAuthServerPath
	switch rest {
	case "v1/authorize":
		return s.serveAuthorize(w, r, reqID)
	case "v1/logout":
		return s.serveLogout(w, r, issuer, reqID)
	case "v1/token":
		as.allowCORS(w.Header(), r)
		return s.servePeopleToken(w, r, issuer, reqID)
	case "v1/keys":
		as.allowCORS(w.Header(), r)
		w.Header().Set("Cache-Control", "max-age=3600, must-revalidate")
		return reply{status: http.StatusOK, payload: as.jwks}
	default:
		as.allowCORS(w.Header(), r)
		payload, _ := encodeJSON(peopleMetadata(issuer))
		return reply{status: http.StatusOK, payload: payload}
	}
}

// peopleMetadata is the discovery document, in Okta's order, listing only
// what the simulator serves.
func peopleMetadata(issuer string) obj {
	return obj{
		{"issuer", issuer},
		{"authorization_endpoint", issuer + "/v1/authorize"},
		{"token_endpoint", issuer + "/v1/token"},
		{"jwks_uri", issuer + "/v1/keys"},
		{"response_types_supported", []string{"code"}},
		{"response_modes_supported", []string{"query"}},
		{"grant_types_supported", []string{"authorization_code"}},
		{"subject_types_supported", []string{"public"}},
		{"id_token_signing_alg_values_supported", []string{string(jose.RS256)}},
		{"scopes_supported", peopleScopes},
		{"token_endpoint_auth_methods_supported", []string{"none"}},
		{"claims_supported", []string{"iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp",
			"nonce", "name", "preferred_username", "email", "email_verified", "at_hash"}},
		{"code_challenge_methods_supported", []string{"S256"}},
		{"end_session_endpoint", issuer + "/v1/logout"},
	}
}

// allowCORS lets a browser app read the response when the request comes
// from the origin of a registered redirect URI, as Okta does for its
// trusted origins. A preflight is answered in servePeopleToken.
func (as *peopleAS) allowCORS(h http.Header, r *http.Request) {
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	as.mu.RLock()
	allowed := as.origins[origin]
	as.mu.RUnlock()
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
	}
}

// SetOrgURL tells the simulator the origin it is reached at when something
// other than Serve serves it, such as an httptest server: PersonToken's
// issuer is this origin plus PeopleAuthServerPath, and event hooks
// registered with RegisterEventHook name it as their deliveries' source.
// It must be an http or https origin without a path.
func (s *Sim) SetOrgURL(origin string) error {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("oktasim: org URL %q is not an http or https origin", origin)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgURL = u.Scheme + "://" + u.Host
	return nil
}

// PersonToken signs an access token for a user, as the people's
// authorization server's token endpoint would issue after they signed in
// (same claims, key and audience), so that tests and dev tools get a
// person's token without driving a browser. It is for tests and dev mode
// only: it skips the sign-in. user is an id or a login, and must be
// ACTIVE; ttl is PeopleTokenTTL when zero or less, at most a day. The
// scopes are openid, profile and email; cid is the first registered
// PeopleClient's id, else PersonTokenClientID. The issuer is the org URL
// (Serve's address, or SetOrgURL) plus PeopleAuthServerPath. Unlike the
// token endpoint it records no System Log event.
func (s *Sim) PersonToken(user string, ttl time.Duration) (string, error) {
	as := s.people
	if as == nil {
		return "", errors.New("oktasim: PersonToken needs WithPeopleAuthServer")
	}
	switch {
	case ttl <= 0:
		ttl = PeopleTokenTTL
	case ttl > maxPersonTokenTTL:
		return "", fmt.Errorf("oktasim: token lifetime %s is longer than %s", ttl, maxPersonTokenTTL)
	}
	cid := PersonTokenClientID
	as.mu.RLock()
	if len(as.order) > 0 {
		cid = as.order[0]
	}
	as.mu.RUnlock()
	now := s.now()
	s.mu.Lock()
	if s.orgURL == "" {
		s.mu.Unlock()
		return "", errors.New("oktasim: PersonToken needs the org URL: call Serve or SetOrgURL first")
	}
	issuer := s.orgURL + PeopleAuthServerPath
	u := s.resolveUser(user)
	if u == nil {
		s.mu.Unlock()
		return "", fmt.Errorf("oktasim: no user %q", user)
	}
	if u.status != StatusActive {
		s.mu.Unlock()
		return "", fmt.Errorf("oktasim: user %s is %s; only an ACTIVE user gets tokens", u.id, u.status)
	}
	p := s.personLocked(u)
	s.mu.Unlock()
	claims := accessClaims(grantInfo{issuer: issuer, audience: as.audience, clientID: cid, scopes: peopleScopes,
		authTime: now, issued: now, ttl: ttl}, p, randomToken())
	token, err := as.sign(claims)
	if err != nil {
		return "", fmt.Errorf("oktasim: sign: %w", err)
	}
	return token, nil
}
