package target_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/target"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// TestContextEscapesUserID sends user ids the catalog would refuse, to check
// the resolver escapes each path segment itself.
func TestFactsEscapesUserID(t *testing.T) {
	del, _ := catalog.Lookup("users.delete")
	for _, ref := range []string{"a/b c", "../../groups", "x?limit=1#y", "00u%2F..%2Fgroups", "100%"} {
		t.Run(ref, func(t *testing.T) {
			e := newEnv(t, nil)
			call := &catalog.Call{Action: del, Resource: map[string]string{"userId": ref}}
			wantUnresolved(t, user(t, facts(t, e.resolver(t), call)), ref)
			want := "/api/v1/users/" + url.PathEscape(ref)
			sent := e.sent()
			if len(sent) == 0 {
				t.Fatal("nothing sent")
			}
			for _, p := range sent {
				if p != want && !strings.HasPrefix(p, want+"/") {
					t.Errorf("sent %s, want %s...", p, want)
				}
			}
		})
	}
	t.Run("dot segments are not sent", func(t *testing.T) {
		e := newEnv(t, nil)
		for _, ref := range []string{".", ".."} {
			call := &catalog.Call{Action: del, Resource: map[string]string{"userId": ref}}
			wantUnresolved(t, user(t, facts(t, e.resolver(t), call)), ref)
		}
		if sent := e.sent(); len(sent) != 0 {
			t.Errorf("sent %v", sent)
		}
	})
	// The id Okta answers for a login is escaped too.
	t.Run("id from Okta", func(t *testing.T) {
		e := newEnv(t, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/v1/users/"+oktasim.SeedLoginBob {
					w.Write([]byte(`{"id":"../../groups/x"}`))
					return
				}
				next.ServeHTTP(w, r)
			})
		})
		wantUnresolved(t, user(t, facts(t, e.resolver(t), bind(t, "users.delete", oktasim.SeedLoginBob))), oktasim.SeedLoginBob)
		for _, p := range e.sent()[1:] {
			if !strings.HasPrefix(p, "/api/v1/users/..%2F..%2Fgroups%2Fx/") {
				t.Errorf("sent %s", p)
			}
		}
	})
}

// TestContextIsNotCached checks that a change at Okta shows in the very
// next lookup.
func TestFactsIsNotCached(t *testing.T) {
	e := newEnv(t, nil)
	r := e.resolver(t)
	call := bind(t, "user_lifecycle.deactivate", oktasim.SeedUserAlice)
	wantResolved(t, user(t, facts(t, r, call)), oktasim.SeedUserAlice,
		sorted(oktasim.SeedGroupEveryone, oktasim.SeedGroupEngineering), []any{})
	if err := e.sim.AssignAdminRole(oktasim.SeedUserAlice, oktasim.RoleAppAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.AddGroup("Break Glass", oktasim.SeedUserBob); err != nil {
		t.Fatal(err)
	}
	admins, err := e.sim.AddGroup("Shadow Admins", oktasim.SeedUserAlice)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.sim.AssignGroupAdminRole(admins, oktasim.RoleAppAdmin); err != nil {
		t.Fatal(err)
	}
	// APP_ADMIN is held directly and through Shadow Admins: listed once.
	wantResolved(t, user(t, facts(t, r, call)), oktasim.SeedUserAlice,
		sorted(oktasim.SeedGroupEveryone, oktasim.SeedGroupEngineering, admins), []any{oktasim.RoleAppAdmin})
}

func TestFactsLogsFailures(t *testing.T) {
	e := newEnv(t, nil)
	var buf tooltest.Buffer
	r := e.resolver(t, target.WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))))
	r.Facts(t.Context(), bind(t, "users.delete", oktasim.SeedUserAlice), target.Lookup{DecisionID: "dec-ok"})
	if buf.String() != "" {
		t.Fatalf("a successful lookup logged: %s", buf.String())
	}
	r.Facts(t.Context(), bind(t, "users.delete", "00uNOSUCHUSER00000g7"), target.Lookup{DecisionID: "dec-404"})
	var line map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &line); err != nil {
		t.Fatalf("want one JSON log line: %v: %s", err, buf.String())
	}
	if line["level"] != "WARN" || line["decision_id"] != "dec-404" || line["action"] != "users.delete" ||
		line["kind"] != "user" || line["ref"] != "00uNOSUCHUSER00000g7" || !strings.Contains(line["error"].(string), "E0000007") {
		t.Errorf("log line = %v", line)
	}
	if strings.Contains(buf.String(), simToken) {
		t.Errorf("the token was logged: %s", buf.String())
	}
}

func TestScopes(t *testing.T) {
	if got := catalog.LookupScopes(); !slices.Equal(got, []string{"okta.roles.read", "okta.sessions.read", "okta.users.read"}) {
		t.Errorf("Scopes() = %v", got)
	}
	if slices.Contains(catalog.Scopes(), "okta.roles.read") {
		t.Errorf("a catalog action uses okta.roles.read; update the docs that say none does")
	}
}

// TestContextWithOAuth runs the lookups with a service app's scoped tokens:
// each lookup asks for its own scope, and an app without okta.roles.read
// leaves every user unresolved.
func TestFactsWithOAuth(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1"}}}
	const full, usersOnly = "0oaTARGETFULL0000g7", "0oaTARGETUSERS000g7"
	e := newEnv(t, nil,
		oktasim.WithServiceApp(oktasim.ServiceApp{ClientID: full, PublicKeys: jwks, Scopes: catalog.LookupScopes()}),
		oktasim.WithServiceApp(oktasim.ServiceApp{ClientID: usersOnly, PublicKeys: jwks, Scopes: []string{"okta.users.read"}}))
	resolver := func(clientID string) *target.Resolver {
		cred, err := forward.NewOAuth(t.Context(), forward.OAuthConfig{OrgURL: e.srv.URL, ClientID: clientID,
			PrivateKey: key, KeyID: "k1", AllowedScopes: catalog.LookupScopes()})
		if err != nil {
			t.Fatal(err)
		}
		c, err := forward.New(e.srv.URL, forward.WithCredential(cred))
		if err != nil {
			t.Fatal(err)
		}
		return target.New(c)
	}
	call := bind(t, "users.delete", oktasim.SeedLoginAdmin)
	wantResolved(t, user(t, facts(t, resolver(full), call)), oktasim.SeedUserAdmin,
		sorted(oktasim.SeedGroupEveryone, oktasim.SeedGroupOktaAdmins), []any{oktasim.RoleSuperAdmin, oktasim.RoleOrgAdmin})
	for _, req := range e.sim.Requests() {
		if !strings.HasPrefix(req.Path, "/api/") {
			continue
		}
		want := "okta.users.read"
		if strings.HasSuffix(req.Path, "/roles") {
			want = "okta.roles.read"
		}
		if !slices.Equal(req.Scopes, []string{want}) || req.Status != http.StatusOK {
			t.Errorf("%s: status %d with scopes %v, want 200 with %s", req.Path, req.Status, req.Scopes, want)
		}
	}
	wantUnresolved(t, user(t, facts(t, resolver(usersOnly), call)), oktasim.SeedLoginAdmin)
}

// A canceled caller stops the lookups and leaves the user unresolved.
func TestFactsCanceled(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	f, err := e.resolver(t).Facts(ctx, bind(t, "users.delete", oktasim.SeedUserAlice), target.Lookup{DecisionID: "dec-1"})
	if err != nil {
		t.Fatal(err)
	}
	wantUnresolved(t, user(t, f), oktasim.SeedUserAlice)
}
