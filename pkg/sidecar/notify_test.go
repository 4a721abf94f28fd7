package sidecar

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// With approvals.notify, the sidecar announces the gateway's own pending
// approvals to the webhook, read from its file, and stops as it closes.
// console_url, when set, wins over the console the process serves.
func TestApprovalWebhookWatchesTheGatewayStore(t *testing.T) {
	got := make(chan []byte, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	defer hook.Close()
	okta := httptest.NewServer(oktasim.New(oktasim.WithAPIToken("t")).Handler())
	defer okta.Close()
	t.Setenv("BOLLARD_TEST_OKTA_TOKEN", "t")
	urlFile := filepath.Join(t.TempDir(), "webhook")
	if err := os.WriteFile(urlFile, []byte(hook.URL+"/services/SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `
server: {grpc_listen: "127.0.0.1:0", admin_listen: ""}
okta: {org_url: %q, api_token_env: BOLLARD_TEST_OKTA_TOKEN}
identity: {keys_file: %q}
approvals:
  notify: {webhook_url_file: %q, console_url: "https://console.example.com"}
`
	cfg, err := config.Parse(fmt.Appendf(nil, doc, okta.URL, keysFile(t), urlFile))
	if err != nil {
		t.Fatal(err)
	}
	p, err := build(t.Context(), cfg, newRunOptions([]Option{WithLogger(quiet), WithAuditStdout(io.Discard)}))
	closed := false
	defer func() {
		if !closed {
			p.close(t.Context())
		}
	}()
	if err == nil {
		// Started once the console's address is known (listenAndServe).
		err = p.buildNotify(t.Context(), cfg.Approvals.Notify, "test", "http://127.0.0.1:1/approvals/")
	}
	if err != nil {
		t.Fatal(err)
	}
	r := approval.Request{Binding: approval.Binding{Agent: "reader-bot", Action: "users.delete"},
		Requirement: approval.Requirement{Approvers: []approval.Set{{Groups: []string{"security-approvers"}}}, Approvals: 1, Reason: "r"}}
	a, err := p.approvals.Create(r)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		var body struct {
			ApprovalID string `json:"approval_id"`
			URL        string `json:"url"`
		}
		if err := json.Unmarshal(b, &body); err != nil || body.ApprovalID != a.ID || body.URL != "https://console.example.com/approvals/"+a.ID {
			t.Errorf("body %s, %v", b, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
	p.close(t.Context())
	closed = true
	if _, err := p.approvals.Create(r); err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-got:
		t.Errorf("posted after close: %s", b)
	case <-time.After(50 * time.Millisecond):
	}

	// Without its file, the sidecar does not start.
	cfg.Approvals.Notify.WebhookURLFile = filepath.Join(t.TempDir(), "missing")
	p2, err := build(t.Context(), cfg, newRunOptions([]Option{WithLogger(quiet), WithAuditStdout(io.Discard)}))
	if err == nil {
		err = p2.buildNotify(t.Context(), cfg.Approvals.Notify, "test", "")
	}
	p2.close(t.Context())
	if err == nil || !strings.Contains(err.Error(), "approvals.notify.webhook_url_file") {
		t.Errorf("build without the webhook URL file: %v", err)
	}
}
