package sidecar

import (
	"context"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/policies"
)

type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

// TestDevServesMCPAndReloadsTools connects an MCP client to dev mode, then
// grants the agent more: the session is told its tools changed, and the
// new list has the new tool.
func TestDevServesMCPAndReloadsTools(t *testing.T) {
	dir := t.TempDir()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), raw, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	a := startDevWith(t, DevOptions{PolicyDir: dir})
	if !strings.HasPrefix(a.MCPURL, "http://127.0.0.1:") || !strings.HasSuffix(a.MCPURL, "/mcp") {
		t.Fatalf("MCP URL %q", a.MCPURL)
	}
	changed := make(chan struct{}, 8)
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	cs, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: a.MCPURL,
		HTTPClient: &http.Client{Transport: bearer{identity.DevKeys()["reader-bot"]}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	tools := func() []string {
		list, err := cs.ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, tl := range list.Tools {
			names = append(names, tl.Name)
		}
		return names
	}
	if before := tools(); !slices.Contains(before, "groups_get") || slices.Contains(before, "groups_create") {
		t.Fatalf("reader-bot's tools before: %v", before)
	}

	grants := filepath.Join(dir, "grants.json")
	raw, _ := os.ReadFile(grants)
	writeAtomically(t, grants, strings.Replace(string(raw), `"groups": "read"`, `"groups": "manage"`, 1))
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("no notifications/tools/list_changed after the policy reload")
	}
	if after := tools(); !slices.Contains(after, "groups_create") {
		t.Errorf("reader-bot's tools after the grant: %v", after)
	}
}

// TestMCPServerBoundsItsConnections: the MCP listener neither waits for
// headers nor keeps an idle connection without end (a client on the pod's
// loopback could otherwise hold connections open for ever).
func TestMCPServerBoundsItsConnections(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := (&parts{}).serveMCP(l, make(chan error, 1))
	defer srv.Close()
	if srv.ReadHeaderTimeout != mcpReadHeaderTimeout || srv.ReadHeaderTimeout <= 0 || srv.IdleTimeout != mcpIdleTimeout || srv.IdleTimeout <= 0 {
		t.Errorf("MCP server: header timeout %v, idle timeout %v; want both bounded", srv.ReadHeaderTimeout, srv.IdleTimeout)
	}
}
