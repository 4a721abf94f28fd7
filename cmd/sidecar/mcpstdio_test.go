package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bollard-dev/bollard/pkg/mcpbridge"
)

// `sidecar mcp-stdio` refuses to start without a credential in the
// environment, naming the variable to set, and refuses an endpoint off
// loopback unless told otherwise; neither message repeats a credential.
func TestMCPStdioRefuses(t *testing.T) {
	t.Setenv(defaultCredentialEnv, "")
	t.Setenv("OTHER_KEY", "")
	for _, tc := range []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
		is      error
	}{
		{name: "no credential", args: nil, wantErr: "set $BOLLARD_AGENT_KEY", is: mcpbridge.ErrNoCredential},
		{name: "other variable empty", env: map[string]string{defaultCredentialEnv: "bk_x"}, args: []string{"--credential-env", "OTHER_KEY"}, wantErr: "set $OTHER_KEY", is: mcpbridge.ErrNoCredential},
		{name: "remote", env: map[string]string{defaultCredentialEnv: "bk_secret"}, args: []string{"--url", "https://bollard.example/mcp"}, wantErr: "not loopback", is: mcpbridge.ErrRemote},
		{name: "cleartext off loopback", env: map[string]string{defaultCredentialEnv: "bk_secret"}, args: []string{"--url", "http://192.0.2.1:8183/mcp", "--allow-remote"}, wantErr: "must use https"},
		{name: "extra argument", env: map[string]string{defaultCredentialEnv: "bk_secret"}, args: []string{"bk_secret"}, wantErr: "unexpected arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out, errOut bytes.Buffer
			err := run(t.Context(), append([]string{"mcp-stdio"}, tc.args...), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.is)
			}
			if tc.name != "extra argument" && strings.Contains(err.Error()+errOut.String(), "bk_secret") {
				t.Errorf("the credential leaked: %v %s", err, errOut.String())
			}
			if out.Len() != 0 {
				t.Errorf("stdout is the protocol, got %q", out.String())
			}
		})
	}
}

// The command sends the key from the named variable as the bearer
// credential and relays a session; logs stay off stdout.
func TestMCPStdioRelays(t *testing.T) {
	const key = "bk_cmd_test_key"
	t.Setenv("AGENT_KEY_UNDER_TEST", key)
	server := mcp.NewServer(&mcp.Implementation{Name: "fake-sidecar", Version: "test"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "users_list"}, func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "[]"}}}, nil, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	var errOut bytes.Buffer
	ran := make(chan error, 1)
	go func() {
		ran <- mcpStdio(t.Context(), []string{"--url", srv.URL + "/mcp", "--credential-env", "AGENT_KEY_UNDER_TEST"}, stdinR, stdoutW, &errOut)
	}()
	client := mcp.NewClient(&mcp.Implementation{Name: "desktop", Version: "test"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.IOTransport{Reader: stdoutR, Writer: stdinW}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "users_list"})
	if err != nil || res.IsError {
		t.Fatalf("users_list: %v %+v", err, res)
	}
	cs.Close()
	if err := <-ran; err != nil {
		t.Errorf("mcp-stdio = %v", err)
	}
	if !strings.Contains(errOut.String(), "mcp-stdio relaying") || strings.Contains(errOut.String(), key) {
		t.Errorf("stderr = %q, want the relaying line and no key", errOut.String())
	}
}
