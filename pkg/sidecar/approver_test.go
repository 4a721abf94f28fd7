package sidecar

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
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

	"github.com/go-jose/go-jose/v4/jwt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approvalcli"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// TestApproverModeServesTheFleetsApprovers runs `sidecar approver` beside
// an agents' sidecar, the two sharing one Redis: the agent's risky call
// waits at its sidecar; the approver, which serves no agent, announces it
// with a link to its own console, and a person approves it with the CLI
// over TLS; the call then runs once through the agent's sidecar.
func TestApproverModeServesTheFleetsApprovers(t *testing.T) {
	srv := redistest.Start(t)
	r := newApprovalRig(t)
	shared := fmt.Sprintf("state:\n  backend: redis\n  redis: {address: %q, key_prefix: %q}\n", srv.Addr(), srv.Config().KeyPrefix)
	gw, _ := r.sidecar(t, shared)

	notified := make(chan map[string]any, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(req.Body).Decode(&body)
		notified <- body
	}))
	t.Cleanup(hook.Close)
	webhook := filepath.Join(r.dir, "webhook")
	if err := os.WriteFile(webhook, []byte(hook.URL), 0o600); err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := writeSelfSigned(t, r.dir, "approver.test")
	cfg, err := config.Parse(fmt.Appendf(nil, `
server:
  grpc_listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  tls: {cert_file: %q, key_file: %q}
okta: {org_url: %q, api_token_file: %q}
identity: {keys_file: %q}
approvals:
  approvers: {issuer: %q, audience: api://bollard-approvals, jwks_file: %q}
  console: {enabled: true, client_id: 0oa-console}
  notify: {webhook_url_file: %q}
%s`, certFile, keyFile, r.okta, filepath.Join(r.dir, "okta-token"), filepath.Join(r.dir, "keys.yaml"),
		approvalsIssuer, filepath.Join(r.dir, "jwks.json"), webhook, shared))
	if err != nil {
		t.Fatal(err)
	}
	a := startMode(t, RunApprover, cfg)
	if a.ConsoleURL == "" || a.MCP != nil || a.Hooks != nil {
		t.Fatalf("approver mode's addresses: %+v; want the console and neither MCP nor event hooks", a)
	}

	req, id := r.suspendCarol(t, gw)
	select {
	case body := <-notified:
		if body["approval_id"] != id || body["url"] != a.ConsoleURL+id {
			t.Errorf("notification %v; want approval %s linked at the approver's console %s", body, id, a.ConsoleURL)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the approver did not announce the pending approval")
	}

	// A person approves with the CLI, over TLS, at the approver.
	tok, err := jwt.Signed(r.signer).Claims(map[string]any{"iss": approvalsIssuer, "aud": "api://bollard-approvals", "sub": "00uSEC",
		"email": "sec@example.com", "groups": []string{"security-approvers"}, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = approvalcli.Run(t.Context(), []string{"approve", id, "--addr", a.GRPC.String(), "--tls", "--ca-file", certFile,
		"--server-name", "approver.test", "--token-file", "-", "--comment", "SEC-7"}, strings.NewReader(tok), &out, &errOut)
	if err != nil {
		t.Fatalf("approvals approve over TLS: %v\n%s", err, errOut.String())
	}
	req.ApprovalId = id
	if _, err := gw.Execute(r.agent(t), req); err != nil {
		t.Fatalf("the approved call: %v", err)
	}
	if n := r.suspensions(); n != 1 {
		t.Errorf("%d suspensions reached Okta, want 1", n)
	}
}

// TestApproverModeServesNoAgent: the approver's gRPC listener speaks TLS
// only, carries ApprovalService and health but no GatewayService, and its
// readiness needs no policy; its console is on the admin listener.
func TestApproverModeServesNoAgent(t *testing.T) {
	srv := redistest.Start(t)
	r := newApprovalRig(t)
	certFile, keyFile := writeSelfSigned(t, r.dir, "approver.test")
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0", tls: {cert_file: %q, key_file: %q}}
okta: {org_url: %q, api_token_file: %q}
identity: {keys_file: %q}
approvals:
  approvers: {issuer: %q, audience: api://bollard-approvals, jwks_file: %q}
  console: {enabled: true, client_id: 0oa-console}
state:
  backend: redis
  redis: {address: %q, key_prefix: %q}
`, certFile, keyFile, r.okta, filepath.Join(r.dir, "okta-token"), filepath.Join(r.dir, "keys.yaml"),
		approvalsIssuer, filepath.Join(r.dir, "jwks.json"), srv.Addr(), srv.Config().KeyPrefix))
	if err != nil {
		t.Fatal(err)
	}
	a := startMode(t, RunApprover, cfg)

	plain, err := grpc.NewClient(a.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := healthpb.NewHealthClient(plain).Check(t.Context(), &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("plaintext to the TLS listener: %v, want UNAVAILABLE", err)
	}

	conn := tlsConn(t, a.GRPC.String(), certFile, "approver.test")
	if resp, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health over TLS: %v, %v", resp, err)
	}
	if _, err := bollardv1.NewGatewayServiceClient(conn).Execute(r.agent(t), &bollardv1.ExecuteRequest{Action: "users.get"}); status.Code(err) != codes.Unimplemented {
		t.Errorf("an agent's call at the approver: %v, want UNIMPLEMENTED", err)
	}
	if _, err := bollardv1.NewApprovalServiceClient(conn).ListApprovals(r.agent(t), &bollardv1.ListApprovalsRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("the agent's key at the approver: %v, want PERMISSION_DENIED", err)
	}

	resp, err := http.Get("http://" + a.Admin.String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || ready["ready"] != true || ready["state_backend"] != "redis" {
		t.Errorf("approver /readyz: %d %v", resp.StatusCode, ready)
	}
	if _, has := ready["policy_revision"]; has {
		t.Errorf("approver /readyz reports a policy it does not have: %v", ready)
	}
	page, err := http.Get(a.ConsoleURL)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	// The console answers (here 503: this test's identity provider has no
	// discovery document to sign in with), with its headers.
	if page.StatusCode == http.StatusNotFound || page.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("the console at %s: %d, CSP %q", a.ConsoleURL, page.StatusCode, page.Header.Get("Content-Security-Policy"))
	}
}

func TestApproverModeRefusesAMemoryStore(t *testing.T) {
	r := newApprovalRig(t)
	cfg, err := config.Parse(fmt.Appendf(nil, `
okta: {org_url: %q, api_token_file: %q}
identity: {keys_file: %q}
approvals:
  approvers: {issuer: %q, audience: api://bollard-approvals, jwks_file: %q}
`, r.okta, filepath.Join(r.dir, "okta-token"), filepath.Join(r.dir, "keys.yaml"), approvalsIssuer, filepath.Join(r.dir, "jwks.json")))
	if err != nil {
		t.Fatal(err)
	}
	err = RunApprover(t.Context(), cfg, WithLogger(quiet), WithAuditStdout(io.Discard))
	if err == nil || !strings.Contains(err.Error(), "state.backend: must be redis in approver mode") {
		t.Fatalf("approver mode on a memory store: %v", err)
	}
}

func tlsConn(t *testing.T, addr, caFile, serverName string) *grpc.ClientConn {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: serverName})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// writeSelfSigned writes a self-signed certificate for name (and
// 127.0.0.1) and its key into dir, PEM, and returns their paths.
func writeSelfSigned(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	tooltest.WriteSelfSigned(t, name, certFile, keyFile)
	return certFile, keyFile
}

// TestApproverReplicasShareConsoleSessions: two approver replicas behind
// one front share the console's sessions through the fleet's Redis, so a
// person signed in through one is signed in at the other (the chart may
// then run several).
func TestApproverReplicasShareConsoleSessions(t *testing.T) {
	srv := redistest.Start(t)
	dir := t.TempDir()
	sim := oktasim.New(oktasim.WithAPIToken("t"), oktasim.WithPeopleAuthServer("api://bollard-approvals"))
	okta := httptest.NewServer(sim.Handler())
	t.Cleanup(okta.Close)
	for name, body := range map[string]string{"okta-token": "t", "keys.yaml": "agents:\n  - id: helpdesk-bot\n    key_sha256: " + identity.HashKey(approvalsAgentKey) + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	issuer := okta.URL + oktasim.PeopleAuthServerPath
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, api_token_file: %q}
identity: {keys_file: %q}
approvals:
  approvers: {issuer: %q, audience: api://bollard-approvals, jwks_url: %q}
  console: {enabled: true, client_id: 0oa-console}
state:
  backend: redis
  redis: {address: %q, key_prefix: %q}
`, okta.URL, filepath.Join(dir, "okta-token"), filepath.Join(dir, "keys.yaml"), issuer, issuer+"/v1/keys", srv.Addr(), srv.Config().KeyPrefix))
	if err != nil {
		t.Fatal(err)
	}
	a, b := startMode(t, RunApprover, cfg), startMode(t, RunApprover, cfg)
	if err := sim.RegisterPeopleClient(oktasim.PeopleClient{ClientID: "0oa-console", Name: "approvals", RedirectURIs: []string{a.ConsoleRedirectURL}}); err != nil {
		t.Fatal(err)
	}
	client := &pageClient{t: t, jar: map[string]string{}}
	client.signIn(a.ConsoleURL, oktasim.SeedLoginSam)
	status, page, _ := client.do("GET", b.ConsoleURL, nil)
	if status != http.StatusOK || !strings.Contains(page, oktasim.SeedLoginSam) {
		t.Fatalf("the other replica's console with the session: %d\n%s", status, page)
	}
}
