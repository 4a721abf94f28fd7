package sidecar

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/telemetry"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// TestEveryCallIsTracedMeasuredAndAudited runs an allow, a deny, a
// confirmation and an Okta error through a real sidecar, with an SSWS token
// and with an OAuth service app, then checks the spans, the metrics scraped
// from /metrics and the audit file's chain, and scans all of it, with the
// process log, for the Okta token, the private key and the agent key.
func TestEveryCallIsTracedMeasuredAndAudited(t *testing.T) {
	for _, mode := range []string{"ssws", "oauth"} {
		t.Run(mode, func(t *testing.T) { observeRun(t, mode) })
	}
}

func observeRun(t *testing.T, mode string) {
	const oktaToken = "00SSWS-secret-token-for-this-test"
	dir := t.TempDir()
	write := func(name string, body []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	sim := oktasim.New(oktasim.WithAPIToken(oktaToken), oktasim.WithServiceApp(oktasim.ServiceApp{
		ClientID: "0oaBOLLARD0000000g7", Scopes: []string{"okta.users.read", "okta.users.manage", "okta.roles.read"},
		PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1"}}},
	}))
	okta := httptest.NewServer(sim.Handler())
	defer okta.Close()
	agentKey, _ := identity.GenerateKey()
	keysFile := write("keys.yaml", fmt.Appendf(nil, "agents:\n  - {id: helpdesk-bot, key_sha256: %s}\n  - {id: reader-bot, key_sha256: %s}\n",
		identity.HashKey(agentKey), identity.HashKey(agentKey+"r")))
	credential := fmt.Sprintf("api_token_file: %q", write("token", []byte(oktaToken)))
	if mode == "oauth" {
		credential = fmt.Sprintf("oauth: {client_id: 0oaBOLLARD0000000g7, key_id: k1, private_key_file: %q, scopes: [okta.users.read, okta.users.manage, okta.roles.read]}", write("key.pem", keyPEM))
	}
	auditFile := filepath.Join(dir, "audit.log")
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, %s}
identity: {keys_file: %q}
audit: {file: %q, hmac_key_file: %q}
`, okta.URL, credential, keysFile, auditFile, write("hmac", []byte("an-audit-hmac-key-of-32-bytes!!"))))
	if err != nil {
		t.Fatal(err)
	}

	exp := tracetest.NewInMemoryExporter()
	var logs, stdout tooltest.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, WithLogger(logger), WithAuditStdout(&stdout), WithTelemetryOptions(telemetry.WithSpanExporter(exp)),
			WithReady(func(a Addrs) { ready <- a }))
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
	helpdesk := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+agentKey)
	p := func(m map[string]any) *structpb.Struct { s, _ := structpb.NewStruct(m); return s }
	var statuses bytes.Buffer
	note := func(err error) {
		if err != nil {
			fmt.Fprintln(&statuses, status.Convert(err).Proto())
		}
	}

	_, err = gw.Execute(helpdesk, &bollardv1.ExecuteRequest{Action: "users.get", Params: p(map[string]any{"userId": oktasim.SeedUserAlice})})
	if err != nil {
		t.Fatalf("allow: %v", err)
	}
	_, err = gw.Execute(helpdesk, &bollardv1.ExecuteRequest{Action: "apps.list"}) // helpdesk-bot has no apps grant
	note(err)
	_, err = gw.Execute(helpdesk, &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: p(map[string]any{"userId": oktasim.SeedUserBob})})
	note(err)
	sim.InjectFault(oktasim.Fault{Method: "GET", PathPrefix: "/api/v1/users", Status: 404, ErrorCode: "E0000007", Count: 1})
	_, err = gw.Execute(helpdesk, &bollardv1.ExecuteRequest{Action: "users.get", Params: p(map[string]any{"userId": oktasim.SeedUserCarol})})
	note(err)

	// A call is answered once one audit sink holds its record; the other
	// sink may finish a moment later, so wait for the file's count: the two
	// calls sent to Okta have an intent and an outcome, the others one.
	fileRecords := `bollard_audit_records_total{sink="file:` + auditFile + `"} 6`
	var metrics []byte
	scrape := func() bool {
		resp, err := http.Get("http://" + addrs.Admin.String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(metrics), fileRecords)
	}
	for deadline := time.Now().Add(5 * time.Second); !scrape() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	// Read the spans before shutting down: shutting the provider down
	// empties the in-memory exporter.
	spans := exp.GetSpans()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Spans: one decision each, the Okta calls under them.
	// The suspend also looks Bob's groups and roles up (the protected-user
	// rule needs them): two lookup spans under its decision.
	var decide, oktaSpans, lookups int
	var spanText strings.Builder
	for _, s := range spans {
		switch {
		case s.Name == telemetry.SpanDecide:
			decide++
		case s.Name == "okta GET /api/v1/users/{userId}/groups" || s.Name == "okta GET /api/v1/users/{userId}/roles":
			lookups++
		case strings.HasPrefix(s.Name, "okta "):
			oktaSpans++
		}
		fmt.Fprintln(&spanText, s.Name, s.Attributes, s.Events, s.Status)
	}
	if decide != 4 || oktaSpans != 2 || lookups != 2 {
		t.Errorf("%d decision spans, %d Okta spans and %d lookups, want 4, 2 and 2", decide, oktaSpans, lookups)
	}
	// Metrics, by value.
	for _, want := range []string{
		`bollard_decisions_total{action="users.get",area="users",deny_code="",result="allow"} 2`,
		`bollard_decisions_total{action="apps.list",area="apps",deny_code="not_granted",result="deny"} 1`,
		`bollard_decisions_total{action="user_lifecycle.suspend",area="user_lifecycle",deny_code="",result="allow"} 1`,
		`bollard_okta_requests_total{action="users.get",status="200"} 1`,
		`bollard_okta_requests_total{action="users.get",status="404"} 1`,
		fileRecords,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The audit file: six records in a chain that verifies, between the
	// checkpoints written at start and at shutdown.
	f, err := os.Open(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	n, err := audit.Verify(f)
	f.Close()
	if err != nil || n != 8 {
		t.Errorf("audit chain: %d records, %v", n, err)
	}
	auditText, _ := os.ReadFile(auditFile)

	// No secret anywhere.
	everything := map[string]string{
		"log": logs.String(), "audit stdout": stdout.String(), "audit file": string(auditText),
		"spans": spanText.String(), "metrics": string(metrics), "statuses": statuses.String(),
	}
	secrets := map[string]string{
		"Okta token": oktaToken, "agent key": agentKey, "agent key hash": identity.HashKey(agentKey),
		"private key": strings.Split(string(keyPEM), "\n")[1],
	}
	for where, text := range everything {
		for what, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s appears in the %s", what, where)
			}
		}
	}
}
