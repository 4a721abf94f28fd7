package target_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/target"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

const simToken = "00sim-target-test-token"

// env is the Okta simulator behind httptest, optionally behind a wrapper
// that can see or spoil its traffic.
type env struct {
	sim *oktasim.Sim
	srv *httptest.Server

	mu    sync.Mutex
	paths []string // escaped request paths, as sent
}

func newEnv(t *testing.T, wrap func(http.Handler) http.Handler, opts ...oktasim.Option) *env {
	t.Helper()
	e := &env{sim: oktasim.New(append([]oktasim.Option{oktasim.WithAPIToken(simToken)}, opts...)...)}
	var h http.Handler = e.sim.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.paths = append(e.paths, r.URL.EscapedPath())
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) sent() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.paths)
}

// client is the real forwarder with the simulator's SSWS token and quick
// retries.
func (e *env) client(t *testing.T, opts ...forward.Option) *forward.Client {
	t.Helper()
	c, err := forward.New(e.srv.URL, append([]forward.Option{forward.WithAPIToken(simToken),
		forward.WithRetries(3, time.Millisecond, time.Second)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) resolver(t *testing.T, opts ...target.Option) *target.Resolver {
	t.Helper()
	return target.New(e.client(t), opts...)
}

func bind(t *testing.T, action, userID string) *catalog.Call {
	t.Helper()
	params := map[string]any{"userId": userID}
	if action == "factors.unenroll" {
		params["factorId"] = "emfANYFACTOR000000g7"
	}
	call, err := catalog.Bind(action, params)
	if err != nil {
		t.Fatal(err)
	}
	return call
}

// facts runs the resolver for one call with decision id dec-1 and no budget.
func facts(t *testing.T, r *target.Resolver, call *catalog.Call) map[string]any {
	t.Helper()
	f, err := r.Facts(t.Context(), call, target.Lookup{DecisionID: "dec-1"})
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}
	return f
}

// user returns the facts' one user, failing unless there is exactly one and
// it is also context.target.user.
func user(t *testing.T, f map[string]any) map[string]any {
	t.Helper()
	users, _ := f["users"].([]any)
	u, ok := f["user"].(map[string]any)
	if !ok || len(users) != 1 || !reflect.DeepEqual(users[0], u) {
		t.Fatalf("facts = %#v, want exactly one user", f)
	}
	return u
}

func wantResolved(t *testing.T, u map[string]any, id string, groups, roles []any) {
	t.Helper()
	if u["resolved"] != true || u["id"] != id {
		t.Fatalf("user = %v, want %s resolved", u, id)
	}
	if !reflect.DeepEqual(u["groups"], groups) {
		t.Errorf("groups = %#v, want %#v", u["groups"], groups)
	}
	if !reflect.DeepEqual(u["admin_roles"], roles) {
		t.Errorf("admin_roles = %#v, want %#v", u["admin_roles"], roles)
	}
}

// wantUnresolved checks a user entry that could not be looked up: the id
// as the call gave it, empty lists, a reason, and nothing else.
func wantUnresolved(t *testing.T, u map[string]any, id string) {
	t.Helper()
	reason, _ := u["reason"].(string)
	want := map[string]any{"id": id, "from": u["from"], "name": u["name"], "resolved": false,
		"groups": []any{}, "admin_roles": []any{}, "reason": reason}
	if reason == "" || !reflect.DeepEqual(u, want) {
		t.Fatalf("user = %#v, want %s unresolved with a reason", u, id)
	}
}

func sorted(ids ...string) []any {
	slices.Sort(ids)
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func TestFactsResolvesGroupsAndRoles(t *testing.T) {
	e := newEnv(t, nil)
	r := e.resolver(t)
	events := len(e.sim.Events())
	tests := []struct {
		action, ref, id string
		groups, roles   []any
	}{
		{"users.delete", oktasim.SeedUserAdmin, oktasim.SeedUserAdmin,
			sorted(oktasim.SeedGroupEveryone, oktasim.SeedGroupOktaAdmins), []any{oktasim.RoleSuperAdmin, oktasim.RoleOrgAdmin}},
		{"user_lifecycle.suspend", oktasim.SeedUserCarol, oktasim.SeedUserCarol,
			sorted(oktasim.SeedGroupEveryone, oktasim.SeedGroupSupport, oktasim.SeedGroupSalesforceReps), []any{oktasim.RoleHelpDeskAdmin}},
		// A login is resolved to the id the policy matches.
		{"user_lifecycle.deactivate", oktasim.SeedLoginBob, oktasim.SeedUserBob,
			sorted(oktasim.SeedGroupEveryone, oktasim.SeedGroupEngineering, oktasim.SeedGroupSupport, oktasim.SeedGroupSalesforceReps), []any{}},
		{"user_lifecycle.deactivate", "carol.chen", oktasim.SeedUserCarol,
			sorted(oktasim.SeedGroupEveryone, oktasim.SeedGroupSupport, oktasim.SeedGroupSalesforceReps), []any{oktasim.RoleHelpDeskAdmin}},
		{"factors.unenroll", oktasim.SeedUserAlice, oktasim.SeedUserAlice,
			sorted(oktasim.SeedGroupEveryone, oktasim.SeedGroupEngineering), []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.action+" "+tt.ref, func(t *testing.T) {
			f := facts(t, r, bind(t, tt.action, tt.ref))
			if f["resolved"] != true {
				t.Errorf("facts resolved = %v", f["resolved"])
			}
			wantResolved(t, user(t, f), tt.id, tt.groups, tt.roles)
		})
	}
	for _, req := range e.sim.Requests() {
		if req.Method != http.MethodGet || !strings.HasSuffix(req.UserAgent, "decision/dec-1 lookup") {
			t.Errorf("lookup %s %s with User-Agent %q", req.Method, req.Path, req.UserAgent)
		}
	}
	if n := len(e.sim.Events()); n != events {
		t.Errorf("lookups recorded %d System Log events", n-events)
	}
}

func TestFactsFollowsPages(t *testing.T) {
	e := newEnv(t, nil)
	want := []string{oktasim.SeedGroupEveryone, oktasim.SeedGroupEngineering}
	for i := range 450 {
		id, err := e.sim.AddGroup(fmt.Sprintf("Team %d", i), oktasim.SeedUserAlice)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	u := user(t, facts(t, e.resolver(t), bind(t, "users.delete", oktasim.SeedUserAlice)))
	wantResolved(t, u, oktasim.SeedUserAlice, sorted(want...), []any{})
	pages := 0
	for _, p := range e.sent() {
		if strings.HasSuffix(p, "/groups") {
			pages++
		}
	}
	if pages != 3 {
		t.Errorf("read %d pages of 200 for 452 groups, want 3", pages)
	}
}

func TestFactsTooManyGroups(t *testing.T) {
	tests := []struct {
		name     string
		opts     []target.Option
		extra    int // groups Alice joins beside Everyone and Engineering
		resolved bool
	}{
		{"default bound reached", nil, 998, true},
		{"default bound passed", nil, 999, false},
		{"own bound", []target.Option{target.WithMaxGroups(5)}, 4, false},
		{"own bound on the first page", []target.Option{target.WithMaxGroups(5)}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			for i := range tt.extra {
				if _, err := e.sim.AddGroup(fmt.Sprintf("Group %d", i), oktasim.SeedUserAlice); err != nil {
					t.Fatal(err)
				}
			}
			u := user(t, facts(t, e.resolver(t, tt.opts...), bind(t, "user_lifecycle.suspend", oktasim.SeedUserAlice)))
			if tt.resolved {
				if u["resolved"] != true || len(u["groups"].([]any)) != tt.extra+2 {
					t.Fatalf("user = resolved %v with %d groups, want %d", u["resolved"], len(u["groups"].([]any)), tt.extra+2)
				}
				return
			}
			wantUnresolved(t, u, oktasim.SeedUserAlice)
			if u["reason"] != "too_many_groups" {
				t.Errorf("reason = %v", u["reason"])
			}
		})
	}
}

func TestFactsUnknownUser(t *testing.T) {
	e := newEnv(t, nil)
	r := e.resolver(t)
	for _, ref := range []string{"00uNOSUCHUSER00000g7", "nobody@example.com", "nobody"} {
		t.Run(ref, func(t *testing.T) {
			f := facts(t, r, bind(t, "users.delete", ref))
			wantUnresolved(t, user(t, f), ref)
			if f["resolved"] != false || user(t, f)["reason"] != "not_found" {
				t.Errorf("facts = %v, want unresolved, not_found", f)
			}
		})
	}
}

// TestContextFailsClosed checks that every way Okta can fail leaves the
// user unresolved.
func TestFactsFailsClosed(t *testing.T) {
	body := func(path, payload string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, path) {
					next.ServeHTTP(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(payload))
			})
		}
	}
	laterPages := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("after") != "" {
				http.Error(w, `{"errorCode":"E0000009"}`, http.StatusInternalServerError)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	groups := "/api/v1/users/" + oktasim.SeedUserAdmin + "/groups"
	roles := "/api/v1/users/" + oktasim.SeedUserAdmin + "/roles"
	tests := []struct {
		name  string
		why   string // in the logged error
		fault *oktasim.Fault
		wrap  func(http.Handler) http.Handler
		opts  []target.Option
		extra int // groups the admin joins beside its two
	}{
		{name: "groups 500", why: "status 500", fault: &oktasim.Fault{PathPrefix: groups, Status: http.StatusInternalServerError}},
		{name: "roles 503", why: "status 503", fault: &oktasim.Fault{PathPrefix: roles, Status: http.StatusServiceUnavailable}},
		{name: "roles 429", why: "okta_rate_limited", fault: &oktasim.Fault{PathPrefix: roles, Status: http.StatusTooManyRequests}},
		{name: "roles 403", why: "status 403", fault: &oktasim.Fault{PathPrefix: roles, Status: http.StatusForbidden}},
		{name: "token rejected", why: "okta_credential", fault: &oktasim.Fault{Status: http.StatusUnauthorized}},
		{name: "connection dropped", why: "okta_unavailable", fault: &oktasim.Fault{PathPrefix: groups, Abort: true}},
		{name: "second page fails", why: "status 500", wrap: laterPages, extra: 250},
		{name: "slow roles", why: "okta_timeout", fault: &oktasim.Fault{PathPrefix: roles, Delay: 5 * time.Second}, opts: []target.Option{target.WithTimeout(100 * time.Millisecond)}},
		{name: "groups not an array", why: "malformed answer", wrap: body("/groups", `{"id":"00gX"}`)},
		{name: "groups null", why: "not a JSON array", wrap: body("/groups", `null`)},
		{name: "group without id", why: "a group without an id", wrap: body("/groups", `[{"id":""}]`)},
		{name: "group id not a string", why: "malformed answer", wrap: body("/groups", `[{"id":7}]`)},
		{name: "roles truncated", why: "malformed answer", wrap: body("/roles", `[{"type":"SUPER_`)},
		{name: "role without type", why: "a role without a type", wrap: body("/roles", `[{"id":"x"}]`)},
		{name: "roles an HTML page", why: "malformed answer", wrap: body("/roles", `<html>maintenance</html>`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.wrap)
			for i := range tt.extra {
				if _, err := e.sim.AddGroup(fmt.Sprintf("Group %d", i), oktasim.SeedUserAdmin); err != nil {
					t.Fatal(err)
				}
			}
			if tt.fault != nil {
				e.sim.InjectFault(*tt.fault)
			}
			var log tooltest.Buffer
			opts := append([]target.Option{target.WithLogger(slog.New(slog.NewTextHandler(&log, nil)))}, tt.opts...)
			start := time.Now()
			u := user(t, facts(t, e.resolver(t, opts...), bind(t, "users.delete", oktasim.SeedUserAdmin)))
			wantUnresolved(t, u, oktasim.SeedUserAdmin)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v to give up", d)
			}
			if !strings.Contains(log.String(), tt.why) {
				t.Errorf("logged %q, want the cause %q", log.String(), tt.why)
			}
		})
	}
}
