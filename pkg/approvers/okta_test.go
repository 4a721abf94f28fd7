package approvers

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// With tokens as an Okta custom authorization server issues them (sub the
// login, uid the user id), the person a call changes may not approve it,
// whether the agent named them by id or by login; another security
// engineer may.
func TestOktaTokensAndSelfApproval(t *testing.T) {
	const aud = "api://bollard-approvals"
	sim := oktasim.New(oktasim.WithPeopleAuthServer(aud))
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	if err := sim.SetOrgURL(srv.URL); err != nil {
		t.Fatal(err)
	}
	v, err := identity.NewJWTVerifier(t.Context(), identity.WithIssuer(srv.URL+oktasim.PeopleAuthServerPath), identity.WithAudience(aud),
		identity.WithJWKSURL(srv.URL+oktasim.PeopleAuthServerPath+"/v1/keys"), identity.WithIDClaim("sub"))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := NewJWTAuthenticator(v)
	if err != nil {
		t.Fatal(err)
	}
	person := func(login string) approval.Person {
		t.Helper()
		tok, err := sim.PersonToken(login, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		a, err := auth.Authenticate(t.Context(), tok)
		if err != nil {
			t.Fatal(err)
		}
		return a.Person
	}
	sam, tess := person("sam.singh@example.com"), person("tess.turner@example.com")
	if sam.UserID != "00uSAMsecurity0000g7" || sam.Subject != "sam.singh@example.com" {
		t.Fatalf("Sam from an Okta token: %+v", sam)
	}
	for _, named := range []string{"00uSAMsecurity0000g7", "sam.singh@example.com"} {
		store := approval.New()
		a, err := store.Create(approval.Request{
			Binding: approval.Binding{Agent: "helpdesk-bot", Action: "user_lifecycle.suspend"}, Concerns: []string{named},
			Requirement: approval.Requirement{Approvers: []approval.Set{{Groups: []string{"security-approvers"}}}, Approvals: 1, TTL: time.Hour, Reason: "r"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Vote(a.ID, sam, true, ""); err != approval.ErrSelfApproval {
			t.Errorf("Sam approving his own suspension (named %s): %v, want ErrSelfApproval", named, err)
		}
		if got, err := store.Vote(a.ID, tess, true, ""); err != nil || got.State != approval.Approved {
			t.Errorf("Tess approving Sam's suspension: %v, %v", got.State, err)
		}
	}
}
