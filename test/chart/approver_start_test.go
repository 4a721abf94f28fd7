package chart

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/sidecar"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// TestRenderedApproverStarts runs `sidecar approver` (sidecar.RunApprover)
// on the approver.yaml the chart renders from ci/approver-values.yaml,
// with its server, TLS, audit, approvals and state sections as rendered
// and every file it names written where the pod mounts it (under a
// temporary root). What cannot be reached from a test is replaced, each
// for a local stand-in: the Okta org (the simulator, with an API token
// instead of the OAuth app), the agents' cluster JWKS (the agent keys
// stay), the people's identity provider (the simulator's), and Redis
// (a redis-server of the test's own, without ACL user or TLS; the rendered
// key prefix stays). It then serves: /readyz is ready, gRPC health and
// ApprovalService answer over the rendered TLS listener, and the console
// answers under /approvals/.
func TestRenderedApproverStarts(t *testing.T) {
	srv := redistest.Start(t)
	out, err := template(t, approverValues...)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	cfg := loadApprover(t, decode(t, out))

	at, write := newStage(t)
	tlsCfg := cfg.Server.TLS
	if tlsCfg == nil {
		t.Fatal("the rendered approver has no server.tls")
	}
	tlsCfg.CertFile, tlsCfg.KeyFile = at(tlsCfg.CertFile), at(tlsCfg.KeyFile)
	tooltest.WriteSelfSigned(t, "approvals-bollard-approver.security.svc", tlsCfg.CertFile, tlsCfg.KeyFile)
	cfg.Server.GRPCListen, cfg.Server.AdminListen = "127.0.0.1:0", "127.0.0.1:0"

	sim := oktasim.New(oktasim.WithAPIToken("t"), oktasim.WithPeopleAuthServer(cfg.Approvals.Approvers.Audience))
	okta := httptest.NewServer(sim.Handler())
	t.Cleanup(okta.Close)
	if err := sim.SetOrgURL(okta.URL); err != nil {
		t.Fatal(err)
	}
	token := at("okta/token")
	write(token, "t")
	cfg.Okta = config.Okta{OrgURL: okta.URL, APITokenFile: token, Timeout: cfg.Okta.Timeout}
	a := cfg.Approvals.Approvers
	a.Issuer = okta.URL + oktasim.PeopleAuthServerPath
	a.JWKSURL = a.Issuer + "/v1/keys"

	if cfg.Identity.KeysFile == "" {
		t.Fatal("the rendered approver names no agent keys")
	}
	cfg.Identity.KeysFile = at(cfg.Identity.KeysFile)
	write(cfg.Identity.KeysFile, "agents:\n  - id: reader-bot\n    key_sha256: "+strings.Repeat("ab", 32)+"\n")
	cfg.Identity.JWT = nil
	cfg.Audit.HMACKeyFile = at(cfg.Audit.HMACKeyFile)
	write(cfg.Audit.HMACKeyFile, strings.Repeat("k", 32))
	stageAudit(t, &cfg, at)
	if n := cfg.Approvals.Notify; n != nil {
		n.WebhookURLFile = at(n.WebhookURLFile)
		write(n.WebhookURLFile, "http://127.0.0.1:9/chart-test-webhook\n")
	}
	r := &cfg.State.Redis
	r.Address, r.Username, r.PasswordFile, r.TLS = srv.Addr(), "", "", config.RedisTLS{}
	if err := cfg.ValidateApprover(); err != nil {
		t.Fatal(err)
	}

	addrs := startMode(t, sidecar.RunApprover, cfg)
	checkReady(t, addrs)

	caPEM, err := os.ReadFile(tlsCfg.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	conn, err := grpc.NewClient(addrs.GRPC.String(), grpc.WithTransportCredentials(credentials.NewTLS(
		&tls.Config{RootCAs: roots, ServerName: "approvals-bollard-approver.security.svc"})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if h, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{}); err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("gRPC health over TLS: %v, %v", h.GetStatus(), err)
	}
	person, err := sim.PersonToken(oktasim.SeedLoginSam, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+person)
	if _, err := bollardv1.NewApprovalServiceClient(conn).ListApprovals(pctx, &bollardv1.ListApprovalsRequest{}); err != nil {
		t.Errorf("ListApprovals as a person over TLS: %v", err)
	}
	if addrs.ConsoleURL == "" {
		t.Fatal("the rendered approver serves no console")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get("http://" + addrs.Admin.String() + "/approvals/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusNotFound || res.StatusCode >= 500 {
		t.Errorf("the console's /approvals/: %d", res.StatusCode)
	}
}
