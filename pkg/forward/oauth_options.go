package forward

import (
	"log/slog"
	"time"
)

type oauthOptions struct {
	logger       *slog.Logger
	userAgent    string
	tokenTimeout time.Duration
}

var defaultOAuthOptions = oauthOptions{
	logger:       slog.New(slog.DiscardHandler),
	userAgent:    "bollard/dev",
	tokenTimeout: 30 * time.Second,
}

// OAuthOption configures an OAuth credential.
type OAuthOption func(*oauthOptions)

// WithOAuthLogger sets the logger for token requests (scope, latency and
// failures; never a token, assertion or key).
func WithOAuthLogger(l *slog.Logger) OAuthOption { return func(o *oauthOptions) { o.logger = l } }

// WithOAuthUserAgent sets the User-Agent of token requests, e.g. "bollard/1.2.3".
func WithOAuthUserAgent(ua string) OAuthOption { return func(o *oauthOptions) { o.userAgent = ua } }

// WithTokenTimeout bounds one token request, the DPoP nonce retry included
// (default 30s). It is separate from the callers' deadlines because the
// request is shared by every caller waiting for that scope.
func WithTokenTimeout(d time.Duration) OAuthOption {
	return func(o *oauthOptions) { o.tokenTimeout = d }
}
