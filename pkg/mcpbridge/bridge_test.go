package mcpbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bollard-dev/bollard/pkg/mcpbridge"
)

const testKey = "bk_test_bridge-key"

// sidecar is a stand-in for the sidecar's MCP front: a go-sdk server with a
// read tool and a tool that asks a person to confirm, behind a bearer check,
// recording the method and protocol version header of every request.
type sidecar struct {
	server  *mcp.Server
	handler http.Handler // the MCP endpoint, behind the bearer check
	url     string       // where httptest serves it

	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	httpMethod, rpcMethod, protocolVersion, session string
}

func newSidecar(t *testing.T, stateless bool) *sidecar {
	t.Helper()
	s := &sidecar{server: mcp.NewServer(&mcp.Implementation{Name: "fake-sidecar", Version: "test"}, nil)}
	mcp.AddTool(s.server, &mcp.Tool{Name: "users_list", Description: "List users"},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct {
			Limit int `json:"limit,omitempty"`
		}) (*mcp.CallToolResult, map[string]any, error) {
			return nil, map[string]any{"users": []any{map[string]any{"id": "00u1", "status": "ACTIVE"}}}, nil
		})
	mcp.AddTool(s.server, &mcp.Tool{Name: "user_lifecycle_deactivate", Description: "Deactivate a user"},
		func(ctx context.Context, req *mcp.CallToolRequest, in struct {
			UserID string `json:"userId"`
		}) (*mcp.CallToolResult, any, error) {
			// Multi round-trip (SEP-2322): on 2026-07-28 the client answers
			// and calls again; on earlier versions the SDK asks with
			// elicitation/create on the call's stream and calls this again.
			answer, ok := req.Params.InputResponses["confirm"].(*mcp.ElicitResult)
			if !ok {
				return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"confirm": &mcp.ElicitParams{
					Message:         "Deactivate user " + in.UserID + "?",
					RequestedSchema: &jsonschemaObject{Type: "object"},
				}}}, nil, nil
			}
			if answer.Action != "accept" {
				return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: "CONFIRMATION_DECLINED"}}}, nil, nil
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "deactivated " + in.UserID}}}, nil, nil
		})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.server }, &mcp.StreamableHTTPOptions{
		Stateless: stateless,
		// Stored events reach the standalone stream whenever the bridge
		// opens it, so a notification sent first is not lost to the race.
		EventStore: mcp.NewMemoryEventStore(nil),
	})
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(s.handler)
	t.Cleanup(srv.Close)
	s.url = srv.URL + "/mcp"
	return s
}

// jsonschemaObject is the smallest requested schema: no fields, a yes or no.
type jsonschemaObject struct {
	Type string `json:"type"`
}

func (s *sidecar) record(r *http.Request) {
	var body struct {
		Method string `json:"method"`
	}
	if r.Body != nil {
		data, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(data))
		_ = json.Unmarshal(data, &body)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, seenRequest{r.Method, body.Method, r.Header.Get("Mcp-Protocol-Version"), r.Header.Get("Mcp-Session-Id")})
}

func (s *sidecar) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// bridged starts a bridge to url and connects a go-sdk client to it over
// pipes, as a desktop client would over the command's stdin and stdout.
// done receives Run's result once the client has gone.
func bridged(t *testing.T, url, key string, copts *mcp.ClientOptions, sopts *mcp.ClientSessionOptions) (cs *mcp.ClientSession, done <-chan error) {
	t.Helper()
	b, err := mcpbridge.New(url, key, mcpbridge.WithLogger(slog.New(slog.NewTextHandler(t.Output(), nil))))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	ran := make(chan error, 1)
	go func() { ran <- b.Run(t.Context(), stdinR, stdoutW) }()
	client := mcp.NewClient(&mcp.Implementation{Name: "desktop", Version: "test"}, copts)
	cs, err = client.Connect(t.Context(), &mcp.IOTransport{Reader: stdoutR, Writer: stdinW}, sopts)
	if err != nil {
		stdinW.Close()
		t.Fatalf("connect through the bridge: %v (bridge: %v)", err, <-ran)
	}
	return cs, ran
}

// A client on stdio lists the sidecar's tools, reads, and answers the
// sidecar's confirmation question (accept runs the call, decline is an
// error result), whichever protocol version it speaks; every request
// carries the credential (the sidecar 401s otherwise) and, after the
// handshake, the negotiated version. Closing stdin ends the bridge cleanly.
func TestRelay(t *testing.T) {
	for _, tc := range []struct {
		name      string
		version   string // what the client asks for; "" is the SDK's default
		stateless bool
	}{
		{name: "default"},
		{name: "2025-06-18", version: "2025-06-18"},
		{name: "2025-03-26", version: "2025-03-26"},
		{name: "stateless server", stateless: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSidecar(t, tc.stateless)
			var answers sync.Map // userId in the question → what the person says
			answers.Store("00u-yes", "accept")
			answers.Store("00u-no", "decline")
			copts := &mcp.ClientOptions{ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
				for _, id := range []string{"00u-yes", "00u-no"} {
					if strings.Contains(req.Params.Message, id) {
						a, _ := answers.Load(id)
						return &mcp.ElicitResult{Action: a.(string)}, nil
					}
				}
				return nil, errors.New("unexpected question " + req.Params.Message)
			}}
			cs, done := bridged(t, s.url, testKey, copts, &mcp.ClientSessionOptions{ProtocolVersion: tc.version})

			tools, err := cs.ListTools(t.Context(), nil)
			if err != nil {
				t.Fatalf("tools/list: %v", err)
			}
			var names []string
			for _, tool := range tools.Tools {
				names = append(names, tool.Name)
			}
			if want := []string{"user_lifecycle_deactivate", "users_list"}; !slices.Equal(names, want) {
				t.Errorf("tools = %v, want %v", names, want)
			}

			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "users_list", Arguments: map[string]any{"limit": 1}})
			if err != nil || res.IsError {
				t.Fatalf("users_list: %v %+v", err, res)
			}
			if got, _ := json.Marshal(res.StructuredContent); !strings.Contains(string(got), `"id":"00u1"`) {
				t.Errorf("users_list structuredContent = %s", got)
			}

			for _, c := range []struct {
				userID  string
				isError bool
				text    string
			}{
				{"00u-yes", false, "deactivated 00u-yes"},
				{"00u-no", true, "CONFIRMATION_DECLINED"},
			} {
				res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "user_lifecycle_deactivate", Arguments: map[string]any{"userId": c.userID}})
				if err != nil {
					t.Fatalf("deactivate %s: %v", c.userID, err)
				}
				if res.IsError != c.isError || len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != c.text {
					t.Errorf("deactivate %s = isError %v %q, want isError %v %q", c.userID, res.IsError, res.Content[0].(*mcp.TextContent).Text, c.isError, c.text)
				}
			}

			if err := cs.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
			if err := <-done; err != nil {
				t.Errorf("Run after the client closed stdin = %v, want nil", err)
			}
			if tc.stateless {
				return
			}
			var negotiated string
			for _, r := range s.requests() {
				switch {
				case r.rpcMethod == "server/discover" || r.rpcMethod == "initialize":
					continue // the handshake, before there is a version
				case negotiated == "":
					negotiated = r.protocolVersion
				}
				if r.protocolVersion == "" || r.protocolVersion != negotiated {
					t.Errorf("%s %s: Mcp-Protocol-Version %q, want the negotiated %q", r.httpMethod, r.rpcMethod, r.protocolVersion, negotiated)
				}
			}
			if tc.version != "" && negotiated != tc.version {
				t.Errorf("negotiated %q, want %q", negotiated, tc.version)
			}
		})
	}
}

// What the sidecar sends outside any call (tools/list_changed after a
// policy reload) reaches the client: the bridge opens the session's
// standalone stream, with the session id, and ends the session (DELETE)
// when the client goes.
func TestRelayStandaloneStream(t *testing.T) {
	s := newSidecar(t, false)
	changed := make(chan struct{}, 1)
	copts := &mcp.ClientOptions{ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}}
	cs, done := bridged(t, s.url, testKey, copts, nil)
	s.server.AddTool(&mcp.Tool{Name: "groups_list", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{}, nil
		})
	// A bound on failure only: the notification comes in milliseconds.
	wait, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	select {
	case <-changed:
	case <-wait.Done():
		t.Fatal("no tools/list_changed through the bridge")
	}
	cs.Close()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	var get, del bool
	for _, r := range s.requests() {
		get = get || (r.httpMethod == http.MethodGet && r.session != "")
		del = del || (r.httpMethod == http.MethodDelete && r.session != "")
	}
	if !get || !del {
		t.Errorf("standalone GET with session %v, DELETE at the end %v; want both", get, del)
	}
}

// A wrong credential: the client gets an error response to its first call
// instead of hanging, and Run ends with ErrUnauthorized.
func TestRelayWrongCredential(t *testing.T) {
	s := newSidecar(t, false)
	b, err := mcpbridge.New(s.url, "bk_wrong")
	if err != nil {
		t.Fatal(err)
	}
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	ran := make(chan error, 1)
	go func() { ran <- b.Run(t.Context(), stdinR, stdoutW) }()
	client := mcp.NewClient(&mcp.Implementation{Name: "desktop", Version: "test"}, nil)
	_, err = client.Connect(t.Context(), &mcp.IOTransport{Reader: stdoutR, Writer: stdinW}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-06-18"})
	if err == nil || !strings.Contains(err.Error(), "refused the agent credential") {
		t.Errorf("connect with a wrong key: %v, want the credential refused", err)
	}
	stdinW.Close()
	if err := <-ran; !errors.Is(err, mcpbridge.ErrUnauthorized) {
		t.Errorf("Run = %v, want ErrUnauthorized", err)
	}
}

// The credential is sent only where it may go: plain http to a literal
// loopback IP or a unix socket, https elsewhere only when allowed.
func TestNewEndpointRule(t *testing.T) {
	for _, tc := range []struct {
		url    string
		remote bool
		ok     bool
	}{
		{"http://127.0.0.1:8183/mcp", false, true},
		{"http://[::1]:8183/mcp", false, true},
		{"unix:///run/bollard/mcp.sock", false, true},
		{"https://127.0.0.1:8183/mcp", false, true},
		{"http://localhost:8183/mcp", false, false}, // a name: /etc/hosts or DNS decide
		{"https://bollard.example/mcp", false, false},
		{"https://bollard.example/mcp", true, true},
		{"http://bollard.example/mcp", true, false}, // never cleartext off loopback
		{"http://10.0.0.1:8183/mcp", true, false},
		{"http://user:pw@127.0.0.1:8183/mcp", false, false},
		{"unix://relative/mcp.sock", false, false},
		{"ftp://127.0.0.1/mcp", true, false},
	} {
		_, err := mcpbridge.New(tc.url, testKey, mcpbridge.WithAllowRemote(tc.remote))
		if (err == nil) != tc.ok {
			t.Errorf("New(%q, allow remote %v) = %v, want ok %v", tc.url, tc.remote, err, tc.ok)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("error repeats the URL's secret: %v", err)
		}
	}
	if _, err := mcpbridge.New("https://bollard.example/mcp", testKey); !errors.Is(err, mcpbridge.ErrRemote) {
		t.Errorf("remote without allowing it = %v, want ErrRemote", err)
	}
	if _, err := mcpbridge.New(mcpbridge.DefaultEndpoint, ""); !errors.Is(err, mcpbridge.ErrNoCredential) {
		t.Errorf("no credential = %v, want ErrNoCredential", err)
	}
}

// A sidecar listening on a unix socket (mcp.listen: unix:///path) is
// reached through the socket, at the HTTP path the option names.
func TestRelayUnixSocket(t *testing.T) {
	s := newSidecar(t, false)
	sock := filepath.Join(t.TempDir(), "mcp.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix sockets: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/bollard/mcp", s.handler)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	b, err := mcpbridge.New("unix://"+sock, testKey, mcpbridge.WithHTTPPath("/bollard/mcp"))
	if err != nil {
		t.Fatal(err)
	}
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	ran := make(chan error, 1)
	go func() { ran <- b.Run(t.Context(), stdinR, stdoutW) }()
	client := mcp.NewClient(&mcp.Implementation{Name: "desktop", Version: "test"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.IOTransport{Reader: stdoutR, Writer: stdinW}, nil)
	if err != nil {
		t.Fatalf("connect over the socket: %v", err)
	}
	if _, err := cs.ListTools(t.Context(), nil); err != nil {
		t.Errorf("tools/list over the socket: %v", err)
	}
	cs.Close()
	if err := <-ran; err != nil {
		t.Errorf("Run = %v", err)
	}
}
