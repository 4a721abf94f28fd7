package chart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSchemaRejects checks that values.schema.json (and the chart's own
// checks) refuse mistakes before anything reaches a cluster.
func TestSchemaRejects(t *testing.T) {
	for _, c := range []struct {
		name, values string
		want         []string // all in helm's error
	}{
		{"typo", "okta:\n  orgURL: https://example.okta.com\n", []string{"orgURL"}},
		{"typo nested", "hooks:\n  ingress:\n    hostname: x.example.com\n", []string{"hostname"}},
		{"unknown top-level key", "replicaCount: 2\n", []string{"replicaCount"}},
		{"wrong type", "agent:\n  replicas: two\n", []string{"replicas"}},
		{"wrong type bool", "networkPolicy:\n  enabled: \"yes\"\n", []string{"enabled"}},
		{"bad enum", "okta:\n  credential: password\n", []string{"credential"}},
		{"bad duration", "okta:\n  timeout: 30\n", []string{"timeout"}},
		{"no limits", "resources:\n  limits: null\n", []string{"limits"}},
		{"no memory limit", "agent:\n  resources:\n    limits:\n      memory: null\n", []string{"memory"}},
		{"grants: unknown area", "policies:\n  grants:\n    agents:\n      bot: {user: read}\n", []string{"user"}},
		{"grants: bad access", "policies:\n  grants:\n    agents:\n      bot: {users: write}\n", []string{"users"}},
		{"grants: typo", "policies:\n  grants:\n    agent:\n      bot: {users: read}\n", []string{"agent"}},
		{"grants: bad action", "policies:\n  grants:\n    actions:\n      bot: {allow: [Users.List]}\n", []string{"allow"}},
		{"grants: typo in lists", "policies:\n  grants:\n    actions:\n      bot: {denied: [users.delete]}\n", []string{"denied"}},
		// Only a literal loopback IP: a name can be re-pointed off the pod.
		{"grpc on a name", "server:\n  grpcListen: localhost:8181\n", []string{"grpcListen"}},
		{"grpc on a 127 prefix", "server:\n  grpcListen: 127.attacker.example:8181\n", []string{"grpcListen"}},
		{"agent as root", "agent:\n  securityContext:\n    runAsUser: 0\n", []string{"runAsUser"}},
		{"agent securityContext typo", "agent:\n  securityContext:\n    readOnlyRootFS: false\n", []string{"readOnlyRootFS"}},
		// Approvals and the approver: no unknown key, no secret as a value,
		// no plain http to a provider or a console.
		{"approvals typo", "approvals:\n  maxPendingPerAgnet: 5\n", []string{"maxPendingPerAgnet"}},
		{"approvers typo", "approvals:\n  approvers:\n    jwksURL: https://example.okta.com/oauth2/default/v1/keys\n", []string{"jwksURL"}},
		{"webhook URL as a value", "approvals:\n  notify:\n    webhookUrl:\n      value: https://hooks.slack.com/services/T0/B0/x\n", []string{"value"}},
		{"webhook URL in notify", "approvals:\n  notify:\n    url: https://hooks.slack.com/services/T0/B0/x\n", []string{"url"}},
		{"console typo", "approvals:\n  console:\n    clientSecret: s\n", []string{"clientSecret"}},
		{"approvers over http", "approvals:\n  approvers:\n    issuer: http://example.okta.com/oauth2/default\n", []string{"issuer"}},
		{"redirect elsewhere", "approvals:\n  console:\n    redirectUrl: https://approvals.example.com/callback\n", []string{"redirectUrl"}},
		{"redirect over http", "approvals:\n  console:\n    redirectUrl: http://approvals.example.com/approvals/callback\n", []string{"redirectUrl"}},
		{"notify format", "approvals:\n  notify:\n    format: teams\n", []string{"format"}},
		{"notify attempts", "approvals:\n  notify:\n    maxAttempts: 100\n", []string{"maxAttempts"}},
		{"approver typo", "approver:\n  replica: 2\n", []string{"replica"}},
		{"approver tls typo", "approver:\n  tls:\n    secretName: t\n", []string{"secretName"}},
		{"approver ingress typo", "approver:\n  ingress:\n    paths: [/]\n", []string{"paths"}},
		{"approver networkPolicy typo", "approver:\n  networkPolicy:\n    ingressFrom: []\n", []string{"ingressFrom"}},
		{"approver privileged port", "approver:\n  grpcPort: 443\n", []string{"grpcPort"}},
		{"approver without limits", "approver:\n  resources:\n    limits: null\n", []string{"limits"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(f, []byte(c.values), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := template(t, append(append([]string{}, minimalSet...), "-f", f)...)
			if err == nil {
				t.Fatalf("helm template accepted:\n%s", c.values)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q: %v", w, err)
				}
			}
		})
	}
}

// TestRequired checks that the settings without a default fail rendering
// with a message that names them.
func TestRequired(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no org", nil, "okta.orgUrl is required"},
		{"no okta secret", []string{"--set", "okta.orgUrl=https://example.okta.com"}, "okta.ssws.existingSecret is required"},
		{"no agent identity", []string{"--set", "okta.orgUrl=https://example.okta.com", "--set", "okta.ssws.existingSecret=s"}, "identity.agentKeys.existingSecret"},
		{"grants with a bundle", append(append([]string{}, minimalSet...), "--set", "policies.source=bundle", "--set", "policies.bundle.url=https://bundles.example.com/b.tar.gz", "--set", "policies.grants.agents.bot.users=read"), "policies.grants applies to the shipped policy library"},
		{"hooks without secret", append(append([]string{}, minimalSet...), "--set", "hooks.enabled=true"), "hooks.secret.existingSecret is required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := template(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}
