package approvers

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
)

// A person's token becomes a Person: subject, email, groups (none without
// the claim), and its expiry.
func TestAuthenticatePerson(t *testing.T) {
	clk := newClock()
	people := newSigner(t, peopleKey(), "people-1", peopleIssuer, peopleAud)
	auth, err := NewJWTAuthenticator(people.verifier(t, clk), WithGroupsClaim("roles"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := auth.Authenticate(t.Context(), people.sign(t, people.claims(ann.sub, "email", ann.email, "roles", []string{"a", "b c"})))
	if err != nil || p.Subject != ann.sub || p.Email != ann.email || !slices.Equal(p.Groups, []string{"a", "b c"}) ||
		!p.Expires.Equal(t0.Add(time.Hour)) {
		t.Fatalf("person %+v, %v", p, err)
	}
	p, err = auth.Authenticate(t.Context(), people.sign(t, people.claims(bob.sub, "email_verified", true)))
	if err != nil || p.Subject != bob.sub || p.Email != "" || p.Groups != nil {
		t.Fatalf("a token without email or groups: %+v, %v", p, err)
	}
}

// What is not a person's valid token is refused, with a stable detail:
// the shape of the claims that name an approver included.
func TestAuthenticateRefuses(t *testing.T) {
	clk := newClock()
	people := newSigner(t, peopleKey(), "people-1", peopleIssuer, peopleAud)
	impostor := newSigner(t, impostorKey(), "people-1", peopleIssuer, peopleAud)
	auth, err := NewJWTAuthenticator(people.verifier(t, clk), WithAgentIDs(func(s string) bool { return s == agentID }))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		token  string
		agent  bool
		detail string
	}{
		{"groups a string", people.sign(t, people.claims(ann.sub, "groups", approvers)), false, DetailBadClaim},
		{"groups of numbers", people.sign(t, people.claims(ann.sub, "groups", []int{1})), false, DetailBadClaim},
		{"an empty group", people.sign(t, people.claims(ann.sub, "groups", []string{" "})), false, DetailBadClaim},
		{"email a number", people.sign(t, people.claims(ann.sub, "email", 7)), false, DetailBadClaim},
		{"unverified email", people.sign(t, people.claims(ann.sub, "email", ann.email, "email_verified", false)), false, DetailEmailUnverified},
		{"signed by another key", impostor.sign(t, impostor.claims(ann.sub)), false, "bad_signature"},
		{"no sub", people.sign(t, people.claims(ann.sub, "sub", nil)), false, "missing_claim"},
		{"an actor", people.sign(t, people.claims(ann.sub, "act", map[string]any{"sub": agentID})), true, DetailActor},
		{"an agent's id as the subject", people.sign(t, people.claims(agentID)), true, DetailAgentID},
		{"an agent's id as the email", people.sign(t, people.claims("00uX", "email", agentID)), true, DetailAgentID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.Authenticate(t.Context(), tc.token)
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Detail != tc.detail || errors.Is(err, ErrAgent) != tc.agent || errors.Is(err, ErrUnauthenticated) == tc.agent {
				t.Fatalf("error %v, want detail %s (agent %v)", err, tc.detail, tc.agent)
			}
			if strings.Contains(err.Error(), tc.token) {
				t.Error("the error holds the token")
			}
		})
	}
	if _, err := NewJWTAuthenticator(nil, WithEmailClaim("")); err == nil {
		t.Error("an authenticator without a verifier and with an unnamed email claim")
	}
}

// Every RPC wants a person's valid token from the approvers' identity
// provider: anything else is UNAUTHENTICATED, and the token is not echoed.
func TestUnauthenticated(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	wrongIssuer := newSigner(t, peopleKey(), "people-1", "https://other.example.com", peopleAud)
	for _, tc := range []struct {
		name, header, detail string
	}{
		{"no credential", "", "missing"},
		{"not a JWT", "Bearer not-a-jwt", "malformed"},
		{"another scheme", "Basic YWxhZGRpbjpvcGVuc2VzYW1l", "malformed"},
		{"wrong issuer", "Bearer " + wrongIssuer.sign(t, wrongIssuer.claims(ann.sub, "groups", ann.groups)), "wrong_issuer"},
		{"wrong audience", "Bearer " + h.token(t, ann, "aud", "someone-else"), "wrong_audience"},
		{"expired", "Bearer " + h.token(t, ann, "exp", t0.Add(-5*time.Minute).Unix()), "expired"},
		{"no exp", "Bearer " + h.token(t, ann, "exp", nil), "invalid_claims"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			if tc.header != "" {
				ctx = metadataCtx(ctx, tc.header)
			}
			_, err := h.client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: a.ID})
			meta, _ := wantStatus(t, err, codes.Unauthenticated, ReasonUnauthenticated)
			if meta["detail"] != tc.detail {
				t.Errorf("detail %q, want %q", meta["detail"], tc.detail)
			}
			if tc.header != "" && strings.Contains(err.Error(), strings.TrimPrefix(tc.header, "Bearer ")) {
				t.Error("the status echoes the token")
			}
			_, err = h.client.ListApprovals(ctx, &bollardv1.ListApprovalsRequest{})
			wantStatus(t, err, codes.Unauthenticated, ReasonUnauthenticated)
			_, err = h.client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: a.ID})
			wantStatus(t, err, codes.Unauthenticated, ReasonUnauthenticated)
		})
	}
	if got, _ := h.store.Get(a.ID); len(got.Votes) != 0 {
		t.Errorf("votes %+v after unauthenticated calls", got.Votes)
	}
}

// An agent never approves: not with its own JWT, not with a person's token
// handed to it (act), not under a person's token naming an agent id.
func TestAgentsCannotApprove(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	for name, token := range map[string]string{
		"an agent's JWT":                      h.agents.sign(t, h.agents.claims(agentID)),
		"a person's token handed to an agent": h.token(t, ann, "act", map[string]any{"sub": agentID}),
		"a token naming a known agent id":     h.people.sign(t, h.people.claims("reader-bot", "groups", []string{approvers})),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := as(t.Context(), token)
			_, err := h.client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: a.ID})
			wantStatus(t, err, codes.PermissionDenied, ReasonAgentCannotApprove)
			_, err = h.client.Deny(ctx, &bollardv1.DenyRequest{ApprovalId: a.ID, Reason: "no"})
			wantStatus(t, err, codes.PermissionDenied, ReasonAgentCannotApprove)
			_, err = h.client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: a.ID})
			wantStatus(t, err, codes.PermissionDenied, ReasonAgentCannotApprove)
		})
	}
	if got, _ := h.store.Get(a.ID); len(got.Votes) != 0 || got.State.String() != "pending" {
		t.Errorf("after agents' attempts: %+v", got)
	}
}
