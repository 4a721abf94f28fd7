package chart

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/sidecar"
)

// shippedPolicyArgs passes the shipped policies as policies.files, the way
// docs/kubernetes.md shows with --set-file.
func shippedPolicyArgs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "policies", "*"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--set", "policies.source=files"}
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasSuffix(name, "_test.rego") || !(strings.HasSuffix(name, ".rego") || strings.HasSuffix(name, ".json")) {
			continue
		}
		args = append(args, "--set-file", "policies.files."+strings.ReplaceAll(name, ".", `\.`)+"="+f)
	}
	return args
}

// TestRenderedPodStarts runs the sidecar on what the chart renders: the
// rendered bollard.yaml, the chart-built policy ConfigMap written out as the
// kubelet would mount it, and stand-in Secrets at the mounted paths (all
// under a temporary root; listeners moved to free loopback ports). The
// sidecar must become ready on /readyz, serve gRPC health on the Unix socket
// and answer an agent that uses its key.
func TestRenderedPodStarts(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"embedded policies", []string{"-f", filepath.Join(chartDir, "ci", "sidecar-ssws-values.yaml")}},
		{"event hooks", []string{"-f", filepath.Join(chartDir, "ci", "event-hooks-ingress-values.yaml")}},
		{"shipped policies as files", append([]string{"-f", filepath.Join(chartDir, "ci", "sidecar-ssws-values.yaml")}, shippedPolicyArgs(t)...)},
		{"grants as values", []string{"-f", filepath.Join(chartDir, "ci", "grants-values.yaml")}},
		{"approvals", approvalsValues},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := template(t, c.args...)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			r := decode(t, out)
			checkHardening(t, r, true)
			checkConfig(t, r)
			conn, as := startRendered(t, r)
			if c.name == "grants as values" {
				checkGrantsDecide(t, conn, as, grantsFromValues(t, filepath.Join(chartDir, "ci", "grants-values.yaml")))
			}
		})
	}
}

// agentKeys are the agents the stand-in key file lists, with their keys.
var agentKeys = map[string]string{
	"reader-bot":   "bk_chart-test-key",
	"helpdesk-bot": "bk_chart-test-helpdesk-key",
}

// startRendered starts the sidecar on the rendered objects and returns a
// connection on its Unix socket and the outgoing context of each agent in
// agentKeys.
func startRendered(t *testing.T, r rendered) (*grpc.ClientConn, func(agent string) context.Context) {
	t.Helper()
	var raw string
	var policies map[string]string
	for _, cm := range r.configMaps {
		switch {
		case strings.HasSuffix(cm.Name, "-config"):
			raw = cm.Data["bollard.yaml"]
		case strings.HasSuffix(cm.Name, "-policies"):
			policies = cm.Data
		}
	}
	cfg, err := config.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	at, write := newStage(t)

	if cfg.Okta.APITokenFile == "" || cfg.Identity.KeysFile == "" {
		t.Fatalf("this test wants an SSWS token and agent keys")
	}
	cfg.Okta.APITokenFile = at(cfg.Okta.APITokenFile)
	write(cfg.Okta.APITokenFile, "00ssws-chart-test-token\n")
	cfg.Identity.KeysFile = at(cfg.Identity.KeysFile)
	keys := "agents:\n"
	for id, key := range agentKeys {
		sum := sha256.Sum256([]byte(key))
		keys += fmt.Sprintf("  - id: %s\n    key_sha256: %s\n", id, hex.EncodeToString(sum[:]))
	}
	write(cfg.Identity.KeysFile, keys)
	if cfg.Audit.HMACKeyFile != "" {
		cfg.Audit.HMACKeyFile = at(cfg.Audit.HMACKeyFile)
		write(cfg.Audit.HMACKeyFile, strings.Repeat("k", 32))
	}
	stageAudit(t, &cfg, at)
	if cfg.Hooks.Enabled() {
		cfg.Hooks.SecretFile = at(cfg.Hooks.SecretFile)
		write(cfg.Hooks.SecretFile, "chart-test-hook-secret")
		cfg.Hooks.Listen = "127.0.0.1:0"
	}
	// The approvers' identity provider is the simulator's, on loopback; the
	// webhook URL file holds a loopback URL, as the Secret would a Slack one.
	var people *oktasim.Sim
	if a := cfg.Approvals.Approvers; a != nil {
		people = oktasim.New(oktasim.WithAPIToken("t"), oktasim.WithPeopleAuthServer(a.Audience))
		srv := httptest.NewServer(people.Handler())
		t.Cleanup(srv.Close)
		if err := people.SetOrgURL(srv.URL); err != nil {
			t.Fatal(err)
		}
		a.Issuer = srv.URL + oktasim.PeopleAuthServerPath
		a.JWKSURL = a.Issuer + "/v1/keys"
	}
	if n := cfg.Approvals.Notify; n != nil {
		n.WebhookURLFile = at(n.WebhookURLFile)
		write(n.WebhookURLFile, "http://127.0.0.1:9/chart-test-webhook\n")
	}
	if cfg.Policy.Dir != "" {
		if len(policies) == 0 {
			t.Fatalf("policy.dir is %s but the chart built no policy ConfigMap", cfg.Policy.Dir)
		}
		cfg.Policy.Dir = at(cfg.Policy.Dir)
		for name, content := range policies {
			write(filepath.Join(cfg.Policy.Dir, name), content)
		}
	}
	if cfg.Server.UnixSocket == "" {
		t.Fatal("this test wants the Unix socket")
	}
	cfg.Server.UnixSocket = at(cfg.Server.UnixSocket)
	if err := os.MkdirAll(filepath.Dir(cfg.Server.UnixSocket), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.Server.GRPCListen, cfg.Server.AdminListen = "127.0.0.1:0", "127.0.0.1:0"

	addrs := startMode(t, sidecar.Run, cfg)
	checkReady(t, addrs)

	if cfg.Hooks.Enabled() {
		// Okta's verification challenge, with the secret header.
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addrs.Hooks.String()+cfg.Hooks.Path, nil)
		req.Header.Set(cfg.Hooks.AuthHeader, "chart-test-hook-secret")
		req.Header.Set("X-Okta-Verification-Challenge", "chart-test")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("event hook verification: %d", res.StatusCode)
		}
	}

	conn, err := grpc.NewClient("unix://"+addrs.UnixSocket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	h, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("gRPC health on the socket: %v, %v", h.GetStatus(), err)
	}
	// The liveness probe's own command, against the socket moved under root.
	for _, c := range r.podTemplate(t).Spec.InitContainers {
		if cmd := livenessCommand(&c); len(cmd) == 4 && cmd[1] == "health" {
			addr := "unix://" + at(strings.TrimPrefix(cmd[3], "unix://"))
			// `sidecar health --addr ADDR` (cmd/sidecar) is this call with its 2s default.
			if err := sidecar.HealthCheck(t.Context(), addr, 2*time.Second); err != nil {
				t.Errorf("the liveness probe's command fails on a serving sidecar: %v", err)
			}
		}
	}
	if people != nil {
		// A person's token reaches ApprovalService on the socket, and the
		// console answers under /approvals/ on the admin listener.
		token, err := people.PersonToken("sam.singh@example.com", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+token)
		if _, err := bollardv1.NewApprovalServiceClient(conn).ListApprovals(ctx, &bollardv1.ListApprovalsRequest{}); err != nil {
			t.Errorf("ListApprovals as a person: %v", err)
		}
		if c := cfg.Approvals.Console; c != nil && c.Enabled {
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
	}
	as := func(agent string) context.Context {
		return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+agentKeys[agent])
	}
	if _, err := bollardv1.NewGatewayServiceClient(conn).ListActions(as("reader-bot"), &bollardv1.ListActionsRequest{}); err != nil {
		t.Fatalf("ListActions as the agent: %v", err)
	}
	return conn, as
}

// newStage is where a test puts the files a rendered configuration names,
// as the pod would mount them: at maps a path in the pod to one under a
// temporary root (short: a Unix socket path is limited to about 100
// bytes), and write writes a file there, making its directories.
func newStage(t *testing.T) (at func(string) string, write func(path, content string)) {
	t.Helper()
	root, err := os.MkdirTemp("", "bollard-chart")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	at = func(p string) string { return filepath.Join(root, p) }
	write = func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return at, write
}

// stageAudit moves the audit file and spool under the stage: they live in
// an emptyDir, an empty directory.
func stageAudit(t *testing.T, cfg *config.Config, at func(string) string) {
	t.Helper()
	for _, p := range []*string{&cfg.Audit.File, &cfg.Audit.SpoolFile} {
		if *p == "" {
			continue
		}
		*p = at(*p)
		if err := os.MkdirAll(filepath.Dir(*p), 0o700); err != nil {
			t.Fatal(err)
		}
	}
}

// startMode runs run (sidecar.Run or sidecar.RunApprover) on cfg until the
// test ends, and returns its addresses once it serves.
func startMode(t *testing.T, run func(context.Context, config.Config, ...sidecar.Option) error, cfg config.Config) sidecar.Addrs {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan sidecar.Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, cfg, sidecar.WithReady(func(a sidecar.Addrs) { ready <- a }),
			sidecar.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), sidecar.WithAuditStdout(io.Discard))
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the process stopped with: %v", err)
		}
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		done <- nil
		t.Fatalf("it did not start on the rendered configuration: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("it did not start within 60s")
	}
	return sidecar.Addrs{}
}

// checkReady checks that /readyz on the admin listener says ready.
func checkReady(t *testing.T, addrs sidecar.Addrs) {
	t.Helper()
	res, err := http.Get("http://" + addrs.Admin.String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Ready bool `json:"ready"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != http.StatusOK || !body.Ready {
		t.Fatalf("/readyz: %d, ready=%v, %v", res.StatusCode, body.Ready, err)
	}
}
