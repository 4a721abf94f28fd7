package config

import (
	"net"
	"strings"
	"testing"
)

const consoleApprovers = "approvals:\n  approvers:\n    issuer: https://example.okta.com/oauth2/default\n    audience: api://bollard-approvals\n    jwks_url: https://example.okta.com/oauth2/default/v1/keys\n"

func TestConsoleConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		server, approvers, console string
		want                       []string
	}{
		"loopback admin, redirect derived": {approvers: consoleApprovers, console: "enabled: true\n    client_id: 0oaCONSOLE"},
		"behind TLS": {server: "server:\n  admin_listen: 0.0.0.0:8182\n  allow_non_loopback: true\n", approvers: consoleApprovers,
			console: "enabled: true\n    client_id: 0oaCONSOLE\n    redirect_url: https://bollard.example.com/approvals/callback"},
		"off needs nothing": {console: "enabled: false"},
		"every problem": {server: "server:\n  admin_listen: 0.0.0.0:8182\n  allow_non_loopback: true\n",
			console: "enabled: true\n    client_id: 'a b'\n    listener: grpc",
			want: []string{"approvals.console.enabled: needs approvals.approvers", "approvals.console.client_id: required",
				"approvals.console.listener: must be admin", "approvals.console.redirect_url: required when server.admin_listen is not a loopback address"}},
		"plain http to a name": {approvers: consoleApprovers,
			console: "enabled: true\n    client_id: c\n    redirect_url: http://bollard.example.com/approvals/callback",
			want:    []string{"approvals.console.redirect_url: "}},
		"another path": {approvers: consoleApprovers,
			console: "enabled: true\n    client_id: c\n    redirect_url: https://bollard.example.com/callback",
			want:    []string{"approvals.console.redirect_url: the path must be /approvals/callback"}},
		"a query": {approvers: consoleApprovers,
			console: "enabled: true\n    client_id: c\n    redirect_url: https://bollard.example.com/approvals/callback?x=1",
			want:    []string{"approvals.console.redirect_url: no credentials, query or fragment"}},
	} {
		t.Run(name, func(t *testing.T) {
			approvals := tc.approvers
			if approvals == "" {
				approvals = "approvals:\n"
			}
			c, err := Parse([]byte(minimal + tc.server + approvals + "  console:\n    " + tc.console + "\n"))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid section refused: %v", err)
				}
				if c.Approvals.Console.Listener != ConsoleListenerAdmin {
					t.Errorf("listener %q", c.Approvals.Console.Listener)
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

// The admin listener off (as a config built in code may have it), the
// console has nowhere to be served.
func TestConsoleAdminOff(t *testing.T) {
	c := Console{Enabled: true, ClientID: "c", Listener: ConsoleListenerAdmin, RedirectURL: "https://bollard.example.com/approvals/callback"}
	errs := c.validate(&Approvers{}, "")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "approvals.console.listener: admin, but server.admin_listen is off") {
		t.Errorf("errors %v", errs)
	}
}

func TestConsoleCallbackURL(t *testing.T) {
	admin := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8182}
	if got := (Console{}).CallbackURL(admin); got != "http://127.0.0.1:8182/approvals/callback" {
		t.Errorf("derived %q", got)
	}
	c := Console{RedirectURL: "https://bollard.example.com/approvals/callback"}
	if got := c.CallbackURL(admin); got != c.RedirectURL {
		t.Errorf("configured %q", got)
	}
}
