package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"gopkg.in/yaml.v3"
)

// KeyPrefix starts every key made by GenerateKey, so a leaked key is easy to
// recognise (and to grep for in a secret scanner).
const KeyPrefix = "bk_"

// maxKeyFileSize is far above 10,000 agents (~1 MiB) and far below memory trouble.
const maxKeyFileSize = 32 << 20

// maxReportedProblems keeps a badly broken file from producing a megabyte error.
const maxReportedProblems = 50

var agentIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// AgentKey is one entry of the keys file. Only the SHA-256 of the key is
// stored, so the file (or the Kubernetes Secret holding it) never contains a
// usable credential.
type AgentKey struct {
	ID        string `json:"id" yaml:"id"`
	KeySHA256 string `json:"key_sha256" yaml:"key_sha256"`
}

// KeyFile is the document read by LoadKeyFile, in JSON or YAML:
//
//	agents:
//	  - id: reader-bot
//	    key_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
type KeyFile struct {
	Agents []AgentKey `json:"agents" yaml:"agents"`
}

type keyEntry struct {
	hash [sha256.Size]byte
	id   string
}

// keyIndex is immutable once built; a reload swaps in a new one.
type keyIndex struct {
	// byPrefix maps the first 8 bytes of a key hash to its entries (almost
	// always one). The map lookup is not constant time, but it only sees a
	// hash of the presented key, which leaks nothing usable; the full hash is
	// then compared in constant time.
	byPrefix map[uint64][]keyEntry
	n        int
	ids      map[string]bool
}

// KeyStore authenticates static agent keys. It is safe for concurrent use and
// lookup cost does not grow with the number of agents.
type KeyStore struct {
	path     string
	idx      atomic.Pointer[keyIndex]
	reloadMu sync.Mutex
}

// NewKeyStore validates entries and indexes them. Every problem found is
// reported in the one error.
func NewKeyStore(entries []AgentKey) (*KeyStore, error) {
	idx, err := buildIndex(entries)
	if err != nil {
		return nil, err
	}
	ks := &KeyStore{}
	ks.idx.Store(idx)
	return ks, nil
}

// LoadKeyFile reads a keys file (".json" as JSON, anything else as YAML) and
// remembers its path for Reload.
func LoadKeyFile(path string) (*KeyStore, error) {
	idx, err := loadIndex(path)
	if err != nil {
		return nil, err
	}
	ks := &KeyStore{path: path}
	ks.idx.Store(idx)
	return ks, nil
}

// Reload re-reads the file the store was loaded from. On any error the keys
// in use stay as they were. Call it when the mounted Secret changes.
func (ks *KeyStore) Reload() error {
	if ks.path == "" {
		return errors.New("identity: key store was not loaded from a file")
	}
	ks.reloadMu.Lock()
	defer ks.reloadMu.Unlock()
	idx, err := loadIndex(ks.path)
	if err != nil {
		return err
	}
	ks.idx.Store(idx)
	return nil
}

// Has reports whether id is one of the agents' ids: a name no person may
// act under where agents are kept apart from people (approvals).
func (ks *KeyStore) Has(id string) bool {
	idx := ks.idx.Load()
	return idx != nil && idx.ids[id]
}

// Len returns the number of agents.
func (ks *KeyStore) Len() int {
	if idx := ks.idx.Load(); idx != nil {
		return idx.n
	}
	return 0
}

// Authenticate looks the key up by its SHA-256.
func (ks *KeyStore) Authenticate(_ context.Context, credential string) (Identity, error) {
	if err := checkCredential(credential); err != nil {
		return Identity{}, err
	}
	sum := sha256.Sum256([]byte(credential))
	id := ""
	var byPrefix map[uint64][]keyEntry
	if idx := ks.idx.Load(); idx != nil { // nil only for a zero KeyStore
		byPrefix = idx.byPrefix
	}
	for _, e := range byPrefix[binary.BigEndian.Uint64(sum[:8])] {
		if subtle.ConstantTimeCompare(e.hash[:], sum[:]) == 1 {
			id = e.id
		}
	}
	if id == "" {
		return Identity{}, fail(ErrInvalidCredential, ReasonUnknownKey, "unknown agent key")
	}
	return Identity{ID: id, Method: MethodKey}, nil
}

// HashKey returns the hex SHA-256 of key, the form stored in the keys file.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// GenerateKey returns a new random agent key: KeyPrefix followed by 32 random
// bytes in unpadded base64url.
func GenerateKey() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate agent key: %w", err)
	}
	return KeyPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func loadIndex(path string) (*keyIndex, error) {
	kf, err := readKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("load agent keys from %s: %w", path, err)
	}
	idx, err := buildIndex(kf.Agents)
	if err != nil {
		return nil, fmt.Errorf("load agent keys from %s: %w", path, err)
	}
	return idx, nil
}

func readKeyFile(path string) (*KeyFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", maxKeyFileSize)
	}
	var kf KeyFile
	if strings.EqualFold(filepath.Ext(path), ".json") {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&kf); err != nil {
			return nil, fmt.Errorf("parse JSON: %w", err)
		}
		if dec.More() {
			return nil, errors.New("parse JSON: trailing data after the document")
		}
		return &kf, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&kf); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	return &kf, nil
}

func buildIndex(entries []AgentKey) (*keyIndex, error) {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(entries) == 0 {
		add("no agents")
	}
	idx := &keyIndex{byPrefix: make(map[uint64][]keyEntry, len(entries)), ids: make(map[string]bool, len(entries))}
	seenID := make(map[string]int, len(entries))
	seenHash := make(map[[sha256.Size]byte]int, len(entries))
	for i, e := range entries {
		// Values of key_sha256 are never echoed: an operator who pasted the
		// raw key by mistake must not see it end up in logs.
		where := fmt.Sprintf("agents[%d]", i)
		if agentIDPattern.MatchString(e.ID) {
			where = fmt.Sprintf("agents[%d] (%s)", i, e.ID)
			if j, dup := seenID[e.ID]; dup {
				add("%s: duplicate id, first at agents[%d]", where, j)
			} else {
				seenID[e.ID] = i
				idx.ids[e.ID] = true
			}
		} else {
			add("%s: id %q does not match %s", where, truncate(e.ID, 80), agentIDPattern)
		}
		hash, problem := decodeKeyHash(e.KeySHA256)
		if problem != "" {
			add("%s: key_sha256 %s", where, problem)
			continue
		}
		if j, dup := seenHash[hash]; dup {
			add("%s: key_sha256 duplicates agents[%d] (%s)", where, j, entries[j].ID)
			continue
		}
		seenHash[hash] = i
		p := binary.BigEndian.Uint64(hash[:8])
		idx.byPrefix[p] = append(idx.byPrefix[p], keyEntry{hash: hash, id: e.ID})
		idx.n++
	}
	if len(problems) == 0 {
		return idx, nil
	}
	errs := make([]error, 0, min(len(problems), maxReportedProblems)+1)
	for _, p := range problems[:min(len(problems), maxReportedProblems)] {
		errs = append(errs, errors.New(p))
	}
	if extra := len(problems) - maxReportedProblems; extra > 0 {
		errs = append(errs, fmt.Errorf("... and %d more problems", extra))
	}
	return nil, fmt.Errorf("invalid agent keys (%d problems):\n%w", len(problems), errors.Join(errs...))
}

func decodeKeyHash(s string) (hash [sha256.Size]byte, problem string) {
	switch {
	case s == "":
		return hash, "is missing"
	case strings.HasPrefix(s, KeyPrefix):
		return hash, "looks like a raw key; store its SHA-256 instead (see HashKey)"
	case len(s) != 2*sha256.Size:
		return hash, fmt.Sprintf("has %d characters, want %d hex digits", len(s), 2*sha256.Size)
	}
	if _, err := hex.Decode(hash[:], []byte(s)); err != nil {
		return hash, "is not hexadecimal"
	}
	return hash, ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
