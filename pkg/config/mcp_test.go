package config

import (
	"strings"
	"testing"
	"time"
)

func TestMCPDefaultsOffOnLoopback(t *testing.T) {
	c, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	m := c.MCP
	if m.Enabled || m.Listen != "127.0.0.1:8183" || m.Path != "/mcp" || m.ConfirmationTimeout != 2*time.Minute || m.UnixSocket() != "" {
		t.Errorf("mcp defaults: %+v", m)
	}
}

func TestMCPValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		section string
		want    []string // every one reported at once; none: valid
	}{
		"defaults on":          {section: "enabled: true"},
		"off ignores the rest": {section: "listen: 0.0.0.0:1\n  path: nope"},
		"unix socket":          {section: "enabled: true\n  listen: unix:///run/bollard/mcp.sock"},
		"remote allowed":       {section: "enabled: true\n  listen: 0.0.0.0:8183\n  allow_remote: true"},
		"remote refused":       {section: "enabled: true\n  listen: 0.0.0.0:8183", want: []string{"mcp.listen: must be a loopback address", "mcp.allow_remote"}},
		"every problem": {
			section: "enabled: true\n  listen: unix://relative.sock\n  path: /.well-known/mcp\n  confirmation_timeout: 10m\n  session_timeout: 1s",
			want:    []string{"mcp.listen: a unix socket needs an absolute path", "mcp.path:", "mcp.confirmation_timeout: must be between 1s and confirmation.ttl (5m0s)", "mcp.session_timeout:"},
		},
		"same socket as grpc": {
			section: "enabled: true\n  listen: unix:///run/b.sock\nserver:\n  unix_socket: /run/b.sock",
			want:    []string{"mcp.listen: must not be server.unix_socket"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(minimal + "mcp:\n  " + tc.section + "\n"))
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
