package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

// Approvals configures human approval (docs/approvals.md): the calls policy
// marks with require_approval wait for a person. The agents' side needs no
// setting; the people who approve authenticate with a JWT from the
// company's identity provider, configured under approvers. Without it
// nobody can approve here, and marked calls wait until they expire.
type Approvals struct {
	// MaxPending bounds the approvals pending at once (default 10,000),
	// MaxPendingPerAgent those of one agent (default 20).
	MaxPending         int `yaml:"max_pending"`
	MaxPendingPerAgent int `yaml:"max_pending_per_agent"`
	// Approvers is the identity provider whose JWTs the people who
	// approve present (an Okta org authorization server is the expected
	// one): ApprovalService is served on the gRPC listener when it is set.
	Approvers *Approvers `yaml:"approvers"`
}

// Approvers verifies the people who approve: never an agent credential.
type Approvers struct {
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
	JWKSFile string `yaml:"jwks_file"`
	JWKSURL  string `yaml:"jwks_url"`
	// EmailClaim names the claim holding the person's email (default
	// "email"); GroupsClaim the claim holding their groups, an array of
	// strings (default "groups").
	EmailClaim  string `yaml:"email_claim"`
	GroupsClaim string `yaml:"groups_claim"`
	// UserIDClaim names the claim holding the person's Okta user id
	// (default "uid": an Okta custom authorization server's sub is the
	// login), so that nobody approves a change to their own account
	// however the call names it.
	UserIDClaim string `yaml:"user_id_claim"`
	// Leeway tolerates clock skew on exp, nbf and iat (default 1m).
	Leeway time.Duration `yaml:"leeway"`
}

// SetDefaults fills in what the section leaves out (Parse does it for a
// file; dev mode, which builds its configuration, calls it).
func (a *Approvals) SetDefaults() {
	if a.MaxPending == 0 {
		a.MaxPending = 10_000
	}
	if a.MaxPendingPerAgent == 0 {
		a.MaxPendingPerAgent = 20
	}
	if p := a.Approvers; p != nil {
		setDefault(&p.EmailClaim, "email")
		setDefault(&p.GroupsClaim, "groups")
		setDefault(&p.UserIDClaim, "uid")
		if p.Leeway == 0 {
			p.Leeway = time.Minute
		}
	}
}

// validate checks the section; agentIssuer is identity.jwt.issuer, which
// the approvers' must not be: an agent's token would then pass for a
// person's.
func (a *Approvals) validate(agentIssuer string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("approvals."+format, args...)) }
	if a.MaxPending < 1 || a.MaxPending > 1_000_000 {
		bad("max_pending: must be between 1 and 1,000,000")
	}
	if a.MaxPendingPerAgent < 1 || a.MaxPendingPerAgent > a.MaxPending {
		bad("max_pending_per_agent: must be between 1 and max_pending")
	}
	p := a.Approvers
	if p == nil {
		return errs
	}
	if u, err := url.Parse(p.Issuer); p.Issuer == "" || err != nil || loopback.CheckURL(u) != nil {
		bad("approvers.issuer: must be the identity provider's https issuer URL")
	}
	if agentIssuer != "" && strings.TrimSuffix(p.Issuer, "/") == strings.TrimSuffix(agentIssuer, "/") {
		bad("approvers.issuer: must not be identity.jwt.issuer: agents' tokens must never pass for a person's")
	}
	if p.Audience == "" {
		bad("approvers.audience: is required (the audience of the approvers' access tokens: an API's, never a client id, which ID tokens carry)")
	}
	if (p.JWKSFile == "") == (p.JWKSURL == "") {
		bad("approvers: set exactly one of jwks_file and jwks_url")
	}
	if p.JWKSURL != "" {
		if u, err := url.Parse(p.JWKSURL); err != nil || loopback.CheckURL(u) != nil {
			bad("approvers.jwks_url: must be an https URL")
		}
	}
	if p.EmailClaim == "" || p.GroupsClaim == "" || p.UserIDClaim == "" || p.EmailClaim == p.GroupsClaim || p.UserIDClaim == p.GroupsClaim {
		bad("approvers: email_claim, groups_claim and user_id_claim must be set, and groups_claim a claim of its own")
	}
	if p.Leeway < 0 || p.Leeway > 5*time.Minute {
		bad("approvers.leeway: must be between 0 and 5m")
	}
	return errs
}
