package mcpbridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

var (
	// ErrNoCredential is returned by New without an agent credential: the
	// sidecar answers every unauthenticated request with 401, so the bridge
	// refuses to start rather than fail on the client's first message.
	ErrNoCredential = errors.New("no agent credential")
	// ErrRemote is returned by New for an endpoint that is not loopback or a
	// unix socket when remote endpoints are not allowed.
	ErrRemote = errors.New("endpoint is not loopback or a unix socket (allow a remote https endpoint explicitly)")
	// ErrUnauthorized is returned by Run when the sidecar answered 401: it
	// does not know the credential.
	ErrUnauthorized = errors.New("the sidecar refused the agent credential")
)

const (
	headerProtocolVersion = "Mcp-Protocol-Version"
	headerSessionID       = "Mcp-Session-Id"
)

// endpoint is where the bridge sends messages: the URL the MCP transport
// sees and, for a unix socket, the socket the HTTP client dials instead.
type endpoint struct {
	url    string
	socket string
}

// parseEndpoint applies the one rule for where a credential may be sent
// (loopback.CheckURL): plain http only to a literal loopback IP; https
// anywhere, but only when remote endpoints are allowed. A unix:///path URL
// is local by construction; its HTTP path is httpPath.
func parseEndpoint(raw, httpPath string, allowRemote bool) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, errors.New("endpoint is not a URL") // the text may hold a secret: do not repeat it
	}
	if u.Scheme == "unix" {
		if u.Path == "" || u.Host != "" {
			return endpoint{}, errors.New("a unix socket endpoint is unix:///absolute/path")
		}
		if !strings.HasPrefix(httpPath, "/") {
			return endpoint{}, fmt.Errorf("HTTP path %q must start with /", httpPath)
		}
		// The Host header names loopback, so a server's DNS-rebinding check
		// accepts it; the socket, not the name, decides where the bytes go.
		return endpoint{url: "http://127.0.0.1" + httpPath, socket: u.Path}, nil
	}
	if u.User != nil {
		return endpoint{}, errors.New("endpoint must not carry user info: the credential comes from the environment")
	}
	if err := loopback.CheckURL(u); err != nil {
		return endpoint{}, fmt.Errorf("endpoint %w", err)
	}
	if !allowRemote && !loopback.Host(u.Hostname()) {
		return endpoint{}, ErrRemote
	}
	return endpoint{url: u.String()}, nil
}

// upstream is the HTTP side's client state that the MCP transport cannot
// keep for a relay: the credential on every request, the protocol version
// the session negotiated (the SDK's connection learns it only from its own
// client), and whether the sidecar refused the credential.
type upstream struct {
	credential string
	base       http.RoundTripper

	mu              sync.Mutex
	protocolVersion string

	refused atomic.Bool
}

func newUpstream(ep endpoint, credential string) *upstream {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // a loopback or socket endpoint never goes through a proxy
	if ep.socket != "" {
		socket := ep.socket
		t.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}
	}
	return &upstream{credential: credential, base: t}
}

func (up *upstream) client() *http.Client {
	// No redirects: a redirect could carry the credential somewhere the
	// endpoint rule never looked at.
	return &http.Client{
		Transport: up,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// RoundTrip adds the bearer credential and, once known, the negotiated
// protocol version, which the MCP spec asks for on every request after
// initialization.
func (up *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+up.credential)
	if req.Header.Get(headerProtocolVersion) == "" {
		if v := up.version(); v != "" {
			req.Header.Set(headerProtocolVersion, v)
		}
	}
	resp, err := up.base.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		up.refused.Store(true)
	}
	return resp, err
}

func (up *upstream) setVersion(v string) {
	up.mu.Lock()
	up.protocolVersion = v
	up.mu.Unlock()
}

func (up *upstream) version() string {
	up.mu.Lock()
	defer up.mu.Unlock()
	return up.protocolVersion
}

func (up *upstream) close() {
	if t, ok := up.base.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
}
