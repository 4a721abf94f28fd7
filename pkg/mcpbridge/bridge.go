package mcpbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// DefaultEndpoint is the sidecar's MCP endpoint in its default
// configuration and in dev mode.
const DefaultEndpoint = "http://127.0.0.1:8183/mcp"

// From this protocol version on (SEP-2575) there is no standalone stream:
// the client asks for notifications with a call of its own, which the
// relay carries like any other.
const noStandaloneStreamFrom = "2026-07-28"

// Bridge relays one MCP session between a stdio client and a sidecar.
type Bridge struct {
	ep         endpoint
	credential string
	log        *slog.Logger
}

// New checks the endpoint and the credential and returns a Bridge. The
// credential is sent as a bearer token on every request and never logged.
func New(rawURL, credential string, opts ...Option) (*Bridge, error) {
	o := defaults
	for _, opt := range opts {
		opt(&o)
	}
	var errs []error
	if credential == "" {
		errs = append(errs, ErrNoCredential)
	}
	ep, err := parseEndpoint(rawURL, o.httpPath, o.allowRemote)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Bridge{ep: ep, credential: credential, log: o.logger}, nil
}

// Run relays messages between the client on in/out (newline-delimited
// JSON-RPC) and the sidecar until the client closes in, ctx ends (a signal)
// or the sidecar ends the session. The first two are a clean end (nil); the
// last is an error, ErrUnauthorized if the sidecar refused the credential.
// On the way out it ends the session at the sidecar.
func (b *Bridge) Run(ctx context.Context, in io.ReadCloser, out io.WriteCloser) error {
	up := newUpstream(b.ep, b.credential)
	defer up.close()
	client := up.client()
	// The standalone stream is opened by listen: the SDK's connection opens
	// it only when its own MCP client tells it the session is initialized.
	server, err := (&mcp.StreamableClientTransport{Endpoint: b.ep.url, HTTPClient: client, DisableStandaloneSSE: true}).Connect(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", b.ep.url, err)
	}
	local, err := (&mcp.IOTransport{Reader: in, Writer: out}).Connect(ctx)
	if err != nil {
		server.Close()
		return fmt.Errorf("connect to stdio: %w", err)
	}
	b.log.Info("mcp-stdio relaying", "endpoint", b.ep.url, "unix_socket", b.ep.socket)

	ctx, cancel := context.WithCancel(ctx)
	r := &relay{Bridge: b, up: up, client: client, server: server, local: local}
	done := make(chan error, 2)
	var loops sync.WaitGroup
	loops.Go(func() { done <- r.toServer(ctx) })
	loops.Go(func() { done <- r.toClient(ctx) })
	err = <-done

	cancel()
	r.mu.Lock()
	r.stopping = true // no call starts after this: Wait must not race a Go
	r.mu.Unlock()
	r.calls.Wait() // their error replies still reach the client
	if cerr := server.Close(); cerr != nil {
		b.log.Debug("mcp session end", "err", cerr)
	}
	local.Close()
	loops.Wait()
	if err != nil && up.refused.Load() {
		return fmt.Errorf("%w (401 from %s)", ErrUnauthorized, b.ep.url)
	}
	return err
}

// relay is one running session.
type relay struct {
	*Bridge
	up     *upstream
	client *http.Client
	server mcp.Connection // the sidecar, over Streamable HTTP
	local  mcp.Connection // the client, over stdio
	calls  sync.WaitGroup // calls being posted, and the standalone stream

	mu         sync.Mutex
	initID     jsonrpc.ID // the client's initialize call
	openStream bool       // whether the session has a standalone stream to open
	stopping   bool       // Run is winding down: start nothing more
}

// spawn runs f as one of the relay's calls unless Run is stopping.
func (r *relay) spawn(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopping {
		r.calls.Go(f)
	}
}

// toServer carries the client's messages to the sidecar. Each call is
// posted on its own, as an HTTP client of the sidecar would: a call that
// waits on a person (elicitation) must not hold up the client's answer to
// that very question, which comes next on stdin.
func (r *relay) toServer(ctx context.Context) error {
	for {
		msg, err := r.local.Read(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil // the client went away, or a signal
			}
			return fmt.Errorf("read from the client: %w", err)
		}
		req, isReq := msg.(*jsonrpc.Request)
		if isReq && req.IsCall() {
			if req.Method == "initialize" {
				r.mu.Lock()
				r.initID = req.ID
				r.mu.Unlock()
			}
			r.log.Debug("mcp call", "method", req.Method, "id", req.ID.Raw())
			r.spawn(func() { r.post(ctx, req) })
			continue
		}
		if err := r.server.Write(ctx, msg); err != nil {
			r.log.Warn("mcp message not delivered", "err", err)
			continue
		}
		if isReq && req.Method == "notifications/initialized" {
			r.startListening(ctx)
		}
	}
}

// post sends one call; if it cannot be delivered the client gets an error
// response for it rather than waiting forever.
func (r *relay) post(ctx context.Context, req *jsonrpc.Request) {
	err := r.server.Write(ctx, req)
	if err == nil || errors.Is(err, context.Canceled) {
		return // sent, or the bridge is stopping and stdout closes next
	}
	msg := "bollard mcp-stdio: the sidecar did not take the call: " + err.Error()
	if r.up.refused.Load() {
		msg = "bollard mcp-stdio: " + ErrUnauthorized.Error() + " (401): check the agent credential"
	}
	r.log.Warn("mcp call not delivered", "method", req.Method, "err", err)
	reply := &jsonrpc.Response{ID: req.ID, Error: &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg}}
	if err := r.local.Write(context.WithoutCancel(ctx), reply); err != nil {
		r.log.Debug("mcp error reply", "err", err)
	}
}

// toClient carries the sidecar's messages to the client: responses,
// notifications and the sidecar's own requests (elicitation).
func (r *relay) toClient(ctx context.Context) error {
	for {
		msg, err := r.server.Read(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("mcp session with the sidecar ended: %w", err)
		}
		if resp, ok := msg.(*jsonrpc.Response); ok {
			r.noteInitialized(resp)
		}
		if err := r.local.Write(ctx, msg); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("write to the client: %w", err)
		}
	}
}

// noteInitialized learns the negotiated protocol version from the answer
// to the client's initialize call: every later request carries it.
func (r *relay) noteInitialized(resp *jsonrpc.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.initID.IsValid() || resp.ID != r.initID || resp.Error != nil {
		return
	}
	r.initID = jsonrpc.ID{}
	var res struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(resp.Result, &res); err != nil || res.ProtocolVersion == "" {
		return
	}
	r.up.setVersion(res.ProtocolVersion)
	r.openStream = res.ProtocolVersion < noStandaloneStreamFrom
	r.log.Info("mcp session initialized", "protocol_version", res.ProtocolVersion)
}

func (r *relay) startListening(ctx context.Context) {
	r.mu.Lock()
	open := r.openStream
	r.openStream = false
	r.mu.Unlock()
	if open {
		sessionID := r.server.SessionID()
		r.spawn(func() { r.listen(ctx, r.client, sessionID, r.local) })
	}
}
