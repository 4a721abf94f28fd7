package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Hooks configures the receiver of Okta event hooks, whose events reach
// agents through WatchEvents. Off unless Listen is set.
type Hooks struct {
	// Listen is the receiver's address, e.g. ":8443" behind the cluster's
	// ingress. Okta must reach it, so it need not be loopback; deliveries
	// are authenticated by the secret header.
	Listen string `yaml:"listen"`
	// Path is the event hook URL's path (default /okta/event-hooks).
	Path string `yaml:"path"`
	// AuthHeader is the header Okta is configured to send (default
	// Authorization); SecretFile holds its value (a mounted Secret;
	// surrounding whitespace is trimmed).
	AuthHeader string `yaml:"auth_header"`
	SecretFile string `yaml:"secret_file"`
	// TLSCertFile and TLSKeyFile serve HTTPS; empty serves HTTP (TLS ends
	// at the ingress).
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// MaxBodyBytes bounds one delivery (default 1 MiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ReplayEvents and ReplayMaxAge bound the window a reconnecting agent
	// can resume from (defaults 1,024 events, 5m).
	ReplayEvents int           `yaml:"replay_events"`
	ReplayMaxAge time.Duration `yaml:"replay_max_age"`
	// SubscriberBuffer is each watching agent's buffer (default 256); past
	// it the agent is sent a gap.
	SubscriberBuffer int `yaml:"subscriber_buffer"`
	// MaxWatchers bounds concurrent WatchEvents streams (default 1,000).
	MaxWatchers int `yaml:"max_watchers"`
	// MaxWatchersPerAgent bounds the streams one agent may hold at once, so
	// that one agent cannot take every place (default 4).
	MaxWatchersPerAgent int `yaml:"max_watchers_per_agent"`
}

// Enabled reports whether the receiver runs.
func (h Hooks) Enabled() bool { return h.Listen != "" }

func (h *Hooks) setDefaults() {
	setDefault(&h.Path, "/okta/event-hooks")
	setDefault(&h.AuthHeader, "Authorization")
	if h.MaxBodyBytes == 0 {
		h.MaxBodyBytes = 1 << 20
	}
	if h.ReplayEvents == 0 {
		h.ReplayEvents = 1024
	}
	if h.ReplayMaxAge == 0 {
		h.ReplayMaxAge = 5 * time.Minute
	}
	if h.SubscriberBuffer == 0 {
		h.SubscriberBuffer = 256
	}
	if h.MaxWatchers == 0 {
		h.MaxWatchers = 1000
	}
	if h.MaxWatchersPerAgent == 0 {
		h.MaxWatchersPerAgent = 4
	}
}

func (h *Hooks) validate() []error {
	if !h.Enabled() {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("hooks."+format, args...)) }
	if _, _, err := net.SplitHostPort(h.Listen); err != nil {
		bad("listen: not a host:port address: %v", err)
	}
	if !strings.HasPrefix(h.Path, "/") || len(h.Path) > 256 {
		bad("path: must start with / (at most 256 bytes)")
	}
	if h.AuthHeader == "" || strings.ContainsAny(h.AuthHeader, " :\r\n") {
		bad("auth_header: a header name")
	}
	if h.SecretFile == "" {
		bad("secret_file: required: deliveries are authenticated by the secret Okta sends")
	}
	if (h.TLSCertFile == "") != (h.TLSKeyFile == "") {
		bad("tls_cert_file, tls_key_file: set both or neither")
	}
	if h.MaxBodyBytes < 1024 || h.MaxBodyBytes > 16<<20 {
		bad("max_body_bytes: must be between 1 KiB and 16 MiB")
	}
	if h.ReplayEvents < 0 || h.ReplayEvents > 1_000_000 {
		bad("replay_events: must be between 0 and 1,000,000")
	}
	if h.ReplayMaxAge < 0 || h.ReplayMaxAge > 24*time.Hour {
		bad("replay_max_age: must be between 0 and 24h")
	}
	if h.SubscriberBuffer < 1 || h.SubscriberBuffer > 65536 {
		bad("subscriber_buffer: must be between 1 and 65,536")
	}
	if h.MaxWatchers < 1 || h.MaxWatchers > 100_000 {
		bad("max_watchers: must be between 1 and 100,000")
	}
	if h.MaxWatchersPerAgent < 1 || h.MaxWatchersPerAgent > h.MaxWatchers {
		bad("max_watchers_per_agent: must be between 1 and max_watchers")
	}
	return errs
}

// Secret reads the hook secret, trimmed of surrounding whitespace. It is
// never logged.
func (h Hooks) Secret() ([]byte, error) {
	raw, err := os.ReadFile(h.SecretFile)
	if err != nil {
		return nil, fmt.Errorf("read hooks.secret_file: %w", err)
	}
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return nil, errors.New("the event hook secret is empty")
	}
	return []byte(s), nil
}
