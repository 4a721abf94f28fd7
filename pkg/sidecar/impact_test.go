package sidecar

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// TestImpactCountsInTheSharedStore: with the redis backend a destructive
// call is counted in the store, under the configured prefix, with a TTL,
// and nothing else kept there.
func TestImpactCountsInTheSharedStore(t *testing.T) {
	srv := redistest.Start(t)
	okta := httptest.NewServer(oktasim.New(oktasim.WithAPIToken("t")).Handler())
	defer okta.Close()
	t.Setenv("BOLLARD_TEST_OKTA_TOKEN", "t")
	const key = "bk_impact_test_provisioner"
	dir := t.TempDir()
	keys, policy := filepath.Join(dir, "keys.yaml"), filepath.Join(dir, "policy")
	if err := os.WriteFile(keys, fmt.Appendf(nil, "agents:\n  - id: provisioner-bot\n    key_sha256: %s\n", identity.HashKey(key)), 0o600); err != nil {
		t.Fatal(err)
	}
	// A policy that allows everything, unconfirmed, at any hour: this test
	// is about where the count goes, not about the shipped rules.
	if err := os.Mkdir(policy, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(policy, "authz.rego"), []byte("package bollard.authz\n\ndecision := {\"allow\": true, \"deny\": [], \"obligations\": {\"require_confirmation\": false}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, api_token_env: BOLLARD_TEST_OKTA_TOKEN}
identity: {keys_file: %q}
policy: {dir: %q}
state:
  backend: redis
  redis: {address: %q, key_prefix: "fleet:"}
`, okta.URL, keys, policy, srv.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	addrs := start(t, cfg)
	conn, err := grpc.NewClient(addrs.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+key)
	p, _ := structpb.NewStruct(map[string]any{"userId": oktasim.SeedUserBob})
	if _, err := bollardv1.NewGatewayServiceClient(conn).Execute(ctx, &bollardv1.ExecuteRequest{Action: "users.delete", Params: p}); err != nil {
		t.Fatal(err)
	}
	rc := srv.Client()
	found, _ := rc.Keys(t.Context(), "fleet:impact:*").Result()
	if len(found) != 1 {
		t.Fatalf("impact keys in the store: %v, want one agent's counts (nothing else kept)", found)
	}
	buckets, _ := rc.HGetAll(t.Context(), found[0]).Result()
	if len(buckets) != 2 || rc.TTL(t.Context(), found[0]).Val() < time.Hour {
		t.Errorf("counts %v with TTL %v, want a minute and an hour bucket, expiring", buckets, rc.TTL(t.Context(), found[0]).Val())
	}
}
