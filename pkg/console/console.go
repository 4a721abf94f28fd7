package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/loopback"
	"github.com/bollard-dev/bollard/pkg/safetext"
	"github.com/bollard-dev/bollard/pkg/state"
)

// Prefix is the path the console is served under; CallbackPath its
// sign-in callback, which the redirect URL must name.
const (
	Prefix       = "/approvals/"
	CallbackPath = Prefix + "callback"
)

// Cookie names. The session's is Path=/; the pre-login one is sent to the
// callback only. Their prefixes make the browser refuse them unless set
// Secure by the console's own host (__Host-: and Path=/ without Domain),
// so that a sibling subdomain cannot plant a session or a sign-in.
const (
	SessionCookie = "__Host-bollard_console"
	LoginCookie   = "__Secure-bollard_console_login"
)

// Defaults and bounds.
const (
	DefaultMaxSessions = 1000
	maxSessionAge      = 12 * time.Hour
	maxLogins          = 1024
	loginTTL           = 10 * time.Minute
	maxFormBytes       = 64 << 10
	maxSessionBytes    = 64 << 10 // what a session holds: who, the CSRF token, the ID token
	listLimit          = 200
	httpTimeout        = 10 * time.Second
)

// cspFor is every response's Content-Security-Policy: nothing but the
// console's own style sheet, forms that post to the console, never
// framed. form-action also names the issuer's origin: browsers apply it to
// the redirects that answer a form, and the sign-out form's answer is the
// redirect to the provider's end-session endpoint.
func cspFor(issuerOrigin string) string {
	return "default-src 'none'; style-src 'self'; form-action 'self' " + issuerOrigin + "; frame-ancestors 'none'; base-uri 'none'"
}

// Approvals is the approvers' service in process (*approvers.Server): the
// console lists, reads and votes through it only, for the person signed
// in.
type Approvals interface {
	PendingFor(ctx context.Context, p approvers.Approver, limit int) ([]approval.Approval, bool, error)
	ApprovalFor(ctx context.Context, p approvers.Approver, id string) (approval.Approval, *structpb.Struct, error)
	ApproveAs(ctx context.Context, p approvers.Approver, id, comment string) (approval.Approval, error)
	DenyAs(ctx context.Context, p approvers.Approver, id, reason string) (approval.Approval, error)
}

var _ Approvals = (*approvers.Server)(nil)

// Config configures a Console.
type Config struct {
	// Issuer is the approvers' identity provider (config
	// approvals.approvers.issuer): its discovery document is at Issuer +
	// /.well-known/openid-configuration. https, or http to a literal
	// loopback IP.
	Issuer string
	// ClientID is the console's app at the identity provider, a public
	// client that must use PKCE.
	ClientID string
	// RedirectURL is the callback as the browser reaches it, registered
	// at the identity provider: https (or http to a loopback IP), path
	// CallbackPath. Its origin is the console's: a POST from any other is
	// refused.
	RedirectURL string
	// Auth verifies the access token a sign-in ends with: the approvers'
	// own Authenticator.
	Auth approvers.Authenticator
	// Approvals is the service the console acts through.
	Approvals Approvals
	// Logger (default: discard). Tokens, codes and session ids are never
	// logged.
	Logger *slog.Logger
	// Client reaches the identity provider (default: 10s timeout). It
	// never follows redirects.
	Client *http.Client
	// Now is the clock of sessions and sign-ins (default time.Now); give
	// the approvers' service and the token verifier the same.
	Now func() time.Time
	// MaxSessions bounds the sessions held (default DefaultMaxSessions):
	// by this process, or by the fleet with Shared.
	MaxSessions int
	// Shared is the store the fleet shares
	// (state.Store.Part(state.PartConsole)): sessions and sign-ins are kept
	// there, so that any replica behind the same front serves them. Nil
	// keeps them in this process. While it cannot be reached, no session
	// is honoured and no sign-in starts or ends.
	Shared *state.Store
}

// Console is the approvers' web console. It is safe for concurrent use.
type Console struct {
	cfg          Config
	origin       string // the console's, from the redirect URL
	issuerOrigin string
	csp          string
	mux          *http.ServeMux
	store        store
	log          *slog.Logger

	provMu sync.Mutex
	prov   *provider // discovered once, on the first sign-in
}

//go:embed templates/*.html static/console.css
var assets embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"clean": safetext.Block, "when": when, "json": showJSON, "pathid": url.PathEscape,
}).ParseFS(assets, "templates/*.html"))

var styleSheet = func() []byte {
	b, err := assets.ReadFile("static/console.css")
	if err != nil {
		panic(err)
	}
	return b
}()

// New checks cfg and returns the console.
func New(cfg Config) (*Console, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: httpTimeout}
	}
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &client

	var errs []error
	issuerOrigin := ""
	if u, err := url.Parse(cfg.Issuer); cfg.Issuer == "" || err != nil || loopback.CheckURL(u) != nil || u.RawQuery != "" || u.Fragment != "" ||
		u.User != nil || strings.ContainsAny(u.Host, " ;,'\"") {
		errs = append(errs, errors.New("the issuer must be an https URL (or http to a loopback IP) without user info, query or fragment"))
	} else {
		issuerOrigin = u.Scheme + "://" + u.Host
	}
	origin := ""
	if u, err := url.Parse(cfg.RedirectURL); err != nil || loopback.CheckURL(u) != nil || u.User != nil || u.RawQuery != "" ||
		u.Fragment != "" || u.EscapedPath() != CallbackPath {
		errs = append(errs, fmt.Errorf("the redirect URL must be an https URL (or http to a loopback IP) of path %s, without query or fragment", CallbackPath))
	} else {
		origin = u.Scheme + "://" + u.Host
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("a client id is required"))
	}
	if cfg.Auth == nil || cfg.Approvals == nil {
		errs = append(errs, errors.New("an authenticator and the approvals service are required"))
	}
	if cfg.MaxSessions < 1 {
		errs = append(errs, errors.New("max sessions must be positive"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("console: %w", errors.Join(errs...))
	}
	c := &Console{cfg: cfg, origin: origin, issuerOrigin: issuerOrigin, csp: cspFor(issuerOrigin), log: cfg.Logger,
		store: newMemStore(cfg.MaxSessions, maxLogins, cfg.Now)}
	if cfg.Shared != nil {
		c.store = &sharedStore{st: cfg.Shared, maxSessions: cfg.MaxSessions, maxLogins: maxLogins, now: cfg.Now}
	}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET "+Prefix+"{$}", c.list)
	m.HandleFunc("GET "+Prefix+"login", c.login)
	m.HandleFunc("GET "+CallbackPath, c.callback)
	m.HandleFunc("POST "+Prefix+"logout", c.logout)
	m.HandleFunc("GET "+Prefix+"console.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = w.Write(styleSheet)
	})
	m.HandleFunc("GET "+Prefix+"{id}", c.detail)
	m.HandleFunc("POST "+Prefix+"{id}/approve", func(w http.ResponseWriter, r *http.Request) { c.vote(w, r, true) })
	m.HandleFunc("POST "+Prefix+"{id}/deny", func(w http.ResponseWriter, r *http.Request) { c.vote(w, r, false) })
	m.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "message", &view{Title: "Not found", Message: "There is no such page."})
	})
	c.mux = m
}

// ServeHTTP sets the security headers of every response, bounds the
// request body, and serves the console's pages.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", c.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	c.mux.ServeHTTP(w, r)
}

// Origin is the console's origin, as the browser sends it.
func (c *Console) Origin() string { return c.origin }

// sameOrigin refuses what a browser says came from elsewhere. A browser
// that sends Sec-Fetch-Site (a header no page can set) must say
// same-origin; it then sends Origin: null on the console's own forms,
// because the pages' Referrer-Policy is no-referrer, so Origin is checked
// only when it names an origin. Without Sec-Fetch-Site (an older browser,
// a script), an Origin must be the console's. A request without either
// still needs the CSRF token.
func (c *Console) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" && (origin == "" || origin == "null" || origin == c.origin)
	}
	return origin == "" || origin == c.origin
}

// safeNext is where to go after sign-in: a path of the console, nothing
// else (no other host, no scheme, no backslash trick), the list otherwise.
func safeNext(next string) string {
	if len(next) > 512 || !strings.HasPrefix(next, Prefix) || strings.ContainsAny(next, "\\\r\n\t") || strings.Contains(next, "//") {
		return Prefix
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || !strings.HasPrefix(u.Path, Prefix) {
		return Prefix
	}
	if strings.HasPrefix(next, CallbackPath) || strings.HasPrefix(next, Prefix+"login") {
		return Prefix
	}
	return next
}
