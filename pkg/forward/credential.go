package forward

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Credential authorizes one request to Okta with Bollard's own credential.
//
// scope is the OAuth scope the call's action needs (catalog.Action.Scope).
// A credential that can narrow its token to a scope (the OAuth service app)
// must use a token carrying that scope and no other, so that a policy bug
// still cannot turn a read into a write at Okta; an SSWS token ignores it.
// Implementations never put the secret in an error.
type Credential interface {
	Authorize(ctx context.Context, req *http.Request, scope string) error
}

// ResponseObserver is implemented by credentials that learn from Okta's
// answers, such as a DPoP nonce demanded by the resource server. When
// ObserveResponse returns true the client sends the request once more,
// authorized again.
type ResponseObserver interface {
	ObserveResponse(req *http.Request, resp *http.Response) (retry bool)
}

// SSWS returns the credential of an Okta API token ("Authorization: SSWS
// <token>"). The token acts with its creating admin's rights; scopes do not
// apply to it.
func SSWS(token string) (Credential, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, errors.New("forward: the SSWS token is empty")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, errors.New("forward: the SSWS token contains whitespace")
	}
	return sswsCredential{header: "SSWS " + token}, nil
}

type sswsCredential struct{ header string }

func (s sswsCredential) Authorize(_ context.Context, req *http.Request, _ string) error {
	req.Header.Set("Authorization", s.header)
	return nil
}

// String keeps the token out of anything that formats the credential.
func (sswsCredential) String() string { return "SSWS [redacted]" }
