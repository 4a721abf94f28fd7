package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const approverBase = minimal + `
state:
  backend: redis
  redis: {address: 'redis.infra:6379'}
approvals:
  approvers:
    issuer: https://example.okta.com/oauth2/default
    audience: api://bollard-approvals
    jwks_url: https://example.okta.com/oauth2/default/v1/keys
`

func loadApprover(t *testing.T, doc string) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "approver.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadApprover(path)
	return err
}

func TestApproverModeValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		doc  string
		want []string // every one reported at once; none: valid
	}{
		"loopback without tls": {doc: approverBase},
		"network with tls":     {doc: approverBase + "server:\n  grpc_listen: 0.0.0.0:8443\n  allow_non_loopback: true\n  tls: {cert_file: /t/tls.crt, key_file: /t/tls.key}\n"},
		"network without tls": {doc: approverBase + "server:\n  grpc_listen: 0.0.0.0:8443\n  allow_non_loopback: true\n",
			want: []string{"server.tls: required in approver mode"}},
		"every problem": {
			doc: minimal + "server:\n  grpc_listen: 10.0.0.5:8443\n  allow_non_loopback: true\n  tls: {cert_file: /t/tls.crt}\nmcp: {enabled: true}\nhooks:\n  listen: 127.0.0.1:8183\n  secret_file: /s\n",
			want: []string{"state.backend: must be redis in approver mode", "approvals.approvers: required in approver mode",
				"hooks: approver mode serves no event hooks", "mcp: approver mode serves no MCP front", "server.tls.key_file: required"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := loadApprover(t, tc.doc)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid configuration refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid configuration accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestServerTLSValidate(t *testing.T) {
	if _, err := Parse([]byte(minimal + "server:\n  tls: {cert_file: /c, key_file: /k}\n")); err != nil {
		t.Fatalf("tls on the TCP listener refused: %v", err)
	}
	_, err := Parse([]byte(minimal + "server:\n  tls: {key_file: /k}\n"))
	if err == nil || !strings.Contains(err.Error(), "server.tls.cert_file: required") {
		t.Fatalf("tls without a certificate: %v", err)
	}
}

// TestShippedApproverExampleLoads keeps the documented approver example
// valid for approver mode.
func TestShippedApproverExampleLoads(t *testing.T) {
	c, err := LoadApprover("../../examples/config/approver.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.TLS == nil || !c.State.Shared() || c.Approvals.Console == nil || !c.Approvals.Console.Enabled {
		t.Errorf("example parsed as %+v", c)
	}
}
