package identity

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxJWKSSize caps a fetched or read JWKS; real sets are a few KiB.
const maxJWKSSize = 1 << 20

// minRSABits rejects RSA keys too short to trust.
const minRSABits = 2048

// keySet is one successfully loaded JWKS, immutable once built.
type keySet struct {
	byKID map[string][]jose.JSONWebKey
	n     int
	// single is the only key of a one-key set, used for tokens without a
	// kid header; nil when the set has several keys.
	single *jose.JSONWebKey
}

// jwksSource keeps the last good key set and refreshes it: in the background
// once it is older than refreshEvery, and synchronously when a token names an
// unknown kid, at most once per minGap so that a flood of made-up kids cannot
// turn into a flood of fetches. A failed refresh keeps the last good set.
type jwksSource struct {
	file, url    string
	client       *http.Client
	timeout      time.Duration
	refreshEvery time.Duration
	minGap       time.Duration
	algs         []jose.SignatureAlgorithm
	now          func() time.Time
	log          *slog.Logger

	set         atomic.Pointer[keySet]
	fetching    chan struct{} // holds a token while a fetch runs; waiters honour their ctx
	lastAttempt atomic.Int64  // unix nanoseconds by now()
	bgRunning   atomic.Bool
}

func (s *jwksSource) location() string {
	if s.file != "" {
		return s.file
	}
	if u, err := url.Parse(s.url); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

// refresh fetches the set now, keeping the old one on failure.
func (s *jwksSource) refresh(ctx context.Context) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	return s.refreshLocked(ctx)
}

func (s *jwksSource) lock(ctx context.Context) error {
	select {
	case s.fetching <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *jwksSource) unlock() { <-s.fetching }

func (s *jwksSource) refreshLocked(ctx context.Context) error {
	s.lastAttempt.Store(s.now().UnixNano())
	set, err := s.load(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "JWKS refresh failed, keeping last good keys",
			"jwks", s.location(), "error", err)
		return fmt.Errorf("load JWKS from %s: %w", s.location(), err)
	}
	s.set.Store(set)
	s.log.DebugContext(ctx, "JWKS loaded", "jwks", s.location(), "keys", set.n)
	return nil
}

// refreshForUnknownKID refreshes unless a fetch was attempted less than
// minGap ago. Callers queued behind a fetch find it recent and return at once.
func (s *jwksSource) refreshForUnknownKID(ctx context.Context) {
	if s.lock(ctx) != nil {
		return
	}
	defer s.unlock()
	if s.sinceLastAttempt() < s.minGap {
		return
	}
	// A caller that hangs up must not abort the fetch: that would let it
	// spend the rate limit without ever refreshing. The fetch has its own timeout.
	_ = s.refreshLocked(context.WithoutCancel(ctx)) // logged; the caller looks the kid up again
}

// maybeRefreshInBackground starts one background refresh once the set is
// due, so no request waits for the periodic fetch.
func (s *jwksSource) maybeRefreshInBackground() {
	if s.sinceLastAttempt() < s.refreshEvery || !s.bgRunning.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.bgRunning.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		_ = s.refresh(ctx) // logged
	}()
}

func (s *jwksSource) sinceLastAttempt() time.Duration {
	return s.now().Sub(time.Unix(0, s.lastAttempt.Load()))
}

// lookup returns the keys that may verify a token with this kid and alg.
func (s *jwksSource) lookup(kid string, alg jose.SignatureAlgorithm) []jose.JSONWebKey {
	set := s.set.Load()
	if set == nil {
		return nil
	}
	var cands []jose.JSONWebKey
	if kid == "" {
		if set.single == nil {
			return nil
		}
		cands = []jose.JSONWebKey{*set.single}
	} else {
		cands = set.byKID[kid]
	}
	// Usually one candidate that fits: return it without copying.
	if len(cands) == 1 && keyFitsAlg(&cands[0], alg) {
		return cands
	}
	var out []jose.JSONWebKey
	for i := range cands {
		if keyFitsAlg(&cands[i], alg) {
			out = append(out, cands[i])
		}
	}
	return out
}

func (s *jwksSource) load(ctx context.Context) (*keySet, error) {
	var data []byte
	var err error
	if s.file != "" {
		data, err = readCapped(s.file)
	} else {
		data, err = s.fetch(ctx)
	}
	if err != nil {
		return nil, err
	}
	return s.parse(ctx, data)
}

func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllCapped(f)
}

func readAllCapped(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxJWKSSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxJWKSSize {
		return nil, fmt.Errorf("JWKS larger than %d bytes", maxJWKSSize)
	}
	return data, nil
}

func (s *jwksSource) fetch(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	if resp.ContentLength > maxJWKSSize {
		return nil, fmt.Errorf("JWKS larger than %d bytes", maxJWKSSize)
	}
	return readAllCapped(resp.Body)
}

// parse decodes keys one by one so that one key of a type we do not support
// (or do not accept) does not throw away the whole set.
func (s *jwksSource) parse(ctx context.Context, data []byte) (*keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	set := &keySet{byKID: make(map[string][]jose.JSONWebKey, len(doc.Keys))}
	var last jose.JSONWebKey
	for i, raw := range doc.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			s.log.DebugContext(ctx, "JWKS key skipped", "index", i, "reason", err.Error())
			continue
		}
		if reason := s.rejectKey(&k); reason != "" {
			s.log.DebugContext(ctx, "JWKS key skipped", "index", i, "kid", k.KeyID, "reason", reason)
			continue
		}
		set.byKID[k.KeyID] = append(set.byKID[k.KeyID], k)
		set.n++
		last = k
	}
	if set.n == 0 {
		return nil, fmt.Errorf("JWKS has no usable signing keys (%d keys listed)", len(doc.Keys))
	}
	if set.n == 1 {
		set.single = &last
	}
	return set, nil
}

// rejectKey says why k cannot verify tokens, or "" if it can. Symmetric keys
// never pass, so no token can be checked as HMAC keyed with a public key.
func (s *jwksSource) rejectKey(k *jose.JSONWebKey) string {
	switch {
	case !k.IsPublic():
		return "not an asymmetric public key"
	case !k.Valid():
		return "invalid key parameters"
	case k.Use != "" && k.Use != "sig":
		return "use is not sig"
	}
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		if key.N.BitLen() < minRSABits {
			return fmt.Sprintf("RSA key shorter than %d bits", minRSABits)
		}
	case *ecdsa.PublicKey:
		if key.Curve != elliptic.P256() && key.Curve != elliptic.P384() && key.Curve != elliptic.P521() {
			return "unsupported curve"
		}
	case ed25519.PublicKey:
	default:
		return "unsupported key type"
	}
	if k.Algorithm != "" {
		alg := jose.SignatureAlgorithm(k.Algorithm)
		if !slices.Contains(s.algs, alg) {
			return "key algorithm not allowed"
		}
		if !keyFitsAlg(k, alg) {
			return "key algorithm does not match key type"
		}
	}
	return ""
}

// keyFitsAlg reports whether k may verify a signature made with alg: the
// key's own alg, if set, must be alg, and the key type and curve must match.
func keyFitsAlg(k *jose.JSONWebKey, alg jose.SignatureAlgorithm) bool {
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return false
	}
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return key.Curve == elliptic.P256()
		case jose.ES384:
			return key.Curve == elliptic.P384()
		case jose.ES512:
			return key.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// safeAlgs are the asymmetric algorithms a verifier may allow. HMAC and
// "none" are absent on purpose and cannot be configured.
var safeAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}
