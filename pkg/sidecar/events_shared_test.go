package sidecar

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// TestSharedEventsAcrossSidecars: with the redis backend, an event Okta
// delivers to one sidecar reaches an agent watching through another.
func TestSharedEventsAcrossSidecars(t *testing.T) {
	srv := redistest.Start(t)
	okta := httptest.NewServer(oktasim.New(oktasim.WithAPIToken("t")).Handler())
	defer okta.Close()
	t.Setenv("BOLLARD_TEST_OKTA_TOKEN", "t")
	secret := filepath.Join(t.TempDir(), "hook-secret")
	if err := os.WriteFile(secret, []byte("hook-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, api_token_env: BOLLARD_TEST_OKTA_TOKEN}
identity: {keys_file: %q}
hooks: {listen: "127.0.0.1:0", secret_file: %q}
state:
  backend: redis
  redis: {address: %q, key_prefix: %q}
`, okta.URL, keysFile(t), secret, srv.Addr(), srv.Config().KeyPrefix)
	var addrs [2]Addrs
	for i := range addrs {
		cfg, err := config.Parse(yaml)
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = start(t, cfg)
	}

	// Delivered to A before B's agent watches: B's agent resumes from a
	// cursor of its own making, so it is sent the event either way (from
	// B's replay window, or live), after a gap of unknown size.
	body := fmt.Appendf(nil, `{"eventType":"com.okta.event_hook","eventId":"d-1","data":{"events":[`+
		`{"uuid":"shared-1","eventType":"user.lifecycle.create","published":"2026-11-30T15:00:29.412Z",`+
		`"actor":{"id":"0oa1","type":"PublicClientApp"},"target":[{"id":"00u1","type":"User"}]}]}}`)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addrs[0].Hooks.String()+"/okta/event-hooks", bytes.NewReader(body))
	req.Header.Set("Authorization", "hook-secret")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delivery to A = %d", resp.StatusCode)
	}

	conn, err := grpc.NewClient(addrs[1].GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer bk_state_test")
	stream, err := bollardv1.NewGatewayServiceClient(conn).WatchEvents(ctx, &bollardv1.WatchEventsRequest{
		EventTypes: []string{"user.lifecycle.create"}, ResumeAfter: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := stream.Recv()
	if err != nil || !m.GetGap().GetUnknown() {
		t.Fatalf("first message = %v, %v; want an unknown gap", m, err)
	}
	if m, err = stream.Recv(); err != nil || m.GetEvent().GetUuid() != "shared-1" {
		t.Fatalf("second message = %v, %v; want the event delivered to A", m, err)
	}
}
