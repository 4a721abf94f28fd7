package sidecar

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestShutdownKeepsEveryAuditRecord: calls, then the context ends as on
// SIGTERM; once Run has returned, the audit file holds one record per call
// in a chain that verifies.
func TestShutdownKeepsEveryAuditRecord(t *testing.T) {
	okta := httptest.NewServer(oktasim.New(oktasim.WithAPIToken("t")).Handler())
	defer okta.Close()
	dir := t.TempDir()
	key, _ := identity.GenerateKey()
	files := map[string]string{
		"token":     "t",
		"keys.yaml": fmt.Sprintf("agents:\n  - id: reader-bot\n    key_sha256: %s\n", identity.HashKey(key)),
		"hmac":      "0123456789abcdef0123456789abcdef",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	auditFile := filepath.Join(dir, "audit.log")
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: ""}
okta: {org_url: %q, api_token_file: %q}
identity: {keys_file: %q}
audit: {stdout: false, file: %q, hmac_key_file: %q}
`, okta.URL, filepath.Join(dir, "token"), filepath.Join(dir, "keys.yaml"), auditFile, filepath.Join(dir, "hmac")))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, WithLogger(quiet), WithAuditStdout(io.Discard), WithReady(func(a Addrs) { ready <- a }))
	}()
	var addrs Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("did not start")
	}
	conn, err := grpc.NewClient(addrs.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gw := bollardv1.NewGatewayServiceClient(conn)
	callCtx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+key)
	const calls = 25
	for range calls {
		if _, err := gw.Execute(callCtx, &bollardv1.ExecuteRequest{Action: "users.list"}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	f, err := os.Open(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// An intent and an outcome for each call, every intent paired.
	n, err := audit.Verify(f)
	if err != nil || n != 2*calls {
		t.Fatalf("audit file: %d records, %v; want %d in a valid chain", n, err, 2*calls)
	}
	if p, err := audit.PairIntents([]string{auditFile}, 0); err != nil || p.Intents != calls || len(p.Unpaired) != 0 {
		t.Fatalf("pairing: %+v, %v", p, err)
	}
	raw, _ := os.ReadFile(auditFile)
	if strings.Contains(string(raw), key) {
		t.Error("the agent key is in the audit log")
	}
}
