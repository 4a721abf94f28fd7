package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

const serviceApp = "0oaBOLLARDAPP0000g7"

// withServiceApp registers an OAuth service app with the simulator, granted
// the given scopes, and makes the gateway use it with every catalog scope
// allowed (so a scope Okta did not grant is Okta's refusal, not ours).
func withServiceApp(granted []string, dpop bool) func(*harnessOption) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return func(o *harnessOption) {
		o.simOpts = append(o.simOpts, oktasim.WithServiceApp(oktasim.ServiceApp{
			ClientID: serviceApp, Scopes: granted, RequireDPoP: dpop,
			PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "bollard-1"}}},
		}))
		o.credential = func(t testing.TB, url string) forward.Credential {
			c, err := forward.NewOAuth(t.Context(), forward.OAuthConfig{
				OrgURL: url, ClientID: serviceApp, PrivateKey: key, KeyID: "bollard-1",
				AllowedScopes: allScopes(), DPoP: dpop,
			})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
}

// allScopes are the scopes the sidecar may ask for: the catalog's and the
// lookups' (as config.OAuth.AllowedScopes gives them).
func allScopes() []string {
	return slices.Compact(slices.Sorted(slices.Values(append(catalog.Scopes(), catalog.LookupScopes()...))))
}

// TestOAuthTokensCarryOnlyTheActionsScope: against the simulator's OAuth
// server, each call reaches Okta with a token holding exactly its action's
// scope, tokens are reused per scope, and both Bearer and DPoP work.
func TestOAuthTokensCarryOnlyTheActionsScope(t *testing.T) {
	for _, dpop := range []bool{false, true} {
		t.Run(map[bool]string{false: "bearer", true: "dpop"}[dpop], func(t *testing.T) {
			h := newHarness(t, withServiceApp(allScopes(), dpop))
			calls := []struct {
				key, action string
				params      map[string]any
				scope       string
			}{
				{devKey("reader-bot"), "users.get", map[string]any{"userId": oktasim.SeedUserAlice}, "okta.users.read"},
				{devKey("reader-bot"), "users.get", map[string]any{"userId": oktasim.SeedUserBob}, "okta.users.read"},
				{devKey("provisioner-bot"), "users.update", map[string]any{"userId": oktasim.SeedUserAlice, "body": map[string]any{"profile": map[string]any{"title": "x"}}}, "okta.users.manage"},
				{devKey("reader-bot"), "groups.list", nil, "okta.groups.read"},
				{devKey("reader-bot"), "logs.list", map[string]any{"limit": 1}, "okta.logs.read"},
			}
			for _, c := range calls {
				if _, err := h.client.Execute(as(t.Context(), c.key), &bollardv1.ExecuteRequest{Action: c.action, Params: params(t, c.params)}); err != nil {
					t.Fatalf("%s: %v", c.action, err)
				}
			}
			var api []oktasim.Request
			tokensIssued := 0
			for _, r := range h.sim.Requests() {
				if r.Path == oktasim.TokenPath {
					if r.Status == 200 { // DPoP adds a refused first try for the nonce
						tokensIssued++
					}
					continue
				}
				if !strings.HasSuffix(r.UserAgent, " lookup") { // users.update's target is looked up first
					api = append(api, r)
				}
			}
			if len(api) != len(calls) {
				t.Fatalf("okta saw %d API requests, want %d", len(api), len(calls))
			}
			wantScheme := map[bool]string{false: oktasim.AuthBearer, true: oktasim.AuthDPoP}[dpop]
			for i, r := range api {
				if r.AuthScheme != wantScheme || !slices.Equal(r.Scopes, []string{calls[i].scope}) {
					t.Errorf("%s reached Okta with %s %v, want %s [%s]", calls[i].action, r.AuthScheme, r.Scopes, wantScheme, calls[i].scope)
				}
			}
			if tokensIssued != 5 {
				t.Errorf("%d tokens issued, want one per scope used (4, and okta.roles.read for the lookup)", tokensIssued)
			}
		})
	}
}

// TestScopeOktaDidNotGrantIsBollardsCredentialProblem: the app lacks a
// manage scope, so Okta's token endpoint refuses it; the agent is told the
// credential is at fault, and a read still works. (It has the scopes of
// the lookups, which run first.)
func TestScopeOktaDidNotGrantIsBollardsCredentialProblem(t *testing.T) {
	h := newHarness(t, withServiceApp([]string{"okta.users.read", "okta.roles.read"}, false))
	_, err := h.client.Execute(as(t.Context(), devKey("helpdesk-bot")), &bollardv1.ExecuteRequest{
		Action: "user_lifecycle.unlock", Params: params(t, map[string]any{"userId": oktasim.SeedUserGrace}),
	})
	wantStatus(t, err, codes.Unavailable, ReasonOktaCredentialUnavailable)
	if _, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
		Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice}),
	}); err != nil {
		t.Fatal(err)
	}
}

func TestPaginationAcrossAThousandUsers(t *testing.T) {
	h := newHarness(t, func(o *harnessOption) { o.simOpts = append(o.simOpts, oktasim.WithExtraUsers(1200)) })
	ctx := as(t.Context(), devKey("reader-bot"))
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		p := map[string]any{"limit": 200}
		if after != "" {
			p["after"] = after
		}
		resp, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "users.list", Params: params(t, p)})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range resp.GetResult().GetListValue().GetValues() {
			id := u.GetStructValue().GetFields()["id"].GetStringValue()
			if seen[id] {
				t.Fatalf("user %s twice", id)
			}
			seen[id] = true
		}
		if after = resp.NextCursor; after == "" || pages > 20 {
			break
		}
	}
	// The extra users and the seed's twelve that are not DEPROVISIONED.
	if len(seen) != 1212 || pages != 7 {
		t.Errorf("%d users in %d pages, want 1212 in 7", len(seen), pages)
	}
	// A cursor the agent made up is refused by Okta, and said so.
	_, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "users.list", Params: params(t, map[string]any{"after": "00uFORGED"})})
	wantStatus(t, err, codes.InvalidArgument, ReasonOktaBadRequest)
}

func TestRateLimitAgainstTheSimulator(t *testing.T) {
	call := func(h *harness) error {
		_, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
			Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice}),
		})
		return err
	}
	// A window that is waited out is forward's TestSimulatorsSpentWindowIsWaitedOut,
	// against this simulator on a synctest clock: no real second passes.
	t.Run("returned with RetryInfo", func(t *testing.T) {
		// An hour's window and a caller that can wait 3s: the reset is
		// (all but certainly) too far to wait for.
		h := newHarness(t, func(o *harnessOption) {
			o.simOpts = append(o.simOpts, oktasim.WithRateLimit(2, time.Hour))
			o.fopts = append(o.fopts, forward.WithReserve(0))
		})
		call(h)
		call(h)
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		_, err := h.client.Execute(as(ctx, devKey("reader-bot")), &bollardv1.ExecuteRequest{
			Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice}),
		})
		wantStatus(t, err, codes.ResourceExhausted, ReasonOktaRateLimited)
		for _, d := range status.Convert(err).Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok && ri.RetryDelay.AsDuration() > 3*time.Second {
				return
			}
		}
		t.Errorf("no RetryInfo with the window's reset in %v", status.Convert(err).Details())
	})
	t.Run("the reserve is left for people", func(t *testing.T) {
		h := newHarness(t, func(o *harnessOption) {
			o.simOpts = append(o.simOpts, oktasim.WithRateLimit(10, time.Hour)) // no window rollover mid-test
			o.fopts = append(o.fopts, forward.WithReserve(0.3))
		})
		var err error
		for range 10 {
			if err = call(h); err != nil {
				break
			}
		}
		ei := wantStatus(t, err, codes.ResourceExhausted, ReasonOktaRateLimited)
		if ei.Metadata["held_by_bollard"] != "true" || len(h.sim.Requests()) != 7 {
			t.Errorf("held %q after %d requests, want held after 7 of 10", ei.Metadata["held_by_bollard"], len(h.sim.Requests()))
		}
	})
}

// TestConcurrentCapKeepsUnderOktasConcurrentLimit: with Bollard's cap at
// Okta's concurrent limit, a burst of parallel calls never draws a 429.
func TestConcurrentCapKeepsUnderOktasConcurrentLimit(t *testing.T) {
	h := newHarness(t, func(o *harnessOption) {
		o.simOpts = append(o.simOpts, oktasim.WithConcurrencyLimit(3))
		o.fopts = append(o.fopts, forward.WithConcurrency(3, 100))
	})
	h.sim.InjectFault(oktasim.Fault{Method: "GET", PathPrefix: "/api/v1/users", Delay: 20 * time.Millisecond})
	var wg sync.WaitGroup
	for range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
				Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice}),
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, r := range h.sim.Requests() {
		if r.Status == 429 {
			t.Fatal("okta's concurrent limit was hit")
		}
	}
}

// TestSystemLogNamesTheDecision: Okta's System Log records Bollard's
// User-Agent with the decision id, so each Okta event leads to its decision.
func TestSystemLogNamesTheDecision(t *testing.T) {
	h := newHarness(t)
	resp, err := h.client.Execute(as(t.Context(), devKey("provisioner-bot")), &bollardv1.ExecuteRequest{
		Action: "groups.add_member", Params: params(t, map[string]any{"groupId": oktasim.SeedGroupSupport, "userId": oktasim.SeedUserAlice}),
	})
	if err != nil {
		t.Fatal(err)
	}
	events := h.sim.Events()
	last := events[len(events)-1]
	if last.EventType != "group.user_membership.add" || !strings.Contains(last.UserAgent, "bollard/") || !strings.Contains(last.UserAgent, resp.DecisionId) {
		t.Errorf("last event %s with user agent %q, want group.user_membership.add naming decision %s", last.EventType, last.UserAgent, resp.DecisionId)
	}
}
