package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// maxIDLen bounds an agent id taken from a token; Kubernetes service-account
// subjects ("system:serviceaccount:<ns>:<name>") stay well under it.
const maxIDLen = 256

// JWTVerifier authenticates JWT bearer tokens, such as Kubernetes projected
// service-account tokens, against a JWKS. It is safe for concurrent use.
type JWTVerifier struct {
	issuer   string
	audience string
	idClaim  string
	idPath   []string
	leeway   time.Duration
	algs     []jose.SignatureAlgorithm
	keys     *jwksSource
}

// NewJWTVerifier checks the configuration and loads the JWKS once; it fails
// if the keys cannot be loaded, so a sidecar never starts unable to verify.
// ctx bounds only that first load.
func NewJWTVerifier(ctx context.Context, opts ...JWTOption) (*JWTVerifier, error) {
	cfg := defaultJWTConfig()
	for _, o := range opts {
		o(&cfg)
	}
	algs, path, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	src := &jwksSource{
		file:         cfg.jwksFile,
		url:          cfg.jwksURL,
		client:       keepHTTPS(cfg.client),
		timeout:      cfg.fetchTimeout,
		refreshEvery: cfg.refreshInterval,
		minGap:       cfg.minRefresh,
		algs:         algs,
		now:          cfg.now,
		fetching:     make(chan struct{}, 1),
		log:          cfg.logger,
	}
	if strings.HasPrefix(cfg.jwksURL, "http:") {
		cfg.logger.WarnContext(ctx, "JWKS fetched over plain HTTP; use https outside tests", "jwks", src.location())
	}
	if err := src.refresh(ctx); err != nil {
		return nil, err
	}
	return &JWTVerifier{
		issuer:   cfg.issuer,
		audience: cfg.audience,
		idClaim:  cfg.idClaim,
		idPath:   path,
		leeway:   cfg.leeway,
		algs:     algs,
		keys:     src,
	}, nil
}

// Refresh reloads the JWKS now. On failure the last good keys stay in use
// and the error says why.
func (v *JWTVerifier) Refresh(ctx context.Context) error { return v.keys.refresh(ctx) }

// Authenticate verifies a compact JWS and returns the identity named by the
// configured id claim.
func (v *JWTVerifier) Authenticate(ctx context.Context, credential string) (Identity, error) {
	if err := checkCredential(credential); err != nil {
		return Identity{}, err
	}
	tok, err := jwt.ParseSigned(credential, v.algs)
	if err != nil {
		if ua := (*jose.ErrUnexpectedSignatureAlgorithm)(nil); errors.As(err, &ua) {
			return Identity{}, fail(ErrInvalidCredential, ReasonBadAlgorithm,
				fmt.Sprintf("token algorithm %q is not allowed", truncate(string(ua.Got), 16)))
		}
		// go-jose's parse errors are safe to show but say little; keep ours fixed.
		return Identity{}, fail(ErrInvalidCredential, ReasonMalformed, "token is not a compact JWS")
	}
	hdr := tok.Headers[0]
	alg := jose.SignatureAlgorithm(hdr.Algorithm)

	v.keys.maybeRefreshInBackground()
	keys := v.keys.lookup(hdr.KeyID, alg)
	if len(keys) == 0 {
		// Perhaps the issuer rotated its keys; refetch, rate-limited.
		v.keys.refreshForUnknownKID(ctx)
		keys = v.keys.lookup(hdr.KeyID, alg)
		if len(keys) == 0 {
			return Identity{}, fail(ErrInvalidCredential, ReasonUnknownKeyID, "no key for the token's kid and alg")
		}
	}
	verified := false
	for i := range keys {
		if tok.Claims(keys[i].Key) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return Identity{}, fail(ErrInvalidCredential, ReasonBadSignature, "token signature does not verify")
	}
	// The signature was checked just above; this only decodes that payload.
	var std jwt.Claims
	var claims map[string]any
	if err := tok.UnsafeClaimsWithoutVerification(&std, &claims); err != nil || claims == nil {
		return Identity{}, fail(ErrInvalidCredential, ReasonInvalidClaimsSet, "token claims are not a JSON object of valid registered claims")
	}
	if err := v.checkClaims(&std); err != nil {
		return Identity{}, err
	}
	id, err := v.agentID(claims)
	if err != nil {
		return Identity{}, err
	}
	return Identity{ID: id, Method: MethodJWT, Claims: claims}, nil
}

func (v *JWTVerifier) checkClaims(std *jwt.Claims) error {
	if std.Expiry == nil {
		return fail(ErrInvalidCredential, ReasonInvalidClaimsSet, "token has no exp claim")
	}
	err := std.ValidateWithLeeway(jwt.Expected{
		Issuer:      v.issuer,
		AnyAudience: jwt.Audience{v.audience},
		Time:        v.keys.now(),
	}, v.leeway)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return failWrap(ReasonWrongIssuer, "token", err)
	case errors.Is(err, jwt.ErrInvalidAudience):
		return failWrap(ReasonWrongAudience, "token", err)
	case errors.Is(err, jwt.ErrExpired):
		return failWrap(ReasonExpired, "token", err)
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return failWrap(ReasonNotYetValid, "token", err)
	default:
		return failWrap(ReasonInvalidClaimsSet, "token", err)
	}
}

func (v *JWTVerifier) agentID(claims map[string]any) (string, error) {
	val, ok := lookupClaim(claims, v.idPath)
	if !ok {
		return "", fail(ErrInvalidCredential, ReasonMissingClaim, fmt.Sprintf("token has no %q claim", v.idClaim))
	}
	id, ok := val.(string)
	if !ok || !validTokenID(id) {
		return "", fail(ErrInvalidCredential, ReasonMissingClaim,
			fmt.Sprintf("token claim %q is not a printable string of 1 to %d bytes", v.idClaim, maxIDLen))
	}
	return id, nil
}

func validTokenID(id string) bool {
	if id == "" || len(id) > maxIDLen || !utf8.ValidString(id) {
		return false
	}
	for _, r := range id {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// lookupClaim follows a dotted path through nested objects. At each level it
// tries the longest run of segments first, so a claim name that contains dots
// ("kubernetes.io") wins over a split reading of it.
func lookupClaim(m map[string]any, path []string) (any, bool) {
	for n := len(path); n >= 1; n-- {
		val, ok := m[strings.Join(path[:n], ".")]
		if !ok {
			continue
		}
		if n == len(path) {
			return val, true
		}
		if sub, isObj := val.(map[string]any); isObj {
			if got, found := lookupClaim(sub, path[n:]); found {
				return got, true
			}
		}
	}
	return nil, false
}
