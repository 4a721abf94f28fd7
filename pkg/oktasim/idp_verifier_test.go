package oktasim

import (
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/identity"
)

// Bollard's own JWT verifier, configured as docs/approvals.md configures
// the approvers' identity provider, accepts the people's tokens: over plain
// http, because the simulator listens on 127.0.0.1, which package loopback
// allows.
func TestPeopleTokensPassBollardsVerifier(t *testing.T) {
	e := newIDPEnv(t)
	v, err := identity.NewJWTVerifier(t.Context(),
		identity.WithIssuer(e.issuer),
		identity.WithAudience(peopleAudience),
		identity.WithJWKSURL(e.srv.URL+PeopleAuthServerPath+"/v1/keys"),
		identity.WithIDClaim("sub"),
		identity.WithClock(e.clock.Now),
		identity.WithHTTPClient(e.srv.Client()),
		identity.WithLogger(slog.New(slog.DiscardHandler)),
	)
	if err != nil {
		t.Fatal(err)
	}

	// A token from the browser flow.
	p := newPKCE(t)
	var tokens peopleTokens
	if err := json.Unmarshal(e.redeem(redeemForm(e.code(p, SeedLoginSam), p.verifier)).want(t, 200).body, &tokens); err != nil {
		t.Fatal(err)
	}
	id, err := v.Authenticate(t.Context(), tokens.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	// sub is the login, as Okta's default sub claim; the user id is uid.
	groups, _ := id.Claims["groups"].([]any)
	if id.ID != SeedLoginSam || id.Method != identity.MethodJWT || id.Claims["uid"] != SeedUserSam ||
		id.Claims["email"] != SeedLoginSam || !slices.Contains(groups, any("security-approvers")) {
		t.Errorf("identity = %+v", id)
	}

	// One from PersonToken.
	tok, err := e.sim.PersonToken(SeedUserTess, 0)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := v.Authenticate(t.Context(), tok); err != nil || id.ID != SeedLoginTess {
		t.Errorf("PersonToken: %+v, %v", id, err)
	}

	// The ID token is for the console, not for Bollard.
	if _, err := v.Authenticate(t.Context(), tokens.IDToken); identity.ReasonOf(err) != identity.ReasonWrongAudience {
		t.Errorf("ID token: %v", err)
	}
	// Tokens expire on the simulator's clock, which the verifier shares.
	e.clock.Advance(PeopleTokenTTL + 2*time.Minute)
	if _, err := v.Authenticate(t.Context(), tok); identity.ReasonOf(err) != identity.ReasonExpired {
		t.Errorf("expired token: %v", err)
	}
	// Another org's tokens are signed with another key.
	other := newIDPEnv(t)
	otherTok, err := other.sim.PersonToken(SeedUserSam, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(t.Context(), otherTok); identity.ReasonOf(err) != identity.ReasonUnknownKeyID {
		t.Errorf("another org's token: %v", err)
	}
}
