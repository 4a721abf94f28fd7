package mcpfront

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/bollard-dev/bollard/pkg/identity"
)

type identityKey struct{}

// authenticated refuses a request without a valid agent credential with
// 401 and a WWW-Authenticate challenge, before the MCP server sees it. The
// credential is checked by the gateway's own rule (keys or JWT); the
// pipeline checks it again on every call, as it does for gRPC.
func (s *Server) authenticated(next http.Handler) http.Handler {
	// The SDK binds each session to the agent (TokenInfo.UserID), so that
	// another agent cannot use a session id it learnt.
	bound := auth.RequireBearerToken(func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		id, ok := ctx.Value(identityKey{}).(identity.Identity)
		if !ok {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{UserID: id.ID}, nil
	}, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		values := r.Header.Values("Authorization")
		var authz string
		if len(values) == 1 {
			authz = values[0]
		} else if len(values) > 1 {
			authz = "several values" // refused by the parser as malformed
		}
		id, err := s.gw.Authenticate(r.Context(), authz)
		if err != nil {
			s.opts.log.DebugContext(r.Context(), "mcp request refused: unauthenticated", "reason", identity.ReasonOf(err))
			s.challenge(w, r, authz != "")
			return
		}
		bound.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// challenge answers 401 with the Bearer challenge of RFC 6750 and, in JWT
// mode, where the protected-resource metadata is (RFC 9728).
func (s *Server) challenge(w http.ResponseWriter, r *http.Request, sent bool) {
	c := `Bearer realm="bollard"`
	if sent {
		c += `, error="invalid_token"`
	}
	if s.opts.issuer != "" {
		c += `, resource_metadata="` + baseURL(r) + "/.well-known/oauth-protected-resource" + s.opts.path + `"`
	}
	w.Header().Set("WWW-Authenticate", c)
	http.Error(w, "missing or invalid agent credential", http.StatusUnauthorized)
}

// resourceMetadata is the protected-resource metadata of the MCP endpoint:
// agents' tokens come from the configured issuer, in the header.
func (s *Server) resourceMetadata(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&oauthex.ProtectedResourceMetadata{
		Resource:               baseURL(r) + s.opts.path,
		AuthorizationServers:   []string{s.opts.issuer},
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "Bollard MCP",
	})
}

// baseURL is the scheme and host the client reached this server at.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
