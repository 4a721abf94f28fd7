package sidecar

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/forward"
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
// Okta client keeps its limits with the fleet (pkg/forward's fleet.go):
// the sidecar's background sync joins the fleet and publishes the call's
// bucket, and it leaves the fleet as the sidecar closes.
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
	closed := false
	defer func() {
		if !closed {
			p.close(t.Context())
		}
	}()
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
	store := srv.Client()
	members, picture := rc.KeyPrefix+"{okta}:members", rc.KeyPrefix+"{okta}:ratelimit"
	// What the background sync publishes, waited for as a condition.
	for deadline := time.Now().Add(10 * time.Second); !store.HExists(t.Context(), picture, forward.BucketOf(call.Action)).Val(); {
		if time.Now().After(deadline) {
			keys, err := store.Keys(t.Context(), rc.KeyPrefix+"*").Result()
			t.Fatalf("the call's bucket never reached the store; keys %v, %v", keys, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := store.ZCard(t.Context(), members).Val(); n != 1 {
		t.Errorf("%d members in the fleet, want this sidecar", n)
	}
	p.close(t.Context())
	closed = true
	if n := store.ZCard(t.Context(), members).Val(); n != 0 {
		t.Errorf("%d members after the sidecar closed, want none: it leaves the fleet", n)
	}
}
