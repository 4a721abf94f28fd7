package sidecar

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

var quiet = slog.New(slog.DiscardHandler)

// start runs Run in the background and returns its addresses.
func start(t *testing.T, cfg config.Config) Addrs { return startMode(t, Run, cfg) }

// startMode runs run (Run or RunApprover) in the background and returns
// its addresses; the test's end stops it and checks it stopped cleanly.
func startMode(t *testing.T, run func(context.Context, config.Config, ...Option) error, cfg config.Config, opts ...Option) Addrs {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, cfg, append([]Option{WithLogger(quiet), WithAuditStdout(io.Discard), WithReady(func(a Addrs) { ready <- a })}, opts...)...)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		done <- err // for the cleanup, which waits for Run's end
		t.Fatalf("Run stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not start")
	}
	return Addrs{}
}

// TestServeFromConfigFiles runs the production path: config, key file and
// token file on disk, gRPC on TCP and a Unix socket, the admin endpoints.
func TestServeFromConfigFiles(t *testing.T) {
	sim := oktasim.New(oktasim.WithAPIToken("file-token"))
	okta := httptest.NewServer(sim.Handler())
	defer okta.Close()

	dir := t.TempDir()
	key, err := identity.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys := fmt.Sprintf("agents:\n  - id: reader-bot\n    key_sha256: %s\n", identity.HashKey(key))
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sock := filepath.Join(dir, "bollard.sock")
	cfgPath := write("bollard.yaml", fmt.Sprintf(`
server:
  grpc_listen: 127.0.0.1:0
  unix_socket: %s
  admin_listen: 127.0.0.1:0
okta:
  org_url: %s
  api_token_file: %s
identity:
  keys_file: %s
`, sock, okta.URL, write("token", "file-token\n"), write("keys.yaml", keys)))
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	addrs := start(t, cfg)

	// The agent, another user in the pod's group, may connect; others not.
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode = %v, %v; want 0660", fi.Mode(), err)
	}
	for _, target := range []string{addrs.GRPC.String(), "unix://" + sock} {
		t.Run(target, func(t *testing.T) {
			conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+key)
			p, _ := structpb.NewStruct(map[string]any{"userId": oktasim.SeedUserAlice})
			resp, err := bollardv1.NewGatewayServiceClient(conn).Execute(ctx, &bollardv1.ExecuteRequest{Action: "users.get", Params: p})
			if err != nil {
				t.Fatal(err)
			}
			if resp.GetOkta().GetHttpStatus() != 200 {
				t.Errorf("okta status %d", resp.GetOkta().GetHttpStatus())
			}
			hc, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
			if err != nil || hc.Status != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("health = %v, %v", hc, err)
			}
		})
	}
	// The dev keys are not accepted by a server configured with a key file.
	conn, _ := grpc.NewClient(addrs.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+identity.DevKeys()["reader-bot"])
	if _, err := bollardv1.NewGatewayServiceClient(conn).ListActions(ctx, &bollardv1.ListActionsRequest{}); err == nil {
		t.Error("a dev key was accepted outside dev mode")
	}

	metrics, err := http.Get("http://" + addrs.Admin.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	for _, want := range []string{
		`bollard_decisions_total{action="users.get",area="users",deny_code="",result="allow"} 2`,
		`bollard_okta_requests_total{action="users.get",status="200"} 2`,
		`bollard_okta_rate_limit_remaining{bucket="GET /api/v1/users/{userId}"}`,
		`bollard_policy_revision{revision="`,
		`bollard_okta_in_flight_cap 10`,
		`bollard_audit_spool_pending 0`,
		// Two calls sent to Okta (an intent and an outcome each) and the
		// refused listing.
		`bollard_audit_records_total{sink="stdout"} 5`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	resp, err := http.Get("http://" + addrs.Admin.String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ready map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ready); err != nil || resp.StatusCode != 200 || ready["ready"] != true || ready["policy_revision"] == "" ||
		!strings.Contains(fmt.Sprint(ready["audit_sinks"]), "healthy:true") {
		t.Errorf("readyz = %d %v %v", resp.StatusCode, ready, err)
	}
}

// TestReflectionListsEveryService is what grpcurl relies on.
func TestReflectionListsEveryService(t *testing.T) {
	a := startDev(t)
	conn, err := grpc.NewClient(a.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.Name)
	}
	want := []string{"bollard.v1.GatewayService", "grpc.health.v1.Health"}
	for _, area := range catalog.Areas() {
		want = append(want, catalog.TypedPackage+"."+area.Service)
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("reflection does not list %s (got %v)", w, names)
		}
	}
}

func startDev(t *testing.T) Addrs { return startDevWith(t, DevOptions{}) }

func startDevWith(t *testing.T, o DevOptions) Addrs {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan Addrs, 1)
	done := make(chan error, 1)
	o.Listen, o.AdminListen, o.Ready, o.Logger = "127.0.0.1:0", "127.0.0.1:0", func(a Addrs) { ready <- a }, quiet
	if o.MCPListen == "" {
		o.MCPListen = "127.0.0.1:0"
	}
	go func() { done <- Dev(ctx, o) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case a := <-ready:
		return a
	case err := <-done:
		t.Fatalf("Dev stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Dev did not start")
	}
	return Addrs{}
}

func TestRunFailsClosedOnBadSetup(t *testing.T) {
	dir := t.TempDir()
	base := config.Default()
	base.Okta.OrgURL = "https://example.okta.com"
	base.Okta.APITokenFile = filepath.Join(dir, "missing-token")
	base.Identity.KeysFile = filepath.Join(dir, "missing-keys")
	base.Server.GRPCListen, base.Server.AdminListen = "127.0.0.1:0", ""
	if err := Run(t.Context(), base, WithLogger(quiet)); err == nil {
		t.Error("Run started without its key file")
	}
	// With the keys and token in place, a broken policy still stops it.
	keys := fmt.Sprintf("agents:\n  - id: a\n    key_sha256: %s\n", identity.HashKey("k"))
	if err := os.WriteFile(base.Identity.KeysFile, []byte(keys), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base.Okta.APITokenFile, []byte("tok"), 0o600); err != nil {
		t.Fatal(err)
	}
	policyDir := t.TempDir()
	brokenPolicy := base
	brokenPolicy.Policy.Dir = policyDir
	if err := os.WriteFile(filepath.Join(policyDir, "bad.rego"), []byte("package bollard.authz\ndecision := {"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Run(t.Context(), brokenPolicy, WithLogger(quiet))
	if err == nil || !strings.Contains(err.Error(), "load policies") {
		t.Errorf("Run with a broken policy: %v", err)
	}
}

func TestSampleGrantsMatchDevAgents(t *testing.T) {
	grants, err := SampleGrants()
	if err != nil {
		t.Fatal(err)
	}
	for id := range identity.DevKeys() {
		if len(grants[id]) == 0 {
			t.Errorf("dev agent %s has no sample grants", id)
		}
	}
}

func TestExampleAgentKeysFileLoads(t *testing.T) {
	if _, err := identity.LoadKeyFile("../../examples/config/agent-keys.yaml"); err != nil {
		t.Fatal(err)
	}
}
