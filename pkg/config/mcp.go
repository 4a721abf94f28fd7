package config

import (
	"fmt"
	"strings"
	"time"
)

// MCP configures the Model Context Protocol front (docs/mcp.md): the same
// pipeline as gRPC, over MCP's Streamable HTTP transport. Off by default.
type MCP struct {
	Enabled bool `yaml:"enabled"`
	// Listen is a TCP address (loopback by default: 127.0.0.1:8183) or a
	// Unix socket, unix:///path/to/socket.
	Listen string `yaml:"listen"`
	// AllowRemote must be true for a TCP address that is not loopback.
	AllowRemote bool `yaml:"allow_remote"`
	// Path is the MCP endpoint's path (default /mcp).
	Path string `yaml:"path"`
	// ConfirmationTimeout is how long a confirmation asked of a person
	// (MCP elicitation) waits for the answer before the call is denied
	// (default 2m; at most confirmation.ttl, the token's own life).
	ConfirmationTimeout time.Duration `yaml:"confirmation_timeout"`
	// SessionTimeout closes a session idle this long (default 30m).
	SessionTimeout time.Duration `yaml:"session_timeout"`
}

// UnixPrefix marks a Listen address that is a Unix socket.
const UnixPrefix = "unix://"

// UnixSocket is the socket path of a unix:// Listen address, or "".
func (m MCP) UnixSocket() string {
	if p, ok := strings.CutPrefix(m.Listen, UnixPrefix); ok {
		return p
	}
	return ""
}

func (m *MCP) setDefaults() {
	setDefault(&m.Listen, "127.0.0.1:8183")
	setDefault(&m.Path, "/mcp")
	if m.ConfirmationTimeout == 0 {
		m.ConfirmationTimeout = 2 * time.Minute
	}
	if m.SessionTimeout == 0 {
		m.SessionTimeout = 30 * time.Minute
	}
}

// validate checks the section; tokenTTL is confirmation.ttl, which a
// confirmation must be answered within, and grpcSocket server.unix_socket.
func (m *MCP) validate(tokenTTL time.Duration, grpcSocket string) []error {
	if !m.Enabled {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("mcp."+format, args...)) }
	if sock := m.UnixSocket(); sock != "" || strings.HasPrefix(m.Listen, UnixPrefix) {
		switch {
		case !strings.HasPrefix(sock, "/"):
			bad("listen: a unix socket needs an absolute path: unix:///path/to/socket")
		case sock == grpcSocket:
			bad("listen: must not be server.unix_socket")
		}
	} else if err := checkListen(m.Listen, m.AllowRemote, "mcp.allow_remote"); err != nil {
		bad("listen: %v", err)
	}
	if !strings.HasPrefix(m.Path, "/") || strings.HasPrefix(m.Path, "/.well-known/") || len(m.Path) > 256 || strings.ContainsAny(m.Path, "?# ") {
		bad("path: must start with / and not be under /.well-known/ (at most 256 bytes, no query)")
	}
	if m.ConfirmationTimeout < time.Second || m.ConfirmationTimeout > tokenTTL {
		bad("confirmation_timeout: must be between 1s and confirmation.ttl (%s), while the token is valid", tokenTTL)
	}
	if m.SessionTimeout < time.Minute || m.SessionTimeout > 24*time.Hour {
		bad("session_timeout: must be between 1m and 24h")
	}
	return errs
}
