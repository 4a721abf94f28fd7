package config

import (
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
