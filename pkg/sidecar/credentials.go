package sidecar

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/gateway"
	"github.com/bollard-dev/bollard/pkg/identity"
)

// newAuthenticator builds the agents' authentication from the config: a key
// file, JWTs, or both. isAgent names the agents of the key file (JWT agents
// are named by their tokens, which no person's passes for).
func newAuthenticator(ctx context.Context, cfg config.Identity, log *slog.Logger) (auth gateway.Authenticator, isAgent func(string) bool, err error) {
	var opts []identity.Option
	isAgent = func(string) bool { return false }
	if cfg.KeysFile != "" {
		ks, err := identity.LoadKeyFile(cfg.KeysFile)
		if err != nil {
			return nil, nil, fmt.Errorf("load agent keys: %w", err)
		}
		opts = append(opts, identity.WithStaticKeys(ks))
		isAgent = ks.Has
	}
	if j := cfg.JWT; j != nil {
		jopts := []identity.JWTOption{identity.WithIssuer(j.Issuer), identity.WithAudience(j.Audience),
			identity.WithIDClaim(j.AgentClaim), identity.WithLeeway(j.Leeway), identity.WithLogger(log),
			identity.WithRefresh(j.RefreshInterval, 10*time.Second)}
		if j.JWKSFile != "" {
			jopts = append(jopts, identity.WithJWKSFile(j.JWKSFile))
		} else {
			jopts = append(jopts, identity.WithJWKSURL(j.JWKSURL))
		}
		v, err := identity.NewJWTVerifier(ctx, jopts...)
		if err != nil {
			return nil, nil, fmt.Errorf("set up JWT verification: %w", err)
		}
		opts = append(opts, identity.WithJWT(v))
	}
	auth, err = identity.New(opts...)
	return auth, isAgent, err
}

// buildCredential makes Bollard's Okta credential: an SSWS token, or the
// OAuth service app. Secrets are read from files or the environment here and
// go nowhere else.
func buildCredential(ctx context.Context, cfg config.Okta, o runOptions, log *slog.Logger) (forward.Credential, error) {
	if cfg.OAuth == nil {
		token := o.token
		if token == "" {
			var err error
			if token, err = cfg.OktaToken(); err != nil {
				return nil, err
			}
		}
		return forward.SSWS(token)
	}
	pem, err := os.ReadFile(cfg.OAuth.PrivateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("read okta.oauth.private_key_file: %w", err)
	}
	key, err := forward.ParsePrivateKeyPEM(pem)
	if err != nil {
		return nil, fmt.Errorf("okta.oauth.private_key_file: %w", err)
	}
	allowed := cfg.OAuth.AllowedScopes()
	var unusable []string
	for _, a := range catalog.Actions() {
		if !slices.Contains(allowed, a.Scope) {
			unusable = append(unusable, a.Name)
		}
	}
	if len(unusable) > 0 {
		// Not fatal: a deployment may grant only some areas. These actions
		// fail at call time as a deployment error, never with a wider token.
		log.Warn("okta.oauth.scopes leaves actions unusable", "actions", unusable)
	}
	return forward.NewOAuth(ctx, forward.OAuthConfig{
		OrgURL: cfg.OrgURL, ClientID: cfg.OAuth.ClientID, PrivateKey: key, KeyID: cfg.OAuth.KeyID,
		AllowedScopes: allowed, DPoP: cfg.OAuth.DPoP,
	}, forward.WithOAuthLogger(log), forward.WithOAuthUserAgent("bollard/"+o.version))
}
