package identity

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"
)

func TestChain(t *testing.T) {
	key := mustKey(t)
	ks, err := NewKeyStore([]AgentKey{{ID: "helpdesk-bot", KeySHA256: HashKey(key)}})
	if err != nil {
		t.Fatal(err)
	}
	k := ecKeyA()
	v, _ := newFileVerifier(t, []testKey{k})
	tok := k.sign(t, goodClaims("system:serviceaccount:agents:reader-bot"))

	both, err := New(WithStaticKeys(ks), WithJWT(v))
	if err != nil {
		t.Fatal(err)
	}
	keysOnly, _ := New(WithStaticKeys(ks))
	jwtOnly, _ := New(WithJWT(v))

	tests := []struct {
		name       string
		chain      *Chain
		cred       string
		wantID     string
		wantMethod string
		reason     string
	}{
		{name: "key", chain: both, cred: key, wantID: "helpdesk-bot", wantMethod: MethodKey},
		{name: "jwt", chain: both, cred: tok, wantID: "system:serviceaccount:agents:reader-bot", wantMethod: MethodJWT},
		{name: "unknown key", chain: both, cred: "bk_nope", reason: ReasonUnknownKey},
		{name: "jws-shaped garbage", chain: both, cred: "a.b.c", reason: ReasonMalformed},
		{name: "alg none goes to jwt", chain: both, cred: unsignedToken(map[string]any{"alg": "none"}, goodClaims("x"), nil), reason: ReasonBadAlgorithm},
		{name: "four parts is a key", chain: both, cred: "a.b.c.d", reason: ReasonUnknownKey},
		{name: "empty", chain: both, cred: "", reason: ReasonMissing},
		{name: "too long", chain: both, cred: strings.Repeat("a", MaxCredentialLen+1), reason: ReasonTooLong},
		{name: "jwt when disabled", chain: keysOnly, cred: tok, reason: ReasonModeDisabled},
		{name: "key when disabled", chain: jwtOnly, cred: key, reason: ReasonModeDisabled},
		{name: "key alone", chain: keysOnly, cred: key, wantID: "helpdesk-bot", wantMethod: MethodKey},
		{name: "jwt alone", chain: jwtOnly, cred: tok, wantID: "system:serviceaccount:agents:reader-bot", wantMethod: MethodJWT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := tt.chain.Authenticate(t.Context(), tt.cred)
			wantReason(t, err, tt.reason)
			if err == nil && (id.ID != tt.wantID || id.Method != tt.wantMethod) {
				t.Fatalf("Authenticate() = %+v, want %s by %s", id, tt.wantID, tt.wantMethod)
			}
		})
	}

	if _, err := New(); err == nil {
		t.Fatal("New() with no mode succeeded")
	}
}

// The agent id comes from the verified credential only, whatever else the
// caller claims in its metadata.
func TestCallerCannotNameItself(t *testing.T) {
	keys := DevKeys()
	chain, err := New(WithStaticKeys(DevKeyStore()))
	if err != nil {
		t.Fatal(err)
	}
	md := metadata.Pairs(
		"authorization", "Bearer "+keys["reader-bot"],
		"x-agent-id", "provisioner-bot",
		"x-bollard-agent", "provisioner-bot",
	)
	cred, err := FromMetadata(md)
	if err != nil {
		t.Fatal(err)
	}
	id, err := chain.Authenticate(t.Context(), cred)
	if err != nil || id.ID != "reader-bot" {
		t.Fatalf("Authenticate() = %+v, %v; want reader-bot", id, err)
	}
}

func TestLooksLikeJWS(t *testing.T) {
	for s, want := range map[string]bool{
		"a.b.c": true, "a.b.": true, "eyJ.eyJ.sig-_": true,
		"": false, "a.b": false, "a.b.c.d": false, ".b.c": false, "a..c": false,
		"a.b.c=": false, "a+b.c.d": false, "bk_abc": false, "a b.c.d": false,
	} {
		if got := looksLikeJWS(s); got != want {
			t.Errorf("looksLikeJWS(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzAuthenticate throws arbitrary credentials at a chain with both modes.
func FuzzAuthenticate(f *testing.F) {
	key := "bk_fuzz-seed-key"
	ks, err := NewKeyStore([]AgentKey{{ID: "fuzz-bot", KeySHA256: HashKey(key)}})
	if err != nil {
		f.Fatal(err)
	}
	k := ecKeyA()
	v, _ := newFileVerifier(f, []testKey{k})
	chain, _ := New(WithStaticKeys(ks), WithJWT(v))
	tok := k.sign(f, goodClaims("fuzz-sa"))
	for _, s := range []string{
		key, tok, "", "a.b.c", "a.b.", "..", "bk_", tok + "x", tok[:len(tok)-2],
		unsignedToken(map[string]any{"alg": "none"}, goodClaims("x"), nil),
		unsignedToken(map[string]any{"alg": "ES256", "kid": k.kid, "crit": []string{"exp"}}, goodClaims("x"), []byte("sig")),
		unsignedToken(map[string]any{"alg": 7}, "x", nil),
		"eyJhbGciOiJFUzI1NiJ9.bnVsbA.AAAA",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cred string) {
		id, err := chain.Authenticate(t.Context(), cred)
		if err != nil {
			if !errors.Is(err, ErrNoCredential) && !errors.Is(err, ErrInvalidCredential) || ReasonOf(err) == "" {
				t.Fatalf("bad error %v", err)
			}
			if len(cred) >= 24 && strings.Contains(err.Error(), cred) {
				t.Fatalf("error echoes the credential: %v", err)
			}
			return
		}
		switch {
		case id.Method == MethodKey && id.ID == "fuzz-bot" && cred == key:
		case id.Method == MethodJWT && id.ID == "fuzz-sa":
		default:
			t.Fatalf("Authenticate(%q) = %+v: accepted something it should not", cred, id)
		}
	})
}
