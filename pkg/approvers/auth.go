package approvers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/identity"
)

// Default claim names of a person's token.
const (
	DefaultEmailClaim  = "email"
	DefaultGroupsClaim = "groups"
	DefaultUserIDClaim = "uid"
)

// Bounds on what a token may name.
const (
	maxGroups   = 1024
	maxClaimLen = 256  // an email, a group name
	maxExp      = 1e12 // seconds: far past any token's life, well inside int64
)

// Details of an AuthError: identity's reasons (expired, wrong_issuer, ...)
// for a token that does not verify, or one of these.
const (
	// DetailActor: the token names an actor (RFC 8693 act claim): a
	// person's token handed to someone else, an agent.
	DetailActor = "actor"
	// DetailAgentID: the subject or the email is a known agent id.
	DetailAgentID = "agent_id"
	// DetailAgentCredential: the credential is one the agents'
	// authenticator accepts (an agent key or an agent's JWT).
	DetailAgentCredential = "agent_credential"
	// DetailBadClaim: the email or groups claim is not of the expected
	// shape.
	DetailBadClaim = "bad_claim"
	// DetailEmailUnverified: the token says its email is not verified
	// (email_verified false), so it cannot name an approver.
	DetailEmailUnverified = "email_unverified"
)

// Approver is a person whose token Bollard verified: who they are, and
// until when their token vouches for it.
type Approver struct {
	approval.Person
	// Expires is the token's exp: a watch ends then (at once when zero).
	Expires time.Time
}

// Authenticator verifies a person's bearer credential. The gRPC service
// takes it from `authorization: Bearer`; a web console may take it from
// elsewhere and reuse the same authenticator. Its errors are *AuthError.
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (Approver, error)
}

var (
	// ErrUnauthenticated wraps every refusal of a credential that is not a
	// person's valid token (UNAUTHENTICATED).
	ErrUnauthenticated = errors.New("approvers: not a person's valid token")
	// ErrAgent wraps every refusal of a credential an agent holds, or a
	// person's token handed to one (AGENT_CANNOT_APPROVE).
	ErrAgent = errors.New("approvers: an agent's credential")
)

// AuthError is a refused credential. It wraps ErrUnauthenticated or
// ErrAgent (test with errors.Is) and never holds the credential.
type AuthError struct {
	// Detail is a stable word that says why: one of identity's reasons or
	// a Detail constant.
	Detail string
	// Subject is who the credential names when it could be verified (an
	// agent's id, the subject of a token naming an actor), for the audit
	// record; "" otherwise.
	Subject string
	err     error
}

func (e *AuthError) Error() string { return e.err.Error() }
func (e *AuthError) Unwrap() error { return e.err }

func unauthenticated(detail string, cause error) error {
	return &AuthError{Detail: detail, err: fmt.Errorf("%w: %s: %w", ErrUnauthenticated, detail, cause)}
}

func agentCredential(detail, subject string) error {
	return &AuthError{Detail: detail, Subject: subject, err: fmt.Errorf("%w: %s", ErrAgent, detail)}
}

// JWTAuthenticator verifies people's JWTs from the identity provider
// Bollard trusts for approvers, which is configured apart from the agents'
// (its own issuer, audience and keys). It is safe for concurrent use.
type JWTAuthenticator struct {
	verifier    *identity.JWTVerifier
	emailClaim  string
	groupsClaim string
	userIDClaim string
	isAgent     func(string) bool
	agents      identity.Authenticator
}

var _ Authenticator = (*JWTAuthenticator)(nil)

// AuthOption configures a JWTAuthenticator.
type AuthOption func(*JWTAuthenticator)

// WithEmailClaim names the claim holding the person's email (default
// "email"). A token without it has no email: it can then qualify by
// subject and groups only.
func WithEmailClaim(name string) AuthOption { return func(a *JWTAuthenticator) { a.emailClaim = name } }

// WithGroupsClaim names the claim holding the person's groups, an array of
// strings (default "groups"). A token without it has no groups; any other
// shape is refused.
func WithGroupsClaim(name string) AuthOption {
	return func(a *JWTAuthenticator) { a.groupsClaim = name }
}

// WithUserIDClaim names the claim holding the person's Okta user id
// (default "uid", where an Okta custom authorization server puts it; its
// sub is the login). A token without it has no user id; any other shape is
// refused. The approval store compares it with the users a call changes.
func WithUserIDClaim(name string) AuthOption {
	return func(a *JWTAuthenticator) { a.userIDClaim = name }
}

// WithAgentIDs tells the authenticator which names are agents' ids: a
// token whose subject or email is one is an agent's, refused with
// AGENT_CANNOT_APPROVE. Give it what the approval store's WithAgents has.
func WithAgentIDs(isAgent func(string) bool) AuthOption {
	return func(a *JWTAuthenticator) { a.isAgent = isAgent }
}

// WithAgentCredentials is the agents' own authenticator (the gateway's
// identity.Chain): a credential that fails as a person's token but that
// it accepts (an agent key, an agent's JWT) is refused with
// AGENT_CANNOT_APPROVE rather than UNAUTHENTICATED, so that the refusal
// and its audit record say what happened.
func WithAgentCredentials(agents identity.Authenticator) AuthOption {
	return func(a *JWTAuthenticator) { a.agents = agents }
}

// NewJWTAuthenticator returns an authenticator of people's tokens verified
// by v. The person's subject is v's id claim (sub unless set otherwise).
func NewJWTAuthenticator(v *identity.JWTVerifier, opts ...AuthOption) (*JWTAuthenticator, error) {
	a := &JWTAuthenticator{verifier: v, emailClaim: DefaultEmailClaim, groupsClaim: DefaultGroupsClaim, userIDClaim: DefaultUserIDClaim,
		isAgent: func(string) bool { return false }}
	for _, o := range opts {
		o(a)
	}
	var errs []error
	if v == nil {
		errs = append(errs, errors.New("a JWT verifier is required"))
	}
	if a.emailClaim == "" || a.groupsClaim == "" || a.emailClaim == a.groupsClaim {
		errs = append(errs, errors.New("the email and groups claims must be named, and differ"))
	}
	if a.isAgent == nil {
		errs = append(errs, errors.New("the agent ids function must not be nil"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("approvers: invalid authenticator: %w", errors.Join(errs...))
	}
	return a, nil
}

// Authenticate verifies a person's token. An agent's credential, a token
// naming an actor, and one whose subject or email is an agent's id are
// ErrAgent; anything else that is not a valid person's token is
// ErrUnauthenticated.
func (a *JWTAuthenticator) Authenticate(ctx context.Context, credential string) (Approver, error) {
	id, err := a.verifier.Authenticate(ctx, credential)
	if err != nil {
		if a.agents != nil {
			if agent, aerr := a.agents.Authenticate(ctx, credential); aerr == nil {
				return Approver{}, agentCredential(DetailAgentCredential, agent.ID)
			}
		}
		detail := identity.ReasonOf(err)
		if detail == "" {
			detail = identity.ReasonMalformed
		}
		return Approver{}, unauthenticated(detail, err)
	}
	if act, ok := id.Claims["act"]; ok && act != nil {
		return Approver{}, agentCredential(DetailActor, id.ID)
	}
	email, err := a.email(id.Claims)
	if err != nil {
		return Approver{}, err
	}
	groups, err := a.groups(id.Claims)
	if err != nil {
		return Approver{}, err
	}
	userID := ""
	if raw, has := id.Claims[a.userIDClaim]; has {
		if userID, _ = raw.(string); userID == "" || !printable(userID) {
			return Approver{}, unauthenticated(DetailBadClaim, fmt.Errorf("claim %q is not a printable string of 1 to %d bytes", a.userIDClaim, maxClaimLen))
		}
	}
	if a.isAgent(id.ID) || (email != "" && a.isAgent(email)) || (userID != "" && a.isAgent(userID)) {
		return Approver{}, agentCredential(DetailAgentID, id.ID)
	}
	exp, ok := id.Claims["exp"].(float64)
	if !ok || exp <= 0 || exp > maxExp {
		return Approver{}, unauthenticated(identity.ReasonInvalidClaimsSet, errors.New("exp is not a number of seconds"))
	}
	return Approver{Person: approval.Person{Subject: id.ID, Email: email, UserID: userID, Groups: groups}, Expires: time.Unix(int64(exp), 0)}, nil
}

func (a *JWTAuthenticator) email(claims map[string]any) (string, error) {
	raw, has := claims[a.emailClaim]
	if !has || raw == nil {
		return "", nil
	}
	email, ok := raw.(string)
	if !ok || !printable(email) {
		return "", unauthenticated(DetailBadClaim, fmt.Errorf("claim %q is not a printable string of 1 to %d bytes", a.emailClaim, maxClaimLen))
	}
	// An email the provider did not verify could be anyone's: one matching
	// an approver's, or the email of the person an agent acts for.
	if v, has := claims["email_verified"]; has && v != true {
		return "", unauthenticated(DetailEmailUnverified, errors.New("email_verified is not true"))
	}
	return email, nil
}

func (a *JWTAuthenticator) groups(claims map[string]any) ([]string, error) {
	raw, has := claims[a.groupsClaim]
	if !has || raw == nil {
		return nil, nil
	}
	bad := unauthenticated(DetailBadClaim, fmt.Errorf("claim %q is not an array of at most %d printable strings", a.groupsClaim, maxGroups))
	list, ok := raw.([]any)
	if !ok || len(list) > maxGroups {
		return nil, bad
	}
	groups := make([]string, 0, len(list))
	for _, g := range list {
		name, ok := g.(string)
		if !ok || !printable(name) {
			return nil, bad
		}
		groups = append(groups, name)
	}
	return groups, nil
}

// printable is a name of 1 to maxClaimLen bytes without control
// characters (spaces are allowed: group names have them).
func printable(s string) bool {
	if s == "" || len(s) > maxClaimLen || !utf8.ValidString(s) || strings.TrimSpace(s) == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
