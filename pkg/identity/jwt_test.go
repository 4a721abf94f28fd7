package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// newFileVerifier serves keys from a JWKS file with a fake clock at t0.
func newFileVerifier(t testing.TB, keys []testKey, opts ...JWTOption) (*JWTVerifier, *fakeClock) {
	t.Helper()
	clock := newClock()
	path := writeFile(t, t.TempDir(), "jwks.json", jwksJSON(t, keys...))
	base := []JWTOption{
		WithIssuer(testIssuer), WithAudience(testAudience), WithJWKSFile(path),
		WithClock(clock.Now), WithLogger(testLogger(t)),
	}
	v, err := NewJWTVerifier(t.Context(), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v, clock
}

func TestJWTVerifier(t *testing.T) {
	rsaA, rsaB, ecA := rsaKeyA(), rsaKeyB(), ecKeyA()
	v, _ := newFileVerifier(t, []testKey{rsaA, ecA})
	sa := "system:serviceaccount:agents:reader-bot"
	good := goodClaims(sa)

	// Same kid as a trusted key, different private key: an impostor.
	impostor := newECKey(ecA.kid)

	// The classic confusion attack: HS256 keyed with the public key's bytes.
	pubDER, err := x509.MarshalPKIXPublicKey(rsaA.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	hsUnsigned := unsignedToken(map[string]any{"alg": "HS256", "kid": rsaA.kid}, good, nil)
	hsInput := hsUnsigned[:strings.LastIndexByte(hsUnsigned, '.')]
	mac := hmac.New(sha256.New, pubDER)
	mac.Write([]byte(hsInput))
	hsToken := hsInput + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	tampered := func(tok string, part int) string {
		parts := strings.Split(tok, ".")
		b := []byte(parts[part])
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		parts[part] = string(b)
		return strings.Join(parts, ".")
	}
	otherClaims := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"` + testIssuer + `","aud":"bollard","sub":"provisioner-bot","exp":9999999999}`))
	spliced := strings.Split(rsaA.sign(t, good), ".")
	spliced[1] = otherClaims

	tests := []struct {
		name   string
		token  string
		wantID string
		reason string
	}{
		{name: "valid RS256", token: rsaA.sign(t, good), wantID: sa},
		{name: "valid ES256", token: ecA.sign(t, good), wantID: sa},
		{name: "audience as string", token: rsaA.sign(t, with(good, "aud", testAudience)), wantID: sa},
		{name: "audience among several", token: rsaA.sign(t, with(good, "aud", []string{"vault", testAudience})), wantID: sa},
		{name: "expired within leeway", token: rsaA.sign(t, with(good, "exp", t0.Add(-30*time.Second).Unix())), wantID: sa},
		{name: "no nbf or iat", token: rsaA.sign(t, with(good, "nbf", nil, "iat", nil)), wantID: sa},
		{name: "expired", token: rsaA.sign(t, with(good, "exp", t0.Add(-2*time.Minute).Unix())), reason: ReasonExpired},
		{name: "not yet valid", token: rsaA.sign(t, with(good, "nbf", t0.Add(2*time.Minute).Unix())), reason: ReasonNotYetValid},
		{name: "issued in the future", token: rsaA.sign(t, with(good, "iat", t0.Add(2*time.Minute).Unix())), reason: ReasonNotYetValid},
		{name: "missing exp", token: rsaA.sign(t, with(good, "exp", nil)), reason: ReasonInvalidClaimsSet},
		{name: "wrong issuer", token: rsaA.sign(t, with(good, "iss", testIssuer+"/")), reason: ReasonWrongIssuer},
		{name: "missing issuer", token: rsaA.sign(t, with(good, "iss", nil)), reason: ReasonWrongIssuer},
		{name: "wrong audience", token: rsaA.sign(t, with(good, "aud", "vault")), reason: ReasonWrongAudience},
		{name: "missing audience", token: rsaA.sign(t, with(good, "aud", nil)), reason: ReasonWrongAudience},
		{name: "missing sub", token: rsaA.sign(t, with(good, "sub", nil)), reason: ReasonMissingClaim},
		{name: "empty sub", token: rsaA.sign(t, with(good, "sub", "")), reason: ReasonMissingClaim},
		{name: "sub with newline", token: rsaA.sign(t, with(good, "sub", "a\nb")), reason: ReasonMissingClaim},
		{name: "unknown kid", token: rsaB.sign(t, good), reason: ReasonUnknownKeyID},
		{name: "kid of another key type", token: testKey{kid: ecA.kid, alg: jose.RS256, priv: rsaA.priv}.sign(t, good), reason: ReasonUnknownKeyID},
		{name: "no kid with several keys", token: testKey{alg: jose.RS256, priv: rsaA.priv}.sign(t, good), reason: ReasonUnknownKeyID},
		{name: "impostor with a trusted kid", token: impostor.sign(t, good), reason: ReasonBadSignature},
		{name: "tampered signature", token: tampered(rsaA.sign(t, good), 2), reason: ReasonBadSignature},
		{name: "tampered claims", token: tampered(ecA.sign(t, good), 1), reason: ReasonBadSignature},
		{name: "claims swapped", token: strings.Join(spliced, "."), reason: ReasonBadSignature},
		{name: "alg none", token: unsignedToken(map[string]any{"alg": "none"}, good, nil), reason: ReasonBadAlgorithm},
		{name: "alg none with kid", token: unsignedToken(map[string]any{"alg": "none", "kid": rsaA.kid}, good, []byte("x")), reason: ReasonBadAlgorithm},
		{name: "HS256 keyed with the public key", token: hsToken, reason: ReasonBadAlgorithm},
		{name: "RS384 not in allowlist", token: testKey{kid: rsaA.kid, alg: jose.RS384, priv: rsaA.priv}.sign(t, good), reason: ReasonBadAlgorithm},
		{name: "not a JWS", token: "a.b.c", reason: ReasonMalformed},
		{name: "payload not an object", token: unsignedToken(map[string]any{"alg": "RS256", "kid": rsaA.kid}, "str", nil), reason: ReasonBadSignature},
		{name: "signed null claims", token: ecA.signRaw(t, "null"), reason: ReasonInvalidClaimsSet},
		{name: "signed array claims", token: ecA.signRaw(t, "[1,2]"), reason: ReasonInvalidClaimsSet},
		{name: "signed exp as string", token: ecA.signRaw(t, `{"iss":"`+testIssuer+`","aud":"bollard","sub":"x","exp":"tomorrow"}`), reason: ReasonInvalidClaimsSet},
		{name: "sub not a string", token: rsaA.sign(t, with(good, "sub", 42)), reason: ReasonInvalidClaimsSet},
		{name: "empty", token: "", reason: ReasonMissing},
		{name: "too long", token: rsaA.sign(t, with(good, "pad", strings.Repeat("x", MaxCredentialLen))), reason: ReasonTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Authenticate(t.Context(), tt.token)
			wantReason(t, err, tt.reason)
			if err != nil {
				if len(tt.token) > 20 && strings.Contains(err.Error(), tt.token) {
					t.Fatalf("error leaks the token: %v", err)
				}
				return
			}
			if id.ID != tt.wantID || id.Method != MethodJWT {
				t.Fatalf("Authenticate() = %+v, want %q by jwt", id, tt.wantID)
			}
			if id.Claims["iss"] != testIssuer || id.Claims["exp"] == nil {
				t.Fatalf("Claims = %v, want the verified claims", id.Claims)
			}
		})
	}
}

func TestJWTVerifierIDClaim(t *testing.T) {
	k := ecKeyA()
	k8s := with(goodClaims("system:serviceaccount:agents:reader-bot"), "kubernetes.io", map[string]any{
		"namespace":      "agents",
		"serviceaccount": map[string]any{"name": "reader-bot", "uid": "0d3c…"},
		"pod":            map[string]any{"name": "agent-7f9c", "uid": "1a2b"},
	}, "agent", map[string]any{"id": 42}, "a.b", "flat-dotted", "a", map[string]any{"b": "nested"})
	tests := []struct {
		claim  string
		wantID string
		reason string
	}{
		{claim: "sub", wantID: "system:serviceaccount:agents:reader-bot"},
		{claim: "kubernetes.io.serviceaccount.name", wantID: "reader-bot"},
		{claim: "kubernetes.io.namespace", wantID: "agents"},
		{claim: "a.b", wantID: "flat-dotted"}, // the literal key wins
		{claim: "kubernetes.io.serviceaccount", reason: ReasonMissingClaim},
		{claim: "kubernetes.io.serviceaccount.missing", reason: ReasonMissingClaim},
		{claim: "agent.id", reason: ReasonMissingClaim},
		{claim: "email", reason: ReasonMissingClaim},
	}
	token := k.sign(t, k8s)
	for _, tt := range tests {
		t.Run(tt.claim, func(t *testing.T) {
			v, _ := newFileVerifier(t, []testKey{k}, WithIDClaim(tt.claim))
			id, err := v.Authenticate(t.Context(), token)
			wantReason(t, err, tt.reason)
			if err == nil && id.ID != tt.wantID {
				t.Fatalf("ID = %q, want %q", id.ID, tt.wantID)
			}
			if err != nil && !strings.Contains(err.Error(), tt.claim) {
				t.Fatalf("error %v does not name the claim", err)
			}
		})
	}
}

func TestLookupClaim(t *testing.T) {
	m := map[string]any{
		"x.y": map[string]any{"z": "literal-then-nested"},
		"x":   map[string]any{"y": map[string]any{"z": "nested"}, "w": "xw"},
		"p.q": "dead-end",
		"p":   map[string]any{"q": map[string]any{"r": "backtracked"}},
	}
	tests := []struct {
		path   string
		want   any
		wantOK bool
	}{
		{"x.y.z", "literal-then-nested", true},
		{"x.w", "xw", true},
		{"p.q.r", "backtracked", true},
		{"p.q", "dead-end", true},
		{"x.y.z.deeper", nil, false},
		{"nope", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := lookupClaim(m, strings.Split(tt.path, "."))
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Fatalf("lookupClaim(%q) = %v, %v; want %v, %v", tt.path, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestJWTVerifierOptions(t *testing.T) {
	rsaA, ecA, ed := rsaKeyA(), ecKeyA(), newEdKey("ed-a")
	good := goodClaims("reader-bot")

	t.Run("leeway", func(t *testing.T) {
		v, _ := newFileVerifier(t, []testKey{ecA}, WithLeeway(0))
		_, err := v.Authenticate(t.Context(), ecA.sign(t, with(good, "exp", t0.Add(-30*time.Second).Unix())))
		wantReason(t, err, ReasonExpired)
	})
	t.Run("clock moves", func(t *testing.T) {
		v, clock := newFileVerifier(t, []testKey{ecA})
		tok := ecA.sign(t, good)
		if _, err := v.Authenticate(t.Context(), tok); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Hour)
		_, err := v.Authenticate(t.Context(), tok)
		wantReason(t, err, ReasonExpired)
	})
	t.Run("EdDSA when allowed", func(t *testing.T) {
		v, _ := newFileVerifier(t, []testKey{ed, rsaA}, WithAlgorithms("EdDSA", "RS256"))
		if id, err := v.Authenticate(t.Context(), ed.sign(t, good)); err != nil || id.ID != "reader-bot" {
			t.Fatalf("EdDSA: %+v, %v", id, err)
		}
	})
	t.Run("no kid with a single key", func(t *testing.T) {
		v, _ := newFileVerifier(t, []testKey{ecA})
		if _, err := v.Authenticate(t.Context(), testKey{alg: jose.ES256, priv: ecA.priv}.sign(t, good)); err != nil {
			t.Fatal(err)
		}
	})

	tests := []struct {
		name string
		opts []JWTOption
		want []string
	}{
		{name: "nothing set", want: []string{"issuer is required", "audience is required", "JWKS file or URL is required"}},
		{name: "both sources", opts: []JWTOption{WithIssuer("i"), WithAudience("a"), WithJWKSFile("f"), WithJWKSURL("https://x")}, want: []string{"not both"}},
		{name: "bad url", opts: []JWTOption{WithIssuer("i"), WithAudience("a"), WithJWKSURL("ftp://x/jwks")}, want: []string{"http or https"}},
		{name: "relative url", opts: []JWTOption{WithIssuer("i"), WithAudience("a"), WithJWKSURL("/jwks")}, want: []string{"http or https"}},
		{name: "unsafe algorithms", opts: []JWTOption{WithIssuer("i"), WithAudience("a"), WithJWKSFile("f"), WithAlgorithms("HS256", "none", "RS256")},
			want: []string{`"HS256" is not allowed`, `"none" is not allowed`}},
		{name: "no algorithms", opts: []JWTOption{WithIssuer("i"), WithAudience("a"), WithJWKSFile("f"), WithAlgorithms()}, want: []string{"at least one algorithm"}},
		{name: "bad claim path and leeway", opts: []JWTOption{WithIssuer("i"), WithAudience("a"), WithJWKSFile("f"), WithIDClaim("a..b"), WithLeeway(time.Hour)},
			want: []string{`"a..b" is not a dotted claim path`, "leeway 1h0m0s"}},
		{name: "bad refresh", opts: []JWTOption{WithIssuer("i"), WithAudience("a"), WithJWKSFile("f"), WithRefresh(time.Minute, time.Hour), WithFetchTimeout(0)},
			want: []string{"refresh interval", "fetch timeout"}},
		{name: "initial load fails", opts: []JWTOption{WithIssuer("i"), WithAudience("a"), WithJWKSFile("/nonexistent/jwks.json")}, want: []string{"/nonexistent/jwks.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewJWTVerifier(t.Context(), append([]JWTOption{WithLogger(testLogger(t))}, tt.opts...)...)
			if err == nil {
				t.Fatal("NewJWTVerifier() succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
		})
	}
	if slices.Contains(safeAlgs, jose.HS256) || slices.Contains(safeAlgs, "none") {
		t.Fatal("safeAlgs must never contain HMAC or none")
	}
}
