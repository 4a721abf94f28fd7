package decision_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/bollard-dev/bollard/pkg/decision"
)

func bundleFile(t *testing.T, raw []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bollard.tar.gz")
	writeBundle(t, p, raw)
	return p
}

func TestBundleFile(t *testing.T) {
	good, other, rsaK := testKeys(t)
	verify := decision.WithBundleVerification(good.verificationOpts)
	tests := []struct {
		name     string
		bundle   testBundle
		opts     []decision.Option
		revision string // want; "hash" for a content hash
		allow    bool
		err      string // New fails with an error mentioning this
	}{
		{name: "unsigned", bundle: flagBundle("v1", true), revision: "v1", allow: true},
		{name: "no manifest revision", bundle: flagBundle("", true), revision: "hash", allow: true},
		{name: "signed and verified", bundle: flagBundle("v1", true).signed(good), opts: []decision.Option{verify}, revision: "v1", allow: true},
		{name: "RS256 by default", bundle: flagBundle("v1", false).signed(rsaK),
			opts: []decision.Option{decision.WithBundleVerification(decision.BundleVerification{KeyID: rsaK.id, PublicKey: rsaK.public})}, revision: "v1"},
		{name: "signed, no verification configured", bundle: flagBundle("v1", true).signed(other), revision: "v1", allow: true},
		{name: "signed with another key", bundle: flagBundle("v1", true).signed(other), opts: []decision.Option{verify}, err: "verify"},
		{name: "unsigned but verification required", bundle: flagBundle("v1", true), opts: []decision.Option{verify}, err: ".signatures.json"},
		{name: "scope matches", bundle: func() testBundle { b := flagBundle("v1", true).signed(good); b.scope = "prod"; return b }(),
			opts:     []decision.Option{decision.WithBundleVerification(decision.BundleVerification{KeyID: good.id, PublicKey: good.public, Algorithm: "ES256", Scope: "prod"})},
			revision: "v1", allow: true},
		{name: "scope differs", bundle: func() testBundle { b := flagBundle("v1", true).signed(good); b.scope = "staging"; return b }(),
			opts: []decision.Option{decision.WithBundleVerification(decision.BundleVerification{KeyID: good.id, PublicKey: good.public, Algorithm: "ES256", Scope: "prod"})},
			err:  "scope"},
		{name: "roots respected", bundle: func() testBundle { b := flagBundle("v1", true); b.roots = []string{"bollard"}; return b }(),
			err: "roots"},
		{name: "roots cover the policy", bundle: func() testBundle { b := flagBundle("v1", true); b.roots = []string{"bollard", "cfg"}; return b }(),
			revision: "v1", allow: true},
		{name: "catalog data in the bundle", bundle: func() testBundle {
			b := flagBundle("v1", true)
			b.data["bollard"] = map[string]any{"catalog": map[string]any{}}
			return b
		}(), err: "bollard.catalog"},
		{name: "rego v0", bundle: func() testBundle {
			b := flagBundle("v1", true)
			b.manifest = func(m *bundle.Manifest) { m.SetRegoVersion(0) }
			return b
		}(), err: "Rego v1"},
		{name: "strict mode", bundle: testBundle{revision: "v1", modules: map[string]string{"authz.rego": "package bollard.authz\n\nimport data.unused\n\ndecision := " + ok + "\n"}},
			err: "unused"},
		{name: "no decision", bundle: testBundle{revision: "v1", modules: map[string]string{"authz.rego": "package bollard.authz\n\nallow := true\n"}},
			err: "does not define"},
		{name: "network built-in", bundle: testBundle{revision: "v1", modules: map[string]string{"authz.rego": "package bollard.authz\n\ndecision := " + ok + " if {\n\thttp.send({\"method\": \"GET\", \"url\": \"https://x\"})\n}\n"}},
			err: "http.send"},
		{name: "revision too long", bundle: flagBundle(strings.Repeat("r", 200), true), err: "printable"},
		{name: "not a bundle", err: "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte("not a bundle")
			if tt.bundle.modules != nil {
				raw = tt.bundle.build(t)
			}
			path := bundleFile(t, raw)
			opts := append([]decision.Option{decision.WithBundleFile(path), decision.WithWatch(false), decision.WithLogger(discard)}, tt.opts...)
			e, err := decision.New(t.Context(), opts...)
			if tt.err != "" {
				if err == nil {
					_ = e.Close()
					t.Fatal("New succeeded")
				}
				if !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %q does not mention %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = e.Close() })
			want := tt.revision
			if want == "hash" {
				want = e.Revision()
				if !revisionRE.MatchString(want) {
					t.Errorf("revision %q is not a content hash", want)
				}
			}
			d := e.Decide(t.Context(), decision.Input{Action: action(t, "users.list")})
			if d.Revision != want || e.Revision() != want || d.Allow != tt.allow {
				t.Errorf("decision %+v, want revision %q and allow %v", d, want, tt.allow)
			}
			if st := e.Status(); st.Source != "bundle file "+path || st.Revision != want || st.LastFetch.IsZero() {
				t.Errorf("Status = %+v", st)
			}
		})
	}
}

// TestBundleContentHash: without a manifest revision, the revision is a
// hash of what the bundle holds, not of its bytes.
func TestBundleContentHash(t *testing.T) {
	rev := func(tb testBundle, extra ...decision.Option) string {
		e, _ := newEngine(t, append([]decision.Option{decision.WithBundleFile(bundleFile(t, tb.build(t))), decision.WithWatch(false)}, extra...)...)
		return e.Revision()
	}
	good, _, _ := testKeys(t)
	r := rev(flagBundle("", true))
	if r2 := rev(flagBundle("", true).signed(good), decision.WithBundleVerification(good.verificationOpts)); r2 != r {
		t.Errorf("signing changed the content hash: %s, %s", r, r2)
	}
	if rev(flagBundle("", false)) == r {
		t.Error("changing the data kept the revision")
	}
	withTest := flagBundle("", true)
	withTest.modules["authz_test.rego"] = "package bollard.authz_test\n\ntest_x if true\n"
	if rev(withTest) != r {
		t.Error("a test module changed the revision")
	}
}

// TestBundleFileSwap follows a signed bundle file being replaced: bad
// bundles are refused while the previous policy keeps deciding, and a good
// one is picked up.
func TestBundleFileSwap(t *testing.T) {
	good, other, _ := testKeys(t)
	path := bundleFile(t, flagBundle("v1", true).signed(good).build(t))
	var obs observer
	e, rec := newEngine(t, decision.WithBundleFile(path), decision.WithBundleVerification(good.verificationOpts),
		decision.WithReloadDebounce(20*time.Millisecond), decision.WithReloadObserver(obs.observe))
	if e.Revision() != "v1" || !allowed(t, e) {
		t.Fatalf("revision %s, allowed %v", e.Revision(), allowed(t, e))
	}

	steps := []struct {
		name  string
		raw   []byte
		fails int
	}{
		{"signed with another key", flagBundle("v2", false).signed(other).build(t), 1},
		{"unsigned", flagBundle("v3", false).build(t), 2},
		{"tampered", tamper(t, flagBundle("v4", false).signed(good).build(t), good), 3},
	}
	for _, s := range steps {
		writeBundle(t, path, s.raw)
		eventually(t, s.name+" refused", func() bool { _, f := obs.counts(); return f == s.fails })
		if e.Revision() != "v1" || !allowed(t, e) {
			t.Fatalf("%s: revision %s, allowed %v: the previous policy should keep deciding", s.name, e.Revision(), allowed(t, e))
		}
		if st := e.Status(); st.LastError == nil || st.Revision != "v1" {
			t.Errorf("%s: Status = %+v, want the error and revision v1", s.name, st)
		}
	}
	if n := len(rec.errors("policy rejected")); n != 3 {
		t.Errorf("%d rejections logged, want 3", n)
	}
	// Reloading the same refused file reports the error again, but it is
	// not a new rejection.
	if err := e.Reload(t.Context()); err == nil {
		t.Error("Reload of the refused bundle succeeded")
	}
	if _, f := obs.counts(); f != 3 {
		t.Errorf("%d rejections counted, want 3", f)
	}

	writeBundle(t, path, flagBundle("v5", false).signed(good).build(t))
	eventually(t, "v5", func() bool { return e.Revision() == "v5" })
	if allowed(t, e) {
		t.Error("v5 denies, yet the call was allowed")
	}
	if st := e.Status(); st.LastError != nil || st.Revision != "v5" {
		t.Errorf("Status = %+v", st)
	}
	if o, _ := obs.counts(); o != 2 {
		t.Errorf("%d successful loads, want 2", o)
	}

	// A missing file keeps the policy too.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := e.Reload(t.Context()); err == nil || e.Revision() != "v5" {
		t.Errorf("Reload of a missing file: %v, revision %s", err, e.Revision())
	}
}

// tamper changes a signed bundle's data and keeps its signature.
func tamper(t *testing.T, raw []byte, k testKey) []byte {
	t.Helper()
	vc := bundle.NewVerificationConfig(map[string]*bundle.KeyConfig{k.id: {Key: k.public, Algorithm: k.alg}}, k.id, "", nil)
	b, err := bundle.NewCustomReader(bundle.NewTarballLoader(bytes.NewReader(raw))).WithBundleVerificationConfig(vc).Read()
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Signatures.Signatures) != 1 {
		t.Fatal("the bundle to tamper with is not signed")
	}
	b.Data["cfg"] = map[string]any{"allow": true}
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBundleFileConfigMap: a bundle mounted from a Kubernetes ConfigMap
// (binaryData) is a link through "..data", swapped in one rename.
func TestBundleFileConfigMap(t *testing.T) {
	dir := t.TempDir()
	version := func(name string, raw []byte) {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		writeBundle(t, filepath.Join(dir, name, "bollard.tar.gz"), raw)
	}
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_11_28_13_00_00.1", flagBundle("v1", false).build(t))
	link("..2026_11_28_13_00_00.1", "..data")
	link(filepath.Join("..data", "bollard.tar.gz"), "bollard.tar.gz")

	e, _ := newEngine(t, decision.WithBundleFile(filepath.Join(dir, "bollard.tar.gz")), decision.WithReloadDebounce(20*time.Millisecond))
	if e.Revision() != "v1" {
		t.Fatalf("revision %s", e.Revision())
	}
	version("..2026_11_28_14_00_00.2", flagBundle("v2", true).build(t))
	link("..2026_11_28_14_00_00.2", "..data_tmp")
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ConfigMap update", func() bool { return e.Revision() == "v2" })
	if !allowed(t, e) {
		t.Error("v2 is not in effect")
	}
}
