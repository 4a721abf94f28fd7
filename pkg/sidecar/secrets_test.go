package sidecar

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// TestNoSecretInLogsOrErrors drives allowed, denied, confirmed, failing and
// unauthenticated calls with debug logging on, then looks for the Okta
// token, the agent key and the confirmation token in every log line and
// every status the agent got.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	const oktaToken = "00OKTA-SECRET-token-value-XYZ"
	sim := oktasim.New(oktasim.WithAPIToken(oktaToken))
	okta := httptest.NewServer(sim.Handler())
	defer okta.Close()
	dir := t.TempDir()
	agentKey, _ := identity.GenerateKey()
	keys := fmt.Sprintf("agents:\n  - id: helpdesk-bot\n    key_sha256: %s\n", identity.HashKey(agentKey))
	for name, body := range map[string]string{"token": oktaToken, "keys.yaml": keys} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Parse(fmt.Appendf(nil, "server: {grpc_listen: \"127.0.0.1:0\", admin_listen: \"\"}\nokta: {org_url: %q, api_token_file: %q}\nidentity: {keys_file: %q}\n",
		okta.URL, filepath.Join(dir, "token"), filepath.Join(dir, "keys.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	var logs tooltest.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, WithLogger(logger), WithAuditStdout(&logs), WithReady(func(a Addrs) { ready <- a }))
	}()
	defer func() { cancel(); <-done }()
	var addrs Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		done <- err // for the deferred wait
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
	authed := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+agentKey)
	p := func(m map[string]any) *structpb.Struct { s, _ := structpb.NewStruct(m); return s }

	var statuses []string
	record := func(err error) {
		if err != nil {
			statuses = append(statuses, fmt.Sprint(status.Convert(err).Proto()))
		}
	}
	_, err = gw.Execute(authed, &bollardv1.ExecuteRequest{Action: "users.get", Params: p(map[string]any{"userId": oktasim.SeedUserAlice})})
	record(err)
	deactivate := &bollardv1.ExecuteRequest{Action: "user_lifecycle.deactivate", Params: p(map[string]any{"userId": oktasim.SeedUserBob})}
	_, err = gw.Execute(authed, deactivate)
	record(err)
	confirmation := ""
	if err != nil {
		for _, d := range status.Convert(err).Details() {
			if s := fmt.Sprint(d); strings.Contains(s, "bct_") {
				confirmation = s[strings.Index(s, "bct_"):][:47]
			}
		}
	}
	deactivate.Confirmation = confirmation
	_, err = gw.Execute(authed, deactivate)
	record(err)
	_, err = gw.Execute(authed, deactivate) // replayed token
	record(err)
	sim.InjectFault(oktasim.Fault{Status: 401, ErrorCode: "E0000011", Count: 1})
	_, err = gw.Execute(authed, &bollardv1.ExecuteRequest{Action: "users.list"})
	record(err)
	_, err = gw.Execute(metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+agentKey+"x"), &bollardv1.ExecuteRequest{Action: "users.list"})
	record(err)
	_, err = gw.Execute(authed, &bollardv1.ExecuteRequest{Action: "apps.delete", Params: p(map[string]any{"appId": oktasim.SeedAppGitHub})})
	record(err)

	if confirmation == "" {
		t.Fatal("the flow did not produce a confirmation token")
	}
	logged := logs.String()
	if !strings.Contains(logged, `"msg":"call"`) {
		t.Fatalf("no call was logged:\n%s", logged)
	}
	for name, secret := range map[string]string{"Okta token": oktaToken, "agent key": agentKey, "agent key hash": identity.HashKey(agentKey), "confirmation token": confirmation} {
		if strings.Contains(logged, secret) {
			t.Errorf("the %s is in the log", name)
		}
		for _, st := range statuses {
			if name != "confirmation token" && strings.Contains(st, secret) {
				t.Errorf("the %s is in a status sent to the agent: %s", name, st)
			}
		}
	}
}
