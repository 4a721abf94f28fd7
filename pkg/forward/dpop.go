package forward

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// DPoP (RFC 9449) binds Bollard's access tokens to a key that never leaves the
// process: a token copied out of a log or a proxy is useless without a fresh
// proof signed by that key. The key is an ephemeral EC P-256 key generated at
// start-up, deliberately not the service app's client key: the client key
// proves who Bollard is to the token endpoint and stays behind its signer,
// while the DPoP key signs one proof per API call and dies with the process.

const (
	// maxNonceLen bounds what a server can make us store and echo.
	maxNonceLen = 512
	// maxNonceKeys bounds the nonce map; Bollard talks to one org.
	maxNonceKeys = 8
)

// dpopKey signs DPoP proofs and remembers the latest nonce each server gave.
// Nonces are kept per resource origin and, separately, per token endpoint:
// Okta's authorization server and the Management API share an origin but
// issue their own nonces (RFC 9449 sections 8 and 9), and one server's nonce
// in the other's proofs would cost a refusal on every switch.
type dpopKey struct {
	signer jose.Signer // holds the private key; the JWK header carries the public half

	mu     sync.RWMutex
	nonces map[string]string // origin, or token endpoint URL → latest DPoP-Nonce
}

func newDPoPKey() (*dpopKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate DPoP key: %w", err)
	}
	// The public JWK goes in every proof's header. It is marshalled once here
	// rather than by go-jose's EmbedJWK on every signature, which saves about
	// a third of a proof's allocations.
	jwk, err := jose.JSONWebKey{Key: priv.Public()}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("DPoP key: %w", err)
	}
	opts := (&jose.SignerOptions{}).WithType("dpop+jwt").WithHeader("jwk", json.RawMessage(jwk))
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv}, opts)
	if err != nil {
		return nil, fmt.Errorf("DPoP signer: %w", err)
	}
	return &dpopKey{signer: s, nonces: make(map[string]string)}, nil
}

// dpopClaims is the proof's payload. ath binds the proof to the access token
// on API calls; it is absent on the token request itself.
type dpopClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// proof returns a fresh proof for one request to u, carrying the nonce last
// stored under nonceKey. A proof is single-use (fresh jti), so it is built
// per request, never cached.
func (k *dpopKey) proof(method string, u *url.URL, ath, nonceKey string, now time.Time) (string, error) {
	payload, err := json.Marshal(dpopClaims{
		JTI:   rand.Text(),
		HTM:   method,
		HTU:   htu(u),
		IAT:   now.Unix(),
		ATH:   ath,
		Nonce: k.nonce(nonceKey),
	})
	if err != nil {
		return "", err
	}
	jws, err := k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign DPoP proof: %w", err)
	}
	return jws.CompactSerialize()
}

func (k *dpopKey) nonce(key string) string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.nonces[key]
}

// rememberNonce keeps the latest nonce a server sent. It reports whether the
// value was acceptable; an empty or malformed nonce is ignored.
func (k *dpopKey) rememberNonce(key, nonce string) bool {
	if !validNonce(nonce) {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, known := k.nonces[key]; known || len(k.nonces) < maxNonceKeys {
		k.nonces[key] = nonce
	}
	return true
}

// validNonce accepts RFC 9449's NQCHAR (printable ASCII except quote and
// backslash), so a nonce can be put back into a JSON proof unchanged.
func validNonce(n string) bool {
	if n == "" || len(n) > maxNonceLen {
		return false
	}
	for i := 0; i < len(n); i++ {
		if c := n[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// demandsNonce reports whether a resource server's 401 asks for a DPoP nonce:
// WWW-Authenticate: DPoP error="use_dpop_nonce", ...
func demandsNonce(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		scheme, params, _ := strings.Cut(strings.TrimSpace(v), " ")
		if strings.EqualFold(scheme, "DPoP") && strings.Contains(params, "use_dpop_nonce") {
			return true
		}
	}
	return false
}

// accessTokenHash is the ath claim: base64url(SHA-256(token)).
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// htu is the request URL without query and fragment, as RFC 9449 requires,
// with the path as it goes on the wire.
func htu(u *url.URL) string {
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return u.Scheme + "://" + u.Host + p
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// String keeps the DPoP key out of anything that formats it.
func (*dpopKey) String() string               { return "DPoP key [redacted]" }
func (k *dpopKey) GoString() string           { return k.String() }
func (k *dpopKey) LogValue() slog.Value       { return slog.StringValue(k.String()) }
func (k *dpopKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }
