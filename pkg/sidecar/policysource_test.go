package sidecar

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/bundle"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// readsOnly allows every read and denies every manage action.
const readsOnly = `package bollard.authz

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false}} if {
	input.action.access == "read"
} else := {"allow": false, "deny": [{"code": "bundle_says_no", "message": "reads only"}], "obligations": {"require_confirmation": false}}
`

// signedBundle builds a bundle of one policy, signed with key (ES256).
func signedBundle(t *testing.T, revision, rego string, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	priv := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	b := bundle.Bundle{
		Data:     map[string]any{},
		Manifest: bundle.Manifest{Revision: revision},
		Modules:  []bundle.ModuleFile{{URL: "authz.rego", Path: "authz.rego", Raw: []byte(rego)}},
	}
	if err := b.GenerateSignature(bundle.NewSigningConfig(priv, "ES256", ""), "ci", false); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bundle.NewWriter(&buf).Write(b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestServeWithBundleShadowAndDryRun runs the production path with the
// policy from a signed bundle on a bundle server, a shadow policy from a
// directory and one agent in dry-run, all from the configuration file.
func TestServeWithBundleShadowAndDryRun(t *testing.T) {
	sim := oktasim.New(oktasim.WithAPIToken("file-token"))
	okta := httptest.NewServer(sim.Handler())
	defer okta.Close()

	signing, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&signing.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	raw := signedBundle(t, "bundle-v1", readsOnly, signing)
	bundles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Write(raw)
	}))
	defer bundles.Close()

	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("shadow/authz.rego", "package bollard.authz\n\ndecision := {\"allow\": false, \"deny\": [{\"code\": \"candidate_says_no\", \"message\": \"no\"}], \"obligations\": {\"require_confirmation\": false}}\n")
	readerKey, dryKey := identity.DevKeys()["reader-bot"], "bk_test_dry-bot_0123456789abcdef"
	keys := fmt.Sprintf("agents:\n  - {id: reader-bot, key_sha256: %s}\n  - {id: dry-bot, key_sha256: %s}\n", identity.HashKey(readerKey), identity.HashKey(dryKey))
	auditFile := filepath.Join(dir, "audit.log")
	cfgPath := write("bollard.yaml", fmt.Sprintf(`
server: {grpc_listen: 127.0.0.1:0, admin_listen: 127.0.0.1:0}
okta: {org_url: %s, api_token_file: %s}
identity: {keys_file: %s}
policy:
  bundle:
    url: %s/bundles/bollard.tar.gz
    verification: {key_id: ci, algorithm: ES256, public_key_file: %s}
  shadow: {dir: %s}
  dry_run_agents: [dry-bot]
audit: {stdout: false, file: %s}
`, okta.URL, write("token", "file-token"), write("keys.yaml", keys), bundles.URL,
		write("bundle.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))),
		filepath.Join(dir, "shadow"), auditFile))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	addrs := start(t, cfg)
	if got := readyz(t, addrs); !strings.Contains(got, `"policy_revision":"bundle-v1"`) {
		t.Fatalf("readyz = %s, want the bundle's revision", got)
	}

	conn, err := grpc.NewClient(addrs.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gw := bollardv1.NewGatewayServiceClient(conn)
	call := func(key, action string, params map[string]any) error {
		p, _ := structpb.NewStruct(params)
		ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+key)
		_, err := gw.Execute(ctx, &bollardv1.ExecuteRequest{Action: action, Params: p})
		return err
	}
	create := map[string]any{"body": map[string]any{"profile": map[string]any{"name": "from-dry-run"}}}
	if err := call(readerKey, "users.get", map[string]any{"userId": oktasim.SeedUserAlice}); err != nil {
		t.Fatalf("read under the bundle: %v", err)
	}
	if err := call(readerKey, "groups.create", create); status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "bundle_says_no") {
		t.Fatalf("manage under the bundle: %v, want the bundle's denial", err)
	}
	if err := call(dryKey, "groups.create", create); err != nil {
		t.Fatalf("dry-run agent: %v, want the call to go ahead", err)
	}

	// The records say which policy decided, what the shadow thought and
	// which call went ahead in dry-run.
	var recs []map[string]any
	waitFor(t, "three audit records", func() bool {
		b, _ := os.ReadFile(auditFile)
		recs = nil
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var m map[string]any
			// Each call's last record: an intent is followed by its outcome;
			// checkpoints are the log's own seals.
			if json.Unmarshal(line, &m) == nil && m["kind"] != "intent" && m["kind"] != "checkpoint" {
				recs = append(recs, m)
			}
		}
		return len(recs) == 3
	})
	for i, want := range []struct {
		result, shadowDiffers string
		dryRun                bool
	}{{"ok", "true", false}, {"denied", "true", false}, {"ok", "true", true}} {
		r := recs[i]
		sh, _ := r["shadow"].(map[string]any)
		if r["policy_revision"] != "bundle-v1" || r["result"] != want.result || fmt.Sprint(sh["differs"]) != want.shadowDiffers || r["dry_run"] != want.dryRun {
			t.Errorf("record %d: revision %v result %v shadow %v dry_run %v", i, r["policy_revision"], r["result"], sh, r["dry_run"])
		}
	}
}
