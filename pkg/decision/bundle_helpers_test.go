package decision_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// testKey is a signing key made for the test run.
type testKey struct {
	id, alg          string
	private, public  string // PEM
	verificationOpts decision.BundleVerification
}

func newKey(t testing.TB, id, alg string) testKey {
	t.Helper()
	var priv any
	var err error
	switch alg {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.(crypto.Signer).Public()
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	k := testKey{
		id: id, alg: alg,
		private: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})),
		public:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
	}
	k.verificationOpts = decision.BundleVerification{KeyID: id, PublicKey: k.public, Algorithm: alg}
	return k
}

// Keys are made once per test binary: RSA key generation is slow.
var (
	keysOnce          sync.Once
	goodKey, otherKey testKey
	rsaKey            testKey
)

func testKeys(t testing.TB) (good, other, rsaK testKey) {
	keysOnce.Do(func() {
		goodKey = newKey(t, "bollard-policy", "ES256")
		otherKey = newKey(t, "bollard-policy", "ES256") // the same id, another key
		rsaKey = newKey(t, "rsa-policy", "RS256")
	})
	return goodKey, otherKey, rsaKey
}

// testBundle describes a bundle to build with OPA's writer.
type testBundle struct {
	revision string
	roots    []string
	modules  map[string]string // path -> Rego
	data     map[string]any
	sign     *testKey
	scope    string
	manifest func(*bundle.Manifest)
}

// flagBundle is the flag policy as a bundle: it allows when allow is true.
func flagBundle(revision string, allow bool) testBundle {
	return testBundle{
		revision: revision,
		modules:  map[string]string{"authz.rego": flagPolicy},
		data:     map[string]any{"cfg": map[string]any{"allow": allow}},
	}
}

func (tb testBundle) signed(k testKey) testBundle {
	tb.sign = &k
	return tb
}

func (tb testBundle) build(t testing.TB) []byte {
	t.Helper()
	b := bundle.Bundle{Data: tb.data, Manifest: bundle.Manifest{Revision: tb.revision}}
	if b.Data == nil {
		b.Data = map[string]any{}
	}
	if tb.roots != nil {
		roots := slices.Clone(tb.roots)
		b.Manifest.Roots = &roots
	}
	if tb.manifest != nil {
		tb.manifest(&b.Manifest)
	}
	for _, p := range slices.Sorted(mapKeys(tb.modules)) {
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: p, Path: p, Raw: []byte(tb.modules[p])})
	}
	if tb.sign != nil {
		sc := bundle.NewSigningConfig(tb.sign.private, tb.sign.alg, "")
		if tb.scope != "" {
			claims := filepath.Join(t.TempDir(), "claims.json")
			if err := os.WriteFile(claims, []byte(`{"scope": `+strconv.Quote(tb.scope)+`}`), 0o600); err != nil {
				t.Fatal(err)
			}
			sc.ClaimsPath = claims
		}
		if err := b.GenerateSignature(sc, tb.sign.id, false); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func mapKeys[M ~map[K]V, K comparable, V any](m M) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// writeBundle writes a bundle file atomically, as a deploy tool would.
func writeBundle(t *testing.T, path string, raw []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// bundleServer is a bundle server speaking OPA's protocol: the bundle with
// an ETag, 304 when If-None-Match matches, and whatever failure a test sets.
type bundleServer struct {
	*httptest.Server

	mu       sync.Mutex
	body     []byte
	etag     string
	status   int // answer with this status instead, when set
	requests []*http.Request
	served   int // 200 answers
	block    chan struct{}
}

func newBundleServer(t *testing.T, raw []byte) *bundleServer {
	s := &bundleServer{}
	s.set(raw)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *bundleServer) set(raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body = raw
	s.etag = strconv.Quote(strconv.Itoa(len(s.requests)) + "-" + strconv.Itoa(len(raw)))
}

func (s *bundleServer) fail(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

func (s *bundleServer) stats() (requests []*http.Request, served int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests), s.served
}

func (s *bundleServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Clone(r.Context()))
	status, body, etag, block := s.status, s.body, s.etag, s.block
	if status == 0 && r.Header.Get("If-None-Match") != etag {
		s.served++
	}
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
		}
		return
	}
	switch {
	case status != 0:
		http.Error(w, "failing on purpose", status)
	case r.Header.Get("If-None-Match") == etag:
		w.WriteHeader(http.StatusNotModified)
	default:
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/gzip")
		_, _ = w.Write(body)
	}
}

// observer counts reload outcomes.
type observer struct {
	mu        sync.Mutex
	ok, fails int
}

func (o *observer) observe(ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ok {
		o.ok++
	} else {
		o.fails++
	}
}

func (o *observer) counts() (ok, fails int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.ok, o.fails
}
