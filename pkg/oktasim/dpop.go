package oktasim

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoP (RFC 9449) as Okta's org authorization server and API apply it.
const (
	// dpopProofMaxAge is how old a proof's iat may be. The proof is made
	// for one request, so minutes are plenty; it also bounds how long a
	// proof's jti must be remembered.
	dpopProofMaxAge = 5 * time.Minute
	// clockSkew is how far in the future an iat, nbf or nonce may be.
	clockSkew = time.Minute
	// dpopNonceLifetime is how long a nonce the simulator issued is good
	// for; then the server demands a fresh one, which a client must cope
	// with at any time.
	dpopNonceLifetime = 10 * time.Minute
)

// The OAuth errors of DPoP.
const (
	errInvalidDPoPProof = "invalid_dpop_proof"
	errUseDPoPNonce     = "use_dpop_nonce"
)

// proofAlgs are the proof algorithms Okta advertises
// (dpop_signing_alg_values_supported); all asymmetric, as RFC 9449 requires.
var proofAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

var proofAlgNames = func() []string {
	out := make([]string, len(proofAlgs))
	for i, a := range proofAlgs {
		out[i] = string(a)
	}
	return out
}()

// proofWant is what a proof must match.
type proofWant struct {
	htm, htu string
	ath      string // base64url SHA-256 of the access token; "" at the token endpoint
	jkt      string // thumbprint the access token is bound to; "" at the token endpoint
	nonce    bool   // a current nonce from this server is required
}

type proofError struct{ code, desc string }

func badProof(desc string) *proofError { return &proofError{code: errInvalidDPoPProof, desc: desc} }

type proofClaims struct {
	JTI   string   `json:"jti"`
	HTM   string   `json:"htm"`
	HTU   string   `json:"htu"`
	IAT   *float64 `json:"iat"`
	ATH   string   `json:"ath"`
	Nonce string   `json:"nonce"`
}

// checkProof verifies the DPoP header values of a request against want and
// returns the thumbprint of the proof's key. A proof is good once: its jti
// is remembered until the proof would be too old anyway.
func (s *Sim) checkProof(values []string, want proofWant, now time.Time) (string, *proofError) {
	switch {
	case len(values) == 0:
		return "", badProof("The DPoP proof JWT header is missing.")
	case len(values) > 1:
		return "", badProof("Only one DPoP proof JWT header is allowed.")
	}
	jws, err := jose.ParseSignedCompact(values[0], proofAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return "", badProof("The DPoP proof JWT is malformed or its 'alg' is not supported.")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return "", badProof("The DPoP proof JWT 'typ' header must be 'dpop+jwt'.")
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.Valid() || !h.JSONWebKey.IsPublic() {
		return "", badProof("The DPoP proof JWT 'jwk' header must be a public key.")
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		return "", badProof("The DPoP proof JWT signature is invalid.")
	}
	var c proofClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", badProof("The DPoP proof JWT claims are malformed.")
	}
	thumb, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", badProof("The DPoP proof JWT 'jwk' header must be a public key.")
	}
	jkt := base64.RawURLEncoding.EncodeToString(thumb)
	switch {
	case c.JTI == "":
		return "", badProof("The DPoP proof JWT must have a 'jti' claim.")
	case c.HTM != want.htm:
		return "", badProof("'htm' claim in the DPoP proof JWT is invalid.")
	case !sameHTU(c.HTU, want.htu):
		return "", badProof("'htu' claim in the DPoP proof JWT is invalid.")
	case c.IAT == nil:
		return "", badProof("The DPoP proof JWT must have an 'iat' claim.")
	}
	iat := time.Unix(0, int64(*c.IAT*float64(time.Second)))
	if iat.Before(now.Add(-dpopProofMaxAge)) || iat.After(now.Add(clockSkew)) {
		return "", badProof("The DPoP proof JWT 'iat' claim is too far from the current time.")
	}
	if want.ath != "" && c.ATH != want.ath {
		return "", badProof("'ath' claim in the DPoP proof JWT is invalid.")
	}
	if want.jkt != "" && jkt != want.jkt {
		return "", badProof("The DPoP proof JWT key is not the key the access token is bound to.")
	}
	if want.nonce && !s.nonceValid(c.Nonce, now) {
		// Checked after the signature, so that only a proof the client could
		// have made is answered with a nonce; RFC 9449 section 8.
		return "", &proofError{code: errUseDPoPNonce, desc: "Authorization server requires nonce in DPoP proof."}
	}
	key := jkt + "\x00" + c.JTI
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proofs.seen(key, now) {
		return "", badProof("The DPoP proof JWT 'jti' has already been used.")
	}
	s.proofs.use(key, iat.Add(dpopProofMaxAge+clockSkew), now)
	return jkt, nil
}

// sameHTU compares a proof's htu with the request's URL. Like Okta, it
// compares the decoded path (a client may or may not escape '@' in a login)
// and ignores any query or fragment, which RFC 9449 leaves out of htu.
func sameHTU(htu, want string) bool {
	u, err := url.Parse(htu)
	if err != nil {
		return false
	}
	w, err := url.Parse(want)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme, w.Scheme) && strings.EqualFold(u.Host, w.Host) && u.Path == w.Path
}

// dpopNonce returns a nonce for now. Nonces are stateless: the time they
// were issued and an HMAC of it, so any nonce from this Sim is recognised
// until it runs out, and a client cannot make one up.
func (s *Sim) dpopNonce(now time.Time) string {
	var raw [8 + 16]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(now.Unix()))
	copy(raw[8:], s.nonceMAC(raw[:8]))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func (s *Sim) nonceValid(nonce string, now time.Time) bool {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != 8+16 || !hmac.Equal(raw[8:], s.nonceMAC(raw[:8])) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
	return !issued.After(now.Add(clockSkew)) && now.Sub(issued) < dpopNonceLifetime
}

func (s *Sim) nonceMAC(stamp []byte) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("dpop-nonce\x00"))
	m.Write(stamp)
	return m.Sum(nil)[:16]
}
