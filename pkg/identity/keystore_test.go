package identity

import (
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func mustKey(t testing.TB) string {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyStoreAuthenticate(t *testing.T) {
	readerKey, helpdeskKey := mustKey(t), mustKey(t)
	ks, err := NewKeyStore([]AgentKey{
		{ID: "reader-bot", KeySHA256: HashKey(readerKey)},
		{ID: "helpdesk-bot", KeySHA256: strings.ToUpper(HashKey(helpdeskKey))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !ks.Has("reader-bot") || !ks.Has("helpdesk-bot") || ks.Has("Reader-bot") || ks.Has("") {
		t.Error("Has does not name exactly the agents")
	}
	tests := []struct {
		name   string
		cred   string
		wantID string
		reason string
	}{
		{name: "good key", cred: readerKey, wantID: "reader-bot"},
		{name: "upper-case hash in file", cred: helpdeskKey, wantID: "helpdesk-bot"},
		{name: "wrong key", cred: mustKey(t), reason: ReasonUnknownKey},
		{name: "key with one char changed", cred: readerKey[:len(readerKey)-1] + "x", reason: ReasonUnknownKey},
		{name: "hash instead of key", cred: HashKey(readerKey), reason: ReasonUnknownKey},
		{name: "empty", cred: "", reason: ReasonMissing},
		{name: "too long", cred: strings.Repeat("k", MaxCredentialLen+1), reason: ReasonTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ks.Authenticate(t.Context(), tt.cred)
			wantReason(t, err, tt.reason)
			if err != nil {
				if tt.cred != "" && strings.Contains(err.Error(), tt.cred) {
					t.Fatalf("error leaks the credential: %v", err)
				}
				return
			}
			if id.ID != tt.wantID || id.Method != MethodKey || id.Claims != nil {
				t.Fatalf("Authenticate() = %+v, want ID %q by key", id, tt.wantID)
			}
		})
	}
	if ks.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", ks.Len())
	}
}

// Two hashes sharing the 8-byte index prefix must still be told apart by the
// full constant-time comparison.
func TestKeyStorePrefixCollision(t *testing.T) {
	key := mustKey(t)
	h := HashKey(key)
	b, _ := hex.DecodeString(h)
	b[31] ^= 0xff
	for _, order := range [][]AgentKey{
		{{ID: "decoy", KeySHA256: hex.EncodeToString(b)}, {ID: "real", KeySHA256: h}},
		{{ID: "real", KeySHA256: h}, {ID: "decoy", KeySHA256: hex.EncodeToString(b)}},
	} {
		ks, err := NewKeyStore(order)
		if err != nil {
			t.Fatal(err)
		}
		id, err := ks.Authenticate(t.Context(), key)
		if err != nil || id.ID != "real" {
			t.Fatalf("Authenticate() = %+v, %v; want real", id, err)
		}
	}
}

func TestNewKeyStoreReportsAllProblems(t *testing.T) {
	rawKey := mustKey(t)
	good := HashKey(mustKey(t))
	entries := []AgentKey{
		{ID: "ok-bot", KeySHA256: good},
		{ID: "Bad_ID", KeySHA256: HashKey("a")},
		{ID: "", KeySHA256: HashKey("b")},
		{ID: "-starts-with-dash", KeySHA256: HashKey("c")},
		{ID: strings.Repeat("a", 64), KeySHA256: HashKey("d")},
		{ID: "ok-bot", KeySHA256: HashKey("e")},
		{ID: "short-hash", KeySHA256: "abcd"},
		{ID: "not-hex", KeySHA256: strings.Repeat("zz", 32)},
		{ID: "dup-hash", KeySHA256: good},
		{ID: "pasted-raw-key", KeySHA256: rawKey},
		{ID: "no-hash"},
	}
	_, err := NewKeyStore(entries)
	if err == nil {
		t.Fatal("NewKeyStore() succeeded, want error")
	}
	msg := err.Error()
	for _, want := range []string{
		"(10 problems)",
		`agents[1]: id "Bad_ID" does not match`,
		`agents[2]: id "" does not match`,
		`agents[3]: id "-starts-with-dash" does not match`,
		`agents[4]: id "aaaa`,
		"agents[5] (ok-bot): duplicate id, first at agents[0]",
		"agents[6] (short-hash): key_sha256 has 4 characters, want 64 hex digits",
		"agents[7] (not-hex): key_sha256 is not hexadecimal",
		"agents[8] (dup-hash): key_sha256 duplicates agents[0] (ok-bot)",
		"agents[9] (pasted-raw-key): key_sha256 looks like a raw key",
		"agents[10] (no-hash): key_sha256 is missing",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, rawKey) || strings.Contains(msg, good) {
		t.Errorf("error echoes key material:\n%s", msg)
	}
}

func TestNewKeyStoreCapsProblemList(t *testing.T) {
	entries := make([]AgentKey, 200)
	for i := range entries {
		entries[i] = AgentKey{ID: fmt.Sprintf("bot-%d", i), KeySHA256: "x"}
	}
	_, err := NewKeyStore(entries)
	if err == nil || !strings.Contains(err.Error(), "(200 problems)") || !strings.Contains(err.Error(), "and 150 more problems") {
		t.Fatalf("NewKeyStore() error = %v", err)
	}
}

func TestLoadKeyFile(t *testing.T) {
	key := mustKey(t)
	h := HashKey(key)
	tests := []struct {
		name    string
		file    string
		content string
		wantErr string
	}{
		{name: "json", file: "keys.json", content: `{"agents":[{"id":"reader-bot","key_sha256":"` + h + `"}]}`},
		{name: "yaml", file: "keys.yaml", content: "agents:\n  - id: reader-bot\n    key_sha256: " + h + "\n"},
		{name: "json read as yaml", file: "keys", content: `{"agents":[{"id":"reader-bot","key_sha256":"` + h + `"}]}`},
		{name: "json unknown field", file: "keys.json", content: `{"agents":[{"id":"reader-bot","key_sha265":"` + h + `"}]}`, wantErr: "unknown field"},
		{name: "yaml unknown field", file: "keys.yml", content: "agents:\n  - id: reader-bot\n    key: " + h + "\n", wantErr: "not found in type"},
		{name: "json trailing data", file: "keys.json", content: `{"agents":[]} {}`, wantErr: "trailing data"},
		{name: "empty file", file: "keys.yaml", content: "", wantErr: "no agents"},
		{name: "bad yaml", file: "keys.yaml", content: "agents: [", wantErr: "parse YAML"},
		{name: "invalid entry", file: "keys.yaml", content: "agents:\n  - id: Reader\n    key_sha256: " + h + "\n", wantErr: "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), tt.file, []byte(tt.content))
			ks, err := LoadKeyFile(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("LoadKeyFile() error = %v, want one naming %s and containing %q", err, path, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id, err := ks.Authenticate(t.Context(), key); err != nil || id.ID != "reader-bot" {
				t.Fatalf("Authenticate() = %+v, %v", id, err)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if _, err := LoadKeyFile(t.TempDir() + "/nope.yaml"); err == nil {
			t.Fatal("LoadKeyFile() succeeded on a missing file")
		}
	})
}

func TestKeyStoreReload(t *testing.T) {
	dir := t.TempDir()
	oldKey, newKey := mustKey(t), mustKey(t)
	path := writeFile(t, dir, "keys.yaml", fmt.Appendf(nil, "agents:\n- id: reader-bot\n  key_sha256: %s\n", HashKey(oldKey)))
	ks, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "keys.yaml", fmt.Appendf(nil, "agents:\n- id: reader-bot\n  key_sha256: %s\n", HashKey(newKey)))
	if err := ks.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Authenticate(t.Context(), oldKey); ReasonOf(err) != ReasonUnknownKey {
		t.Fatalf("old key after rotation: %v", err)
	}
	if id, err := ks.Authenticate(t.Context(), newKey); err != nil || id.ID != "reader-bot" {
		t.Fatalf("new key after rotation: %+v, %v", id, err)
	}

	// A broken file must not lock everybody out.
	writeFile(t, dir, "keys.yaml", []byte("agents:\n- id: reader-bot\n  key_sha256: nope\n"))
	if err := ks.Reload(); err == nil {
		t.Fatal("Reload() of a broken file succeeded")
	}
	if id, err := ks.Authenticate(t.Context(), newKey); err != nil || id.ID != "reader-bot" {
		t.Fatalf("key after failed reload: %+v, %v", id, err)
	}

	mem, _ := NewKeyStore([]AgentKey{{ID: "a", KeySHA256: HashKey("a")}})
	if err := mem.Reload(); err == nil {
		t.Fatal("Reload() of an in-memory store succeeded")
	}
}

func TestHashAndGenerateKey(t *testing.T) {
	// SHA-256("test"), a published test vector.
	if got := HashKey("test"); got != "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" {
		t.Fatalf("HashKey(test) = %s", got)
	}
	format := regexp.MustCompile(`^bk_[A-Za-z0-9_-]{43}$`)
	seen := map[string]bool{}
	for range 100 {
		k := mustKey(t)
		if !format.MatchString(k) || looksLikeJWS(k) || !isToken68(k) {
			t.Fatalf("GenerateKey() = %q, bad format", k)
		}
		if seen[k] {
			t.Fatal("GenerateKey() repeated a key")
		}
		seen[k] = true
	}
}

func TestDevKeys(t *testing.T) {
	keys := DevKeys()
	if len(keys) != 3 {
		t.Fatalf("DevKeys() has %d entries, want 3", len(keys))
	}
	ks := DevKeyStore()
	for _, id := range []string{"reader-bot", "helpdesk-bot", "provisioner-bot"} {
		got, err := ks.Authenticate(t.Context(), keys[id])
		if err != nil || got.ID != id {
			t.Errorf("dev key of %s: %+v, %v", id, got, err)
		}
		if _, err := FromMetadata(map[string][]string{"authorization": {"Bearer " + keys[id]}}); err != nil {
			t.Errorf("dev key of %s is not a valid bearer token: %v", id, err)
		}
	}
	keys["reader-bot"] = "changed"
	if DevKeys()["reader-bot"] == "changed" {
		t.Fatal("DevKeys() exposes its internal map")
	}
}
