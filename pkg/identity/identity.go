package identity

import (
	"context"
	"errors"
	"fmt"
)

// Methods recorded in [Identity.Method].
const (
	MethodKey = "key"
	MethodJWT = "jwt"
)

// MaxCredentialLen bounds the credential accepted anywhere in this package.
// Kubernetes service-account tokens are around 1 KiB; 8 KiB leaves room for
// fat IdP tokens while keeping a hostile caller from making us parse megabytes.
const MaxCredentialLen = 8 << 10

// Identity is a verified caller.
type Identity struct {
	// ID is the agent id, taken only from the verified key entry or token claim.
	ID string
	// Method is MethodKey or MethodJWT.
	Method string
	// Claims holds the verified JWT claims as decoded JSON (numbers are
	// float64); nil for static keys.
	Claims map[string]any
}

var (
	// ErrNoCredential means the caller sent no credential at all.
	ErrNoCredential = errors.New("no credential")
	// ErrInvalidCredential means a credential was sent but was not accepted.
	ErrInvalidCredential = errors.New("invalid credential")
)

// Reasons are stable, low-cardinality codes carried by [Error]; they are safe
// as metric labels and as the reason of an errdetails.ErrorInfo.
const (
	ReasonMissing          = "missing"
	ReasonMalformed        = "malformed"
	ReasonTooLong          = "too_long"
	ReasonModeDisabled     = "mode_disabled"
	ReasonUnknownKey       = "unknown_key"
	ReasonUnknownKeyID     = "unknown_kid"
	ReasonBadAlgorithm     = "bad_algorithm"
	ReasonBadSignature     = "bad_signature"
	ReasonExpired          = "expired"
	ReasonNotYetValid      = "not_yet_valid"
	ReasonWrongIssuer      = "wrong_issuer"
	ReasonWrongAudience    = "wrong_audience"
	ReasonMissingClaim     = "missing_claim"
	ReasonKeysUnavailable  = "keys_unavailable"
	ReasonInvalidClaimsSet = "invalid_claims"
)

// Error is the error returned by every Authenticate in this package. It wraps
// ErrNoCredential or ErrInvalidCredential (test with errors.Is) and never
// contains the credential.
type Error struct {
	// Reason is one of the Reason* constants.
	Reason string
	err    error
}

func (e *Error) Error() string { return e.err.Error() }
func (e *Error) Unwrap() error { return e.err }

// ReasonOf returns the stable reason of an authentication error, or "" when
// err did not come from this package.
func ReasonOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

func fail(sentinel error, reason, detail string) error {
	return &Error{Reason: reason, err: fmt.Errorf("%w: %s", sentinel, detail)}
}

func failWrap(reason, detail string, cause error) error {
	return &Error{Reason: reason, err: fmt.Errorf("%w: %s: %w", ErrInvalidCredential, detail, cause)}
}

// Authenticator verifies a bearer credential. KeyStore, JWTVerifier and Chain
// implement it.
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (Identity, error)
}

var (
	_ Authenticator = (*Chain)(nil)
	_ Authenticator = (*KeyStore)(nil)
	_ Authenticator = (*JWTVerifier)(nil)
)

// Chain routes each credential to the mode that can verify it: a compact JWS
// to the JWT verifier, anything else to the static keys.
type Chain struct {
	keys *KeyStore
	jwt  *JWTVerifier
}

// Option configures a Chain.
type Option func(*Chain)

// WithStaticKeys enables static agent keys.
func WithStaticKeys(ks *KeyStore) Option { return func(c *Chain) { c.keys = ks } }

// WithJWT enables JWT bearer tokens.
func WithJWT(v *JWTVerifier) Option { return func(c *Chain) { c.jwt = v } }

// New returns a Chain with the given modes; at least one must be enabled.
func New(opts ...Option) (*Chain, error) {
	c := &Chain{}
	for _, o := range opts {
		o(c)
	}
	if c.keys == nil && c.jwt == nil {
		return nil, errors.New("identity: no authentication mode enabled")
	}
	return c, nil
}

// Authenticate verifies credential with the mode its shape selects.
func (c *Chain) Authenticate(ctx context.Context, credential string) (Identity, error) {
	if err := checkCredential(credential); err != nil {
		return Identity{}, err
	}
	if looksLikeJWS(credential) {
		if c.jwt == nil {
			return Identity{}, fail(ErrInvalidCredential, ReasonModeDisabled, "jwt authentication is not enabled")
		}
		return c.jwt.Authenticate(ctx, credential)
	}
	if c.keys == nil {
		return Identity{}, fail(ErrInvalidCredential, ReasonModeDisabled, "static key authentication is not enabled")
	}
	return c.keys.Authenticate(ctx, credential)
}

func checkCredential(credential string) error {
	switch {
	case credential == "":
		return fail(ErrNoCredential, ReasonMissing, "empty credential")
	case len(credential) > MaxCredentialLen:
		return fail(ErrInvalidCredential, ReasonTooLong, fmt.Sprintf("credential longer than %d bytes", MaxCredentialLen))
	}
	return nil
}

// looksLikeJWS reports whether s has the compact JWS shape: three base64url
// segments separated by dots, the first two non-empty. The signature may be
// empty so that an unsigned ("alg":"none") token is rejected by the JWT
// verifier with a clear reason rather than looked up as a key.
func looksLikeJWS(s string) bool {
	dots := 0
	segLen := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '.' {
			if segLen == 0 || dots == 2 {
				return false
			}
			dots++
			segLen = 0
			continue
		}
		if !isBase64URL(ch) {
			return false
		}
		segLen++
	}
	return dots == 2
}

func isBase64URL(ch byte) bool {
	return ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_'
}
