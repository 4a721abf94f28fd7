package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestApprovalsDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal + "approvals:\n  approvers:\n    issuer: https://example.okta.com/oauth2/default\n    audience: api://bollard-approvals\n    jwks_url: https://example.okta.com/oauth2/default/v1/keys\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Approvals
	if a.MaxPending != 10_000 || a.MaxPendingPerAgent != 20 || a.Approvers.EmailClaim != "email" || a.Approvers.GroupsClaim != "groups" || a.Approvers.UserIDClaim != "uid" || a.Approvers.Leeway != time.Minute {
		t.Errorf("approvals defaults: %+v %+v", a, a.Approvers)
	}
	c, err = Parse([]byte(minimal))
	if err != nil || c.Approvals.Approvers != nil {
		t.Errorf("without approvers: %+v, %v", c.Approvals, err)
	}
}

func TestApprovalsValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		section string
		jwt     string // under identity
		want    []string
	}{
		"loopback issuer (dev)": {section: "approvers:\n    issuer: http://127.0.0.1:9000/oauth2/default\n    audience: a\n    jwks_file: /etc/jwks.json"},
		"every problem": {
			section: "max_pending: -5\n  max_pending_per_agent: -1\n  approvers:\n    issuer: http://idp.example.com\n    jwks_file: /a\n    jwks_url: http://idp.example.com/keys\n    email_claim: groups\n    leeway: 1h",
			want: []string{"approvals.max_pending:", "approvals.max_pending_per_agent:", "approvals.approvers.issuer: must be the identity provider's https issuer URL",
				"approvals.approvers.audience: is required", "approvals.approvers: set exactly one of jwks_file and jwks_url",
				"approvals.approvers.jwks_url: must be an https URL", "groups_claim a claim of its own", "approvals.approvers.leeway:"},
		},
		"the agents' issuer": {
			section: "approvers:\n    issuer: https://k8s.example.com\n    audience: a\n    jwks_file: /a",
			jwt:     "  jwt:\n    issuer: https://k8s.example.com/\n    audience: b\n    jwks_file: /b\n",
			want:    []string{"approvals.approvers.issuer: must not be identity.jwt.issuer"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(minimal + tc.jwt + "approvals:\n  " + tc.section + "\n"))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid section refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid section accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestApprovalsNotify(t *testing.T) {
	c, err := Parse([]byte(minimal + "approvals:\n  notify:\n    webhook_url_file: /run/secrets/approvals-webhook\n"))
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Approvals.Notify; n == nil || n.Format != "json" || n.Timeout != 5*time.Second || n.MaxAttempts != 6 || n.ConsoleURL != "" {
		t.Errorf("notify defaults: %+v", n)
	}
	if c, err := Parse([]byte(minimal)); err != nil || c.Approvals.Notify != nil {
		t.Errorf("without notify: %+v, %v", c.Approvals.Notify, err)
	}
	ok := "approvals:\n  notify:\n    webhook_url_file: /w\n    format: slack\n    console_url: http://127.0.0.1:8443/console\n    timeout: 100ms\n    max_attempts: 20\n"
	if _, err := Parse([]byte(minimal + ok)); err != nil {
		t.Errorf("valid notify refused: %v", err)
	}
	_, err = Parse([]byte(minimal + "approvals:\n  notify:\n    format: teams\n    console_url: http://console.example.com/?a=b\n    timeout: 2m\n    max_attempts: 21\n"))
	if err == nil {
		t.Fatal("invalid notify accepted")
	}
	for _, w := range []string{"approvals.notify.webhook_url_file: required", "approvals.notify.format: must be json or slack",
		"approvals.notify.console_url: must use https", "approvals.notify.timeout:", "approvals.notify.max_attempts:"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q:\n%v", w, err)
		}
	}
	if _, err := Parse([]byte(minimal + "approvals:\n  notify:\n    webhook_url_file: /w\n    console_url: https://u:p@console.example.com\n")); err == nil || !strings.Contains(err.Error(), "without credentials") {
		t.Errorf("console URL with credentials: %v", err)
	}
}

// The webhook URL is read from its file and checked; no error repeats it.
func TestNotifyWebhookURL(t *testing.T) {
	const secret = "/services/T000/B000/SECRETXYZ"
	dir := t.TempDir()
	for name, tc := range map[string]struct{ content, want string }{
		"https":          {content: "https://hooks.slack.com" + secret + "\n"},
		"loopback http":  {content: "http://127.0.0.1:9000" + secret},
		"http elsewhere": {content: "http://hooks.example.com" + secret, want: "must use https"},
		"localhost":      {content: "http://localhost:9000" + secret, want: "must use https"},
		"credentials":    {content: "https://u:p@hooks.example.com" + secret, want: "no credentials"},
		"empty":          {content: " \n", want: "empty"},
		"two lines":      {content: "https://a.example.com" + secret + "\nhttps://b.example.com", want: "whitespace"},
		"not a URL":      {content: "hooks.example.com" + secret, want: "absolute https URL"},
		"missing file":   {want: "read approvals.notify.webhook_url_file"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
			if name != "missing file" {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Notify{WebhookURLFile: path}.WebhookURL()
			if tc.want == "" {
				if err != nil || got != strings.TrimSpace(tc.content) {
					t.Errorf("WebhookURL() = %q, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if err != nil && (strings.Contains(err.Error(), "SECRETXYZ") || strings.Contains(err.Error(), "u:p")) {
				t.Errorf("the error repeats the URL: %v", err)
			}
		})
	}
}
