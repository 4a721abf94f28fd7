package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

const minimal = `
okta:
  org_url: https://example.okta.com
  api_token_file: /run/secrets/okta-token
identity:
  keys_file: /run/secrets/agent-keys.yaml
`

func TestParseMinimalGetsDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.GRPCListen != "127.0.0.1:8181" || c.Server.AdminListen != "127.0.0.1:8182" || c.Confirmation.TTL.String() != "5m0s" || c.Policy.EvalTimeout.String() != "100ms" ||
		c.Audit.CheckpointInterval.String() != "1m0s" {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	_, err := Parse([]byte(`
server:
  grpc_listen: 0.0.0.0:8181
  max_request_bytes: 12
okta:
  org_url: http://example.okta.com
  api_token_file: a
  api_token_env: B
identity:
  jwt:
    audience: bollard
policy:
  eval_timeout: 1h
audit:
  checkpoint_interval: 2h
log:
  level: loud
`))
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{
		"server.grpc_listen: must be a loopback address",
		"server.max_request_bytes",
		"okta.org_url: must use https",
		"okta: set only one of api_token_file, api_token_env and oauth",
		"identity.jwt.issuer: required",
		"identity.jwt: set exactly one of jwks_file and jwks_url",
		"policy.eval_timeout",
		"audit.checkpoint_interval: must be between 1s and 1h",
		"log.level",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestParseRejectsUnknownKeys(t *testing.T) {
	_, err := Parse([]byte(minimal + "\nokta_typo: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "okta_typo") {
		t.Fatalf("err = %v, want the unknown key named", err)
	}
}

func TestEmptyDocumentNamesWhatIsMissing(t *testing.T) {
	_, err := Parse(nil)
	if err == nil || !strings.Contains(err.Error(), "okta.org_url: required") || !strings.Contains(err.Error(), "identity: set keys_file") || !strings.Contains(err.Error(), "okta: set a credential") {
		t.Fatalf("err = %v", err)
	}
}

func TestOktaToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("  00abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := (Okta{APITokenFile: file}).OktaToken(); err != nil || tok != "00abc" {
		t.Errorf("file token = %q, %v", tok, err)
	}
	t.Setenv("BOLLARD_TEST_TOKEN", "00env")
	if tok, err := (Okta{APITokenEnv: "BOLLARD_TEST_TOKEN"}).OktaToken(); err != nil || tok != "00env" {
		t.Errorf("env token = %q, %v", tok, err)
	}
	if err := os.WriteFile(file, []byte("a b"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (Okta{APITokenFile: file}).OktaToken(); err == nil || strings.Contains(err.Error(), "a b") {
		t.Errorf("token with whitespace: %v", err)
	}
	if _, err := (Okta{APITokenEnv: "BOLLARD_UNSET_VAR"}).OktaToken(); err == nil {
		t.Error("empty token accepted")
	}
}

// TestShippedExampleLoads keeps the documented example valid.
func TestShippedExampleLoads(t *testing.T) {
	c, err := Load("../../examples/config/bollard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Identity.JWT == nil || c.Identity.JWT.AgentClaim != "kubernetes.io.serviceaccount.name" || c.Okta.OrgURL != "https://example.okta.com" {
		t.Errorf("example parsed as %+v", c)
	}
}

func TestOAuthCredential(t *testing.T) {
	base := "identity:\n  keys_file: k\nokta:\n  org_url: https://example.okta.com\n"
	tests := []struct {
		name, okta, wantErr string
	}{
		{"oauth", "  oauth: {client_id: 0oa1, private_key_file: /run/key.pem, key_id: k1}\n", ""},
		{"oauth with scopes", "  oauth: {client_id: 0oa1, private_key_file: /run/key.pem, scopes: [okta.users.read]}\n", ""},
		{"no credential", "", "okta: set a credential"},
		{"two credentials", "  api_token_file: /t\n  oauth: {client_id: 0oa1, private_key_file: /k}\n", "only one of"},
		{"incomplete oauth", "  oauth: {dpop: true}\n", "okta.oauth.client_id: required"},
		{"unknown scope", "  oauth: {client_id: 0oa1, private_key_file: /k, scopes: [okta.users.read, okta.everything.manage]}\n", `"okta.everything.manage" is not a scope`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(base + tc.okta))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(c.Okta.OAuth.AllowedScopes()) == 0 {
					t.Error("no allowed scopes")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestPlainHTTPOnlyToLoopback: every URL the sidecar sends a credential to
// or takes keys or policy from must be https, or plain http to a literal
// loopback IP; a name (even one starting "127.") can be pointed anywhere.
// The error names the field.
func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	doc := func(orgURL, jwksURL, bundleURL string) string {
		return `
okta:
  org_url: ` + orgURL + `
  api_token_file: /run/secrets/okta-token
identity:
  jwt: {issuer: i, audience: a, jwks_url: '` + jwksURL + `'}
policy:
  bundle: {url: '` + bundleURL + `'}
`
	}
	if _, err := Parse([]byte(doc("http://127.0.0.1:8080", "http://127.0.0.1:9/keys", "http://[::1]:8888/b.tar.gz"))); err != nil {
		t.Fatalf("loopback IPs over http refused: %v", err)
	}
	if _, err := Parse([]byte(doc("https://example.okta.com", "https://jwks.example.com/keys", "https://bundles.example.com/b.tar.gz"))); err != nil {
		t.Fatalf("https refused: %v", err)
	}
	for _, host := range []string{"127.attacker.example", "127.0.0.1.nip.io", "localhost", "jwks.example.com", "0.0.0.0"} {
		t.Run(host, func(t *testing.T) {
			_, err := Parse([]byte(doc("http://"+host, "http://"+host+"/keys", "http://"+host+"/b.tar.gz")))
			if err == nil {
				t.Fatal("plain http off loopback accepted")
			}
			for _, field := range []string{"okta.org_url:", "identity.jwt.jwks_url:", "policy.bundle.url:"} {
				if !strings.Contains(err.Error(), field+" must use https") {
					t.Errorf("error does not name %s:\n%v", field, err)
				}
			}
			if !errors.Is(err, loopback.ErrPlainHTTP) {
				t.Errorf("error does not wrap loopback.ErrPlainHTTP: %v", err)
			}
		})
	}
}

// TestListenOnlyOnLoopbackIP: the gRPC and admin listeners take the same
// literal-IP rule as URLs; a name could resolve to a public interface.
func TestListenOnlyOnLoopbackIP(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8181":         true,
		"[::1]:8181":             true,
		"localhost:8181":         false,
		"127.attacker.example:1": false,
		"0.0.0.0:8181":           false,
		":8181":                  false,
	} {
		_, err := Parse([]byte(minimal + "server:\n  grpc_listen: '" + addr + "'\n  admin_listen: '" + addr + "'\n"))
		if (err == nil) != ok {
			t.Errorf("listen %q: err = %v, want ok=%v", addr, err, ok)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "server.grpc_listen: must be a loopback address") || !strings.Contains(err.Error(), "server.admin_listen: must be a loopback address")) {
			t.Errorf("listen %q: error does not name both fields: %v", addr, err)
		}
	}
	if _, err := Parse([]byte(minimal + "server:\n  grpc_listen: 0.0.0.0:8181\n  allow_non_loopback: true\n")); err != nil {
		t.Errorf("allow_non_loopback does not allow: %v", err)
	}
}

// The write-ahead audit's spool sits beside the audit file unless named,
// and the stream bounds have defaults and limits.
func TestAuditSpoolAndStreamBounds(t *testing.T) {
	c, err := Parse([]byte(minimal + "audit:\n  file: /var/log/bollard/audit.log\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Audit.SpoolFile != "/var/log/bollard/audit.log.spool" || c.Audit.SpoolMaxBytes != 64<<20 ||
		c.Server.MaxConcurrentStreams != 256 || c.Hooks.MaxWatchersPerAgent != 4 {
		t.Errorf("defaults: spool %q %d, streams %d, per agent %d", c.Audit.SpoolFile, c.Audit.SpoolMaxBytes,
			c.Server.MaxConcurrentStreams, c.Hooks.MaxWatchersPerAgent)
	}
	if c, _ := Parse([]byte(minimal)); c.Audit.SpoolFile != "" {
		t.Errorf("without an audit file the spool is %q, want memory", c.Audit.SpoolFile)
	}
	_, err = Parse([]byte(minimal + `
server:
  max_concurrent_streams: 1000000
audit:
  file: /var/log/audit.log
  spool_file: /var/log/audit.log
  spool_max_bytes: 10
hooks:
  listen: 127.0.0.1:9443
  secret_file: /run/secrets/hook
  max_watchers: 10
  max_watchers_per_agent: 11
`))
	for _, want := range []string{"server.max_concurrent_streams", "audit.spool_file: must not be audit.file", "audit.spool_max_bytes", "max_watchers_per_agent"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

// Profiles are served on the admin listener: asking for them without one
// is a mistake, reported.
func TestPprofNeedsTheAdminListener(t *testing.T) {
	c, err := Parse([]byte(minimal))
	if err != nil || c.Server.Pprof {
		t.Fatalf("pprof is %v by default (%v), want off", c.Server.Pprof, err)
	}
	c.Server.AdminListen, c.Server.Pprof = "", true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "server.pprof: needs server.admin_listen") {
		t.Errorf("pprof without an admin listener: %v", err)
	}
}

// TestFleetInFlightCap: the fleet-wide cap on requests in flight to Okta
// defaults to two thirds of Okta's usual 75 and is bounded.
func TestFleetInFlightCap(t *testing.T) {
	c, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Limits.OktaFleetMaxInFlight != 50 {
		t.Errorf("okta_fleet_max_in_flight default = %d, want 50", c.Limits.OktaFleetMaxInFlight)
	}
	for _, n := range []string{"-1", "10001"} {
		_, err := Parse([]byte(minimal + "limits:\n  okta_fleet_max_in_flight: " + n + "\n"))
		if err == nil || !strings.Contains(err.Error(), "limits.okta_fleet_max_in_flight") {
			t.Errorf("okta_fleet_max_in_flight %s: err = %v", n, err)
		}
	}
}

// An address set to "" turns its listener off, as documented (and as the
// chart's grpcListen: "" means): the default applies only when the key is
// left out. A listener the operator turned off must not open anyway.
func TestEmptyListenTurnsItOff(t *testing.T) {
	c, err := Parse([]byte(minimal + "server:\n  grpc_listen: ''\n  unix_socket: /run/bollard/b.sock\n  admin_listen: \"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.GRPCListen != "" || c.Server.AdminListen != "" {
		t.Errorf("grpc_listen %q, admin_listen %q: want both off", c.Server.GRPCListen, c.Server.AdminListen)
	}
	c, err = Parse([]byte(minimal + "server:\n  unix_socket: /run/bollard/b.sock\n"))
	if err != nil || c.Server.GRPCListen != "127.0.0.1:8181" || c.Server.AdminListen != "127.0.0.1:8182" {
		t.Errorf("left out: grpc_listen %q, admin_listen %q, %v; want the defaults", c.Server.GRPCListen, c.Server.AdminListen, err)
	}
	if _, err := Parse([]byte(minimal + "server:\n  grpc_listen: ''\n")); err == nil || !strings.Contains(err.Error(), "set grpc_listen, unix_socket or both") {
		t.Errorf("no gRPC listener at all: %v", err)
	}
}
