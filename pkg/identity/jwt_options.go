package identity

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

// Defaults of a JWTVerifier.
const (
	DefaultIDClaim            = "sub"
	DefaultLeeway             = 60 * time.Second
	DefaultRefreshInterval    = time.Hour
	DefaultMinRefreshInterval = 30 * time.Second
	DefaultFetchTimeout       = 10 * time.Second
)

// maxLeeway keeps a configuration typo from accepting long-expired tokens.
const maxLeeway = 5 * time.Minute

// DefaultAlgorithms are allowed unless WithAlgorithms says otherwise.
var DefaultAlgorithms = []string{"RS256", "ES256"}

type jwtConfig struct {
	issuer          string
	audience        string
	jwksFile        string
	jwksURL         string
	idClaim         string
	leeway          time.Duration
	now             func() time.Time
	algs            []string
	client          *http.Client
	fetchTimeout    time.Duration
	refreshInterval time.Duration
	minRefresh      time.Duration
	logger          *slog.Logger
}

func defaultJWTConfig() jwtConfig {
	return jwtConfig{
		idClaim:         DefaultIDClaim,
		leeway:          DefaultLeeway,
		now:             time.Now,
		algs:            DefaultAlgorithms,
		client:          http.DefaultClient,
		fetchTimeout:    DefaultFetchTimeout,
		refreshInterval: DefaultRefreshInterval,
		minRefresh:      DefaultMinRefreshInterval,
		logger:          slog.Default(),
	}
}

// JWTOption configures a JWTVerifier.
type JWTOption func(*jwtConfig)

// WithIssuer sets the required "iss", compared exactly. Required.
func WithIssuer(iss string) JWTOption { return func(c *jwtConfig) { c.issuer = iss } }

// WithAudience sets the audience that "aud" must contain. Required; for a
// Kubernetes projected token, the audience set in the pod's volume.
func WithAudience(aud string) JWTOption { return func(c *jwtConfig) { c.audience = aud } }

// WithJWKSFile reads the key set from a file, re-read on every refresh.
func WithJWKSFile(path string) JWTOption { return func(c *jwtConfig) { c.jwksFile = path } }

// WithJWKSURL fetches the key set from an https URL, or plain http to a
// literal loopback IP such as 127.0.0.1 (see package loopback). Redirects
// are held to the same rule.
func WithJWKSURL(u string) JWTOption { return func(c *jwtConfig) { c.jwksURL = u } }

// WithIDClaim names the claim holding the agent id, as a dotted path into
// nested objects; a key that itself contains dots is matched as a whole, so
// "kubernetes.io.serviceaccount.name" finds
// {"kubernetes.io":{"serviceaccount":{"name":...}}}. Default "sub".
func WithIDClaim(path string) JWTOption { return func(c *jwtConfig) { c.idClaim = path } }

// WithLeeway sets the clock skew tolerated on exp, nbf and iat (0 to 5m).
func WithLeeway(d time.Duration) JWTOption { return func(c *jwtConfig) { c.leeway = d } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) JWTOption { return func(c *jwtConfig) { c.now = now } }

// WithAlgorithms sets the allowed "alg" values. Only asymmetric algorithms
// (RS*, PS*, ES*, EdDSA) are accepted; HMAC and "none" are refused.
func WithAlgorithms(algs ...string) JWTOption {
	return func(c *jwtConfig) { c.algs = slices.Clone(algs) }
}

// WithHTTPClient sets the client used to fetch a JWKS URL, for custom CAs
// such as the Kubernetes API server's.
func WithHTTPClient(hc *http.Client) JWTOption { return func(c *jwtConfig) { c.client = hc } }

// WithFetchTimeout bounds one JWKS fetch.
func WithFetchTimeout(d time.Duration) JWTOption { return func(c *jwtConfig) { c.fetchTimeout = d } }

// WithRefresh sets how often the key set is refreshed, and the minimum gap
// between refreshes triggered by tokens with an unknown kid.
func WithRefresh(every, minGap time.Duration) JWTOption {
	return func(c *jwtConfig) { c.refreshInterval, c.minRefresh = every, minGap }
}

// WithLogger sets the logger for JWKS refreshes.
func WithLogger(l *slog.Logger) JWTOption { return func(c *jwtConfig) { c.logger = l } }

// validate reports every problem at once.
func (c *jwtConfig) validate() ([]jose.SignatureAlgorithm, []string, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.issuer == "" {
		bad("issuer is required")
	}
	if c.audience == "" {
		bad("audience is required")
	}
	switch {
	case c.jwksFile == "" && c.jwksURL == "":
		bad("a JWKS file or URL is required")
	case c.jwksFile != "" && c.jwksURL != "":
		bad("set a JWKS file or a JWKS URL, not both")
	case c.jwksURL != "":
		// Keys fetched over plain http from a name can be swapped by anyone
		// on the path, who could then sign tokens for any agent.
		u, err := url.Parse(c.jwksURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("JWKS URL must be an absolute http or https URL")
		} else if err := loopback.CheckURL(u); err != nil {
			bad("JWKS URL %w", err)
		}
	}
	path := strings.Split(c.idClaim, ".")
	if slices.Contains(path, "") {
		bad("id claim %q is not a dotted claim path", c.idClaim)
	}
	if c.leeway < 0 || c.leeway > maxLeeway {
		bad("leeway %s is outside 0..%s", c.leeway, maxLeeway)
	}
	if len(c.algs) == 0 {
		bad("at least one algorithm is required")
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(c.algs))
	for _, a := range c.algs {
		alg := jose.SignatureAlgorithm(a)
		if !slices.Contains(safeAlgs, alg) {
			bad("algorithm %q is not allowed (allowed: %v)", a, safeAlgs)
			continue
		}
		algs = append(algs, alg)
	}
	if c.now == nil || c.client == nil || c.logger == nil {
		bad("clock, HTTP client and logger must not be nil")
	}
	if c.fetchTimeout <= 0 {
		bad("fetch timeout must be positive")
	}
	if c.refreshInterval <= 0 || c.minRefresh <= 0 || c.minRefresh > c.refreshInterval {
		bad("refresh interval and minimum gap must be positive, the gap no longer than the interval")
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("invalid JWT verifier configuration: %w", errors.Join(errs...))
	}
	return algs, path, nil
}

// keepHTTPS returns a copy of hc that refuses a redirect to a URL that
// WithJWKSURL would refuse, so an https JWKS URL cannot hand the fetch on to
// plain http off loopback. Other redirects go to hc's own policy.
func keepHTTPS(hc *http.Client) *http.Client {
	c := *hc
	next := hc.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := loopback.CheckURL(req.URL); err != nil {
			return fmt.Errorf("JWKS redirect %w", err)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}
