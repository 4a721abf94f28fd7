package sidecar

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// TestDevModeConsole: dev mode serves the approvers' web console on the
// admin listener, its client registered at the simulator once the
// listener has a port, and names it in the banner. Sam signs in there
// (the pages as a browser gets them, without one: the browser test is
// pkg/console's), approves helpdesk-bot's suspension of Carol, and the
// call then runs.
func TestDevModeConsole(t *testing.T) {
	out := &tooltest.Buffer{}
	a := startDevWith(t, DevOptions{Out: out})
	if want := "http://" + a.Admin.String() + "/approvals/"; a.ConsoleURL != want || a.ConsoleRedirectURL != want+"callback" {
		t.Fatalf("console %q, redirect %q; want %s", a.ConsoleURL, a.ConsoleRedirectURL, want)
	}
	if !strings.Contains(out.String(), "web console "+a.ConsoleURL) {
		t.Errorf("the banner does not name the console:\n%s", out.String())
	}

	gw, agent := devHelpdesk(t, a)
	req := suspendCarol(t, gw, agent)

	b := &pageClient{t: t, jar: map[string]string{}}
	page := b.signIn(a.ConsoleURL+req.ApprovalId, oktasim.SeedLoginSam)
	if !strings.Contains(page, "helpdesk-bot") || !strings.Contains(page, "user_lifecycle.suspend") {
		t.Fatalf("Sam's view of the approval:\n%s", page)
	}
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if tok == nil {
		t.Fatalf("no CSRF token:\n%s", page)
	}
	status, _, _ := b.do("POST", a.ConsoleURL+req.ApprovalId+"/approve", url.Values{"csrf": {html.UnescapeString(tok[1])}, "comment": {"dev"}})
	if status != http.StatusSeeOther {
		t.Fatalf("approve: %d", status)
	}
	if _, err := gw.Execute(agent, req); err != nil {
		t.Fatalf("the approved call: %v", err)
	}
}

// pageClient gets pages as a browser does, following the console's and
// the simulator's redirects by hand and keeping cookies by name (every
// server here is on 127.0.0.1).
type pageClient struct {
	t   *testing.T
	jar map[string]string
}

func (b *pageClient) do(method, raw string, form url.Values) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, raw, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.jar {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.jar, c.Name)
		} else {
			b.jar[c.Name] = c.Value
		}
	}
	loc := ""
	if l, err := resp.Location(); err == nil {
		loc = l.String()
	}
	return resp.StatusCode, string(text), loc
}

// signIn opens a console page, signs in at the simulator and returns the
// page once back.
func (b *pageClient) signIn(page, login string) string {
	b.t.Helper()
	cur, body := page, ""
	for i := 0; ; i++ { // the page, /approvals/login, then the sign-in page
		status, text, next := b.do("GET", cur, nil)
		if status == http.StatusOK {
			body = text
			break
		}
		if i == 3 || next == "" {
			b.t.Fatalf("GET %s: %d, no sign-in page", cur, status)
		}
		cur = next
	}
	form := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	form.Set("username", login)
	form.Set("password", oktasim.DefaultPeoplePassword)
	action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(body)
	if action == nil || form.Get("state") == "" {
		b.t.Fatalf("not the sign-in page:\n%s", body)
	}
	base, _ := url.Parse(cur)
	target, _ := base.Parse(html.UnescapeString(action[1]))
	_, _, callback := b.do("POST", target.String(), form)
	if status, text, _ := b.do("GET", callback, nil); status != http.StatusOK || !strings.Contains(text, "Signed in") {
		b.t.Fatalf("callback %s: %d\n%s", callback, status, text)
	}
	_, body, _ = b.do("GET", page, nil)
	return body
}

// TestConsoleFromConfig: `serve` with approvals.console serves the console
// on the admin listener under /approvals/, at the configured redirect
// URL's origin (a TLS front in production); without it, /approvals/ is
// not served.
func TestConsoleFromConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sim := oktasim.New(oktasim.WithAPIToken("t"))
	okta := httptest.NewServer(sim.Handler())
	defer okta.Close()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "p1", Algorithm: "ES256", Use: "sig"}}})
	base := fmt.Sprintf(`
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, api_token_file: %q}
identity: {keys_file: %q}
approvals:
  approvers: {issuer: "https://idp.example.com/oauth2/default", audience: api://bollard-approvals, jwks_file: %q}
`, okta.URL, write("okta-token", "t"), write("keys.yaml", "agents:\n  - id: helpdesk-bot\n    key_sha256: "+identity.HashKey("bk_console_test")+"\n"),
		write("jwks.json", string(jwks)))
	for name, tc := range map[string]struct {
		console string
		served  bool
	}{
		"on":  {console: "  console: {enabled: true, client_id: 0oaCONSOLE, redirect_url: https://bollard.example.com/approvals/callback}\n", served: true},
		"off": {},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(base + tc.console))
			if err != nil {
				t.Fatal(err)
			}
			a := start(t, cfg)
			if tc.served != (a.ConsoleURL == "https://bollard.example.com/approvals/") ||
				tc.served != (a.ConsoleRedirectURL == "https://bollard.example.com/approvals/callback") {
				t.Errorf("console %q, redirect %q", a.ConsoleURL, a.ConsoleRedirectURL)
			}
			hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := hc.Get("http://" + a.Admin.String() + "/approvals/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			csp := resp.Header.Get("Content-Security-Policy")
			switch {
			case tc.served && (resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/approvals/login?") ||
				!strings.HasPrefix(csp, "default-src 'none'")):
				t.Errorf("console: %d %v", resp.StatusCode, resp.Header)
			case !tc.served && resp.StatusCode != http.StatusNotFound:
				t.Errorf("without the console: %d", resp.StatusCode)
			}
		})
	}
}
