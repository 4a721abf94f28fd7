package console

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state"
)

const (
	audience = "api://bollard-approvals"
	clientID = "0oaBOLLARDCONSOLE0g7"
	// secret is a password an agent sent: masked in the store, never on a
	// page.
	secret = "Sentinel-Secret-7f3a9c"
)

// clock is the one clock of the simulator, the verifier, the store, the
// service and the console.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// env is the simulator as the approvers' identity provider, the approval
// store with the approvers' service over it, and the console, each on its
// own loopback server, as dev mode wires them.
type env struct {
	t        *testing.T
	clk      *clock
	sim      *oktasim.Sim
	idp      *httptest.Server
	store    *approval.Store
	auditLog *audit.Logger
	auditTo  string
	console  *Console   // the first replica
	replicas []*Console // behind the one front (srv)
	serving  atomic.Int32
	srv      *httptest.Server
	issuer   string
}

func newEnv(t *testing.T) *env { return newReplicas(t, nil, 1) }

// newReplicas is the env with n consoles behind the one front, as
// replicas behind an Ingress: all share the origin, the identity
// provider's client and the approvers' service, and shared, when not
// nil, keeps their sessions. The front sends each request to the
// replica set by on (the first until then).
func newReplicas(t *testing.T, shared *state.Store, n int) *env {
	t.Helper()
	e := &env{t: t, clk: &clock{t: time.Now().Truncate(time.Second)}, auditTo: filepath.Join(t.TempDir(), "audit.log")}
	e.sim = oktasim.New(oktasim.WithClock(e.clk.now), oktasim.WithPeopleAuthServer(audience))
	e.idp = httptest.NewServer(e.sim.Handler())
	t.Cleanup(e.idp.Close)
	if err := e.sim.SetOrgURL(e.idp.URL); err != nil {
		t.Fatal(err)
	}
	e.issuer = e.idp.URL + oktasim.PeopleAuthServerPath

	isAgent := func(s string) bool { return s == "helpdesk-bot" }
	e.store = approval.New(approval.WithClock(e.clk.now), approval.WithAgents(isAgent))
	v, err := identity.NewJWTVerifier(t.Context(), identity.WithIssuer(e.issuer), identity.WithAudience(audience),
		identity.WithJWKSURL(e.issuer+"/v1/keys"), identity.WithIDClaim("sub"), identity.WithClock(e.clk.now),
		identity.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := approvers.NewJWTAuthenticator(v, approvers.WithAgentIDs(isAgent))
	if err != nil {
		t.Fatal(err)
	}
	e.auditLog, err = audit.New(audit.WithFile(e.auditTo, 0, 0), audit.WithHMACKey([]byte("0123456789abcdef0123456789abcdef")),
		audit.WithClock(e.clk.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.auditLog.Close(context.Background()) })
	svc, err := approvers.New(e.store, auth, e.auditLog, approvers.WithClock(e.clk.now), approvers.WithTargetReader(targetReader{}))
	if err != nil {
		t.Fatal(err)
	}

	// The console's address is known once it listens: the handlers are
	// set after, and its client registered at the simulator then, as dev
	// mode does.
	var (
		mu       sync.Mutex
		handlers []http.Handler
	)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		var h http.Handler = http.NotFoundHandler()
		if len(handlers) > 0 {
			h = handlers[int(e.serving.Load())%len(handlers)]
		}
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	for range n {
		c, err := New(Config{Issuer: e.issuer, ClientID: clientID, RedirectURL: e.srv.URL + CallbackPath, Auth: auth,
			Approvals: svc, Now: e.clk.now, Shared: shared})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle(Prefix, c)
		e.replicas = append(e.replicas, c)
		mu.Lock()
		handlers = append(handlers, mux)
		mu.Unlock()
	}
	e.console = e.replicas[0]
	if err := e.sim.RegisterPeopleClient(oktasim.PeopleClient{ClientID: clientID, Name: "Bollard approvals",
		RedirectURIs: []string{e.srv.URL + CallbackPath}, PostLogoutRedirectURIs: []string{e.console.PostLogoutURL()}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// on makes replica i serve the requests that follow.
func (e *env) on(i int) { e.serving.Store(int32(i)) }

// sessionCount is how many sessions the console's memory store holds.
func (e *env) sessionCount() int {
	e.t.Helper()
	m, ok := e.console.store.(*memStore)
	if !ok {
		e.t.Fatalf("the console keeps its sessions in %T, not in memory", e.console.store)
	}
	return m.sessionCount()
}

// targetReader shows the user a call names, as Okta would answer.
type targetReader struct{}

func (targetReader) ReadTarget(_ context.Context, a approval.Approval) (*structpb.Struct, error) {
	id, _ := a.Params["userId"].(string)
	if id == "" {
		return nil, nil
	}
	return structpb.NewStruct(map[string]any{"id": id, "status": "ACTIVE", "profile": map[string]any{"login": "carol.chen@example.com"}})
}

// pending stores the approval an agent's users.update asks for: its
// parameters masked by the audit log, as the gateway stores them.
func (e *env) pending(reason string, groups ...string) approval.Approval {
	e.t.Helper()
	params := map[string]any{"userId": oktasim.SeedUserCarol,
		"body": map[string]any{"credentials": map[string]any{"password": map[string]any{"value": secret}}}}
	var shown map[string]any
	if err := json.Unmarshal(e.auditLog.MaskedParams(params, nil, nil), &shown); err != nil {
		e.t.Fatal(err)
	}
	if raw, _ := json.Marshal(shown); strings.Contains(string(raw), secret) || !strings.Contains(string(raw), "hmac-sha256:") {
		e.t.Fatalf("the audit log did not mask the password: %s", raw)
	}
	if len(groups) == 0 {
		groups = []string{"security-approvers"}
	}
	a, err := e.store.Create(approval.Request{
		Binding:    approval.Binding{Agent: "helpdesk-bot", Action: "users.update", ParamsHash: [32]byte{7}},
		Params:     shown,
		Concerns:   []string{oktasim.SeedUserCarol},
		DecisionID: "dec-console-1",
		Requirement: approval.Requirement{Approvers: []approval.Set{{Groups: groups}}, Approvals: 1, TTL: 15 * time.Minute,
			Reason: reason},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// approvalRecords are the audit log's vote records.
func (e *env) approvalRecords() []*audit.Entry {
	e.t.Helper()
	f, err := os.Open(e.auditTo)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	var out []*audit.Entry
	r := audit.NewReader(f)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			e.t.Fatal(err)
		}
		if rec.Kind == audit.KindApproval {
			out = append(out, rec)
		}
	}
}

// client is a browser without a script engine: it keeps cookies by name
// and path (all on 127.0.0.1, as a browser keeps them per host, whatever
// the port) and follows no redirect by itself.
type client struct {
	t       *testing.T
	hc      *http.Client
	cookies map[string]*http.Cookie // name + path
	// header is added to every request (Origin, Sec-Fetch-Site).
	header http.Header
}

func (e *env) client() *client {
	return &client{t: e.t, hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		cookies: map[string]*http.Cookie{}, header: http.Header{}}
}

// clientWith is another browser tab of c's browser: c's cookies, minus the
// console's session, so that it starts a sign-in of its own.
func (e *env) clientWith(c *client) *client {
	n := e.client()
	for k, ck := range c.cookies {
		if ck.Name != SessionCookie {
			n.cookies[k] = ck
		}
	}
	return n
}

type response struct {
	status int
	header http.Header
	body   string
	cookie []*http.Cookie
}

func (c *client) do(method, rawURL string, form url.Values) *response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, rawURL, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	for _, ck := range c.cookies {
		if strings.HasPrefix(req.URL.Path, ck.Path) {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name+ck.Path)
		} else {
			c.cookies[ck.Name+ck.Path] = ck
		}
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: string(raw), cookie: resp.Cookies()}
}

func (r *response) want(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	return r
}

// location is where a redirect goes, resolved against base.
func (r *response) location(t *testing.T, base string) string {
	t.Helper()
	loc := r.header.Get("Location")
	if loc == "" {
		t.Fatalf("no Location; status %d", r.status)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := u.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return ref.String()
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// fields are a page's hidden inputs.
func fields(body string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(body, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// signIn opens path, is sent to the simulator's sign-in page, signs in as
// login and comes back through the callback; it returns the continue
// page.
func (e *env) signIn(c *client, path, login string) *response {
	e.t.Helper()
	return c.do("GET", e.atProvider(c, e.startSignIn(c, path), login), nil)
}

// startSignIn opens path without a session and follows the console to
// the identity provider: it returns the authorization URL.
func (e *env) startSignIn(c *client, path string) string {
	e.t.Helper()
	r := c.do("GET", e.srv.URL+path, nil).want(e.t, http.StatusSeeOther)
	r = c.do("GET", r.location(e.t, e.srv.URL), nil).want(e.t, http.StatusSeeOther) // /approvals/login
	authorize := r.location(e.t, e.srv.URL)
	if !strings.HasPrefix(authorize, e.issuer+"/v1/authorize?") {
		e.t.Fatalf("sent to %s, not the issuer's authorization endpoint", authorize)
	}
	return authorize
}

// atProvider signs in as login on the provider's sign-in page for an
// authorization URL and returns the callback URL the provider sends the
// browser to.
func (e *env) atProvider(c *client, authorize, login string) string {
	e.t.Helper()
	page := c.do("GET", authorize, nil).want(e.t, http.StatusOK)
	form := fields(page.body)
	form.Set("username", login)
	form.Set("password", oktasim.DefaultPeoplePassword)
	r := c.do("POST", e.issuer+"/v1/authorize", form).want(e.t, http.StatusFound)
	callback := r.location(e.t, e.idp.URL)
	if !strings.HasPrefix(callback, e.srv.URL+CallbackPath+"?") {
		e.t.Fatalf("the provider sent the browser to %s", callback)
	}
	return callback
}

// idClaims are the claims of an ID token, unverified: the simulator signed
// it, and the test only reads what it says.
func idClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// csrf is the CSRF token of the forms on a page.
func csrf(t *testing.T, body string) string {
	t.Helper()
	tok := fields(body).Get("csrf")
	if tok == "" {
		t.Fatalf("no CSRF token on the page:\n%s", body)
	}
	return tok
}
