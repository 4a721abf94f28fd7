package config

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
)

// State backends.
const (
	StateMemory = "memory"
	StateRedis  = "redis"
)

// What a sidecar does while the shared store is unreachable.
const (
	// UnavailableDenyShared denies the calls that need a shared counter or
	// token (destructive calls, impact limits, confirmations) with
	// STATE_UNAVAILABLE, and lets reads go on under local limits.
	UnavailableDenyShared = "deny_shared"
	// UnavailableDenyAll denies every call that would reach Okta.
	UnavailableDenyAll = "deny_all"
)

// State is where the state a fleet of sidecars shares lives: impact
// counts, request budgets, Okta's rate-limit picture and in-flight cap,
// confirmation tokens and received events (docs/scaling.md). The default,
// memory, keeps it in this process: right for one replica, and what dev
// mode uses.
type State struct {
	// Backend is memory (default) or redis.
	Backend string `yaml:"backend"`
	// Redis is the shared store when Backend is redis (Redis, Valkey or a
	// managed Redis: the protocol, not the product).
	Redis Redis `yaml:"redis"`
	// WhenUnavailable is what calls get while the store cannot be reached:
	// deny_shared (default) or deny_all.
	WhenUnavailable string `yaml:"when_unavailable"`
}

// Redis is the connection to the shared store.
type Redis struct {
	// Address is host:port, or unix:///path for a socket.
	Address string `yaml:"address"`
	// Username is the ACL user (empty: the default user); PasswordFile holds
	// its password (a mounted Secret; surrounding whitespace is trimmed).
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	// DB is the database number (default 0).
	DB int `yaml:"db"`
	// KeyPrefix starts every key Bollard writes (default "bollard:"), so
	// that one store can serve several fleets or other tenants.
	KeyPrefix string `yaml:"key_prefix"`
	// TLS to the store; off unless enabled.
	TLS RedisTLS `yaml:"tls"`
	// DialTimeout, ReadTimeout and WriteTimeout bound each step of a
	// command (defaults 2s, 500ms, 500ms): a call waiting on the store
	// waits at most this long before the unavailable rule applies.
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// PoolSize is the most connections this sidecar opens (default 16).
	PoolSize int `yaml:"pool_size"`
}

// RedisTLS is TLS to the store.
type RedisTLS struct {
	Enabled bool `yaml:"enabled"`
	// CAFile verifies the server (default: the system's roots);
	// ServerName is the name to verify (default: the address's host).
	CAFile     string `yaml:"ca_file"`
	ServerName string `yaml:"server_name"`
	// CertFile and KeyFile authenticate this sidecar (mutual TLS); both or
	// neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// Shared reports whether the state is shared through a store.
func (s State) Shared() bool { return s.Backend == StateRedis }

func (s *State) setDefaults() {
	setDefault(&s.Backend, StateMemory)
	setDefault(&s.WhenUnavailable, UnavailableDenyShared)
	r := &s.Redis
	setDefault(&r.KeyPrefix, "bollard:")
	if r.DialTimeout == 0 {
		r.DialTimeout = 2 * time.Second
	}
	if r.ReadTimeout == 0 {
		r.ReadTimeout = 500 * time.Millisecond
	}
	if r.WriteTimeout == 0 {
		r.WriteTimeout = 500 * time.Millisecond
	}
	if r.PoolSize == 0 {
		r.PoolSize = 16
	}
}

// keyPrefixPattern keeps prefixes to what reads well in a key and cannot
// be mistaken for a glob or a separator of another tenant's keys.
var keyPrefixPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

func (s *State) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("state."+format, args...)) }
	switch s.Backend {
	case StateMemory, StateRedis:
	default:
		bad("backend: %q is not memory or redis", s.Backend)
	}
	switch s.WhenUnavailable {
	case UnavailableDenyShared, UnavailableDenyAll:
	default:
		bad("when_unavailable: %q is not deny_shared or deny_all", s.WhenUnavailable)
	}
	if s.Backend != StateRedis {
		return errs
	}
	r := s.Redis
	switch {
	case r.Address == "":
		bad("redis.address: required with backend redis")
	case strings.HasPrefix(r.Address, "unix://"):
		if !strings.HasPrefix(strings.TrimPrefix(r.Address, "unix://"), "/") {
			bad("redis.address: a unix socket needs an absolute path (unix:///path)")
		}
		if r.TLS.Enabled {
			bad("redis.tls: not over a unix socket")
		}
	case strings.ContainsAny(r.Address, "@/"):
		// Not echoed: it may hold a password, and the address is logged.
		bad("redis.address: host:port only; a user and password go in redis.username and redis.password_file")
	default:
		if _, port, err := net.SplitHostPort(r.Address); err != nil || port == "" {
			bad("redis.address: %q is not host:port or unix:///path", r.Address)
		}
	}
	if r.DB < 0 || r.DB > 1000 {
		bad("redis.db: must be between 0 and 1000")
	}
	if !keyPrefixPattern.MatchString(r.KeyPrefix) {
		bad("redis.key_prefix: 1 to 64 of letters, digits, _ . : -")
	}
	for name, d := range map[string]time.Duration{"dial_timeout": r.DialTimeout, "read_timeout": r.ReadTimeout, "write_timeout": r.WriteTimeout} {
		if d < 10*time.Millisecond || d > time.Minute {
			bad("redis.%s: must be between 10ms and 1m", name)
		}
	}
	if r.PoolSize < 1 || r.PoolSize > 1000 {
		bad("redis.pool_size: must be between 1 and 1000")
	}
	if r.Username != "" && r.PasswordFile == "" {
		bad("redis.password_file: required with redis.username")
	}
	if (r.TLS.CertFile == "") != (r.TLS.KeyFile == "") {
		bad("redis.tls: set both cert_file and key_file, or neither")
	}
	if !r.TLS.Enabled && (r.TLS.CAFile != "" || r.TLS.CertFile != "" || r.TLS.ServerName != "") {
		bad("redis.tls: files or server_name set but tls.enabled is false")
	}
	return errs
}
