package sidecar

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// TestReadyzReportsTheSharedStore: with the redis backend the sidecar
// starts, /readyz says whether the store answers, and stays ready while it
// does not (reads go on under local limits).
func TestReadyzReportsTheSharedStore(t *testing.T) {
	srv := redistest.Start(t)
	okta := httptest.NewServer(oktasim.New(oktasim.WithAPIToken("t")).Handler())
	defer okta.Close()
	t.Setenv("BOLLARD_TEST_OKTA_TOKEN", "t")
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, api_token_env: BOLLARD_TEST_OKTA_TOKEN}
identity: {keys_file: %q}
state:
  backend: redis
  redis: {address: %q, read_timeout: 200ms, write_timeout: 200ms, dial_timeout: 200ms}
`, okta.URL, keysFile(t), srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	addrs := start(t, cfg)
	readyz := func() (int, map[string]any) {
		resp, err := http.Get("http://" + addrs.Admin.String() + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, body
	}
	if code, body := readyz(); code != http.StatusOK || body["state_backend"] != "redis" || body["state_available"] != true {
		t.Fatalf("with the store up: %d %v", code, body)
	}
	srv.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := readyz()
		if body["state_available"] == false {
			if code != http.StatusOK || body["ready"] != true {
				t.Errorf("the sidecar left service with the store: %d %v", code, body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still says the store is available: %v", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keysFile writes a key file with one agent and returns its path.
func keysFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, "agents:\n  - id: reader-bot\n    key_sha256: %s\n", identity.HashKey("bk_state_test")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOktaLimitsAreSharedWithTheRedisBackend: with the redis backend the
// Okta client keeps its limits in the store (pkg/forward's fleet.go): a
// call publishes its bucket there and gives its place back.
func TestOktaLimitsAreSharedWithTheRedisBackend(t *testing.T) {
	srv := redistest.Start(t)
	okta := httptest.NewServer(oktasim.New(oktasim.WithAPIToken("t")).Handler())
	defer okta.Close()
	t.Setenv("BOLLARD_TEST_OKTA_TOKEN", "t")
	rc := srv.Config()
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: ""}
okta: {org_url: %q, api_token_env: BOLLARD_TEST_OKTA_TOKEN}
identity: {keys_file: %q}
state:
  backend: redis
  redis: {address: %q, key_prefix: %q}
`, okta.URL, keysFile(t), srv.Addr(), rc.KeyPrefix))
	if err != nil {
		t.Fatal(err)
	}
	p, err := build(t.Context(), cfg, newRunOptions([]Option{WithLogger(quiet), WithAuditStdout(io.Discard)}))
	defer p.close(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	call, err := catalog.Bind("users.get", map[string]any{"userId": oktasim.SeedUserAlice})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.okta.Do(t.Context(), call, "d"); err != nil {
		t.Fatal(err)
	}
	keys, err := srv.Client().Keys(t.Context(), rc.KeyPrefix+"okta:*").Result()
	if err != nil || len(keys) != 1 || !strings.HasPrefix(keys[0], rc.KeyPrefix+"okta:ratelimit:GET_") {
		t.Errorf("keys in the store = %v, %v; want the call's bucket (its place given back)", keys, err)
	}
}
