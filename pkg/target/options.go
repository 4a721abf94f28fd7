package target

import (
	"log/slog"
	"time"
)

// Defaults.
const (
	// DefaultTimeout bounds all lookups for one call. The lookups sit on the
	// path of a destructive call, which is denied when they do not finish.
	DefaultTimeout = 2 * time.Second
	// DefaultMaxGroups is the most groups a user may be in for the lookup to
	// succeed. A user in more is reported unresolved (and the policy denies)
	// rather than described by a partial list that could miss a protected
	// group.
	DefaultMaxGroups = 1000
)

type options struct {
	timeout   time.Duration
	maxGroups int
	logger    *slog.Logger
}

var defaultOptions = options{
	timeout:   DefaultTimeout,
	maxGroups: DefaultMaxGroups,
	logger:    slog.New(slog.DiscardHandler),
}

// Option configures a Resolver.
type Option func(*options)

// WithTimeout bounds the lookups for one call, all pages included (default
// 2s). Non-positive values keep the default.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithMaxGroups sets how many groups a user may be in before the lookup
// gives up and reports the user unresolved (default 1,000). Non-positive
// values keep the default.
func WithMaxGroups(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxGroups = n
		}
	}
}

// WithLogger sets where failed lookups are logged, at warn level, with the
// decision id and never a credential.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}
