package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/loopback"
)

// Config is the whole configuration file.
type Config struct {
	Server       Server       `yaml:"server"`
	Okta         Okta         `yaml:"okta"`
	Identity     Identity     `yaml:"identity"`
	Policy       Policy       `yaml:"policy"`
	Confirmation Confirmation `yaml:"confirmation"`
	Limits       Limits       `yaml:"limits"`
	Audit        Audit        `yaml:"audit"`
	Hooks        Hooks        `yaml:"hooks"`
	MCP          MCP          `yaml:"mcp"`
	Approvals    Approvals    `yaml:"approvals"`
	State        State        `yaml:"state"`
	Log          Log          `yaml:"log"`
}

// Audit configures the audit log: one record per call, hash-chained.
type Audit struct {
	// Stdout writes records to standard output (for the cluster's log
	// pipeline). Default true.
	Stdout *bool `yaml:"stdout"`
	// File writes records to a file, rotated by size. Empty: no file.
	File         string `yaml:"file"`
	MaxFileBytes int64  `yaml:"max_file_bytes"`
	MaxBackups   int    `yaml:"max_backups"`
	// HMACKeyFile holds the per-deployment key that masks credentials in
	// records (a mounted Secret). Empty: a random key per process, so masked
	// values cannot be checked later (a warning says so).
	HMACKeyFile string `yaml:"hmac_key_file"`
	// WriteTimeout turns a blocked sink into a failed one.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// CheckpointInterval is how often each sink seals its chain head with
	// an HMAC'd checkpoint record, so that a cut tail can be found. It
	// cannot be turned off.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// FailOpen answers calls even when no sink can write their record.
	// Default false: such calls fail with audit_unavailable.
	FailOpen bool `yaml:"fail_open"`
	// SpoolFile keeps the outcome records of calls Okta carried out while
	// no sink could take them, until one can (fsynced, kept across
	// restarts). Default: FILE.spool beside audit.file; without a file
	// sink, in memory (lost if the process ends first).
	SpoolFile string `yaml:"spool_file"`
	// SpoolMaxBytes bounds the spool (default 64 MiB).
	SpoolMaxBytes int64 `yaml:"spool_max_bytes"`
}

// StdoutEnabled reports whether records go to standard output.
func (a Audit) StdoutEnabled() bool { return a.Stdout == nil || *a.Stdout }

// Limits protect the org's shared Okta quota.
type Limits struct {
	// AgentRequestsPerMinute is every agent's budget of calls to Okta a
	// minute; 0 means no budget.
	AgentRequestsPerMinute int `yaml:"agent_requests_per_minute"`
	// Agents overrides the budget per agent id (0: unlimited for that agent).
	Agents map[string]int `yaml:"agents"`
	// OktaMaxInFlight caps concurrent requests to Okta (Okta's concurrent limit).
	OktaMaxInFlight int `yaml:"okta_max_in_flight"`
	// OktaMaxWaiting bounds the calls waiting for a place under that cap.
	OktaMaxWaiting int `yaml:"okta_max_waiting"`
	// OktaFleetMaxInFlight caps the requests in flight to Okta from the
	// whole fleet, with state.backend redis (Okta's concurrent limit is
	// per org: 75 on most plans, shared with people and other clients).
	OktaFleetMaxInFlight int `yaml:"okta_fleet_max_in_flight"`
	// OktaReserve is the share of each rate-limit bucket left for people:
	// when a bucket is down to it, new calls wait for the window to reset.
	OktaReserve float64 `yaml:"okta_reserve"`
}

// Server is where Bollard listens.
type Server struct {
	// GRPCListen is a TCP address for the gRPC API; loopback by default
	// (when the key is left out). Set to "" it disables TCP (then
	// UnixSocket must be set).
	GRPCListen string `yaml:"grpc_listen"`
	// UnixSocket is a path for the gRPC API on a Unix socket (for a shared
	// emptyDir in a pod). Empty disables it.
	UnixSocket string `yaml:"unix_socket"`
	// AdminListen serves /healthz and /readyz over HTTP; loopback by default
	// (when the key is left out). Set to "" it disables it.
	AdminListen string `yaml:"admin_listen"`
	// MaxRequestBytes bounds one gRPC request message.
	MaxRequestBytes int `yaml:"max_request_bytes"`
	// MaxConcurrentStreams bounds the RPCs one connection may hold open
	// (default 256).
	MaxConcurrentStreams uint32 `yaml:"max_concurrent_streams"`
	// AllowNonLoopback must be true to listen on an address that is not
	// loopback: Bollard is meant to be reached from inside the pod only.
	AllowNonLoopback bool `yaml:"allow_non_loopback"`
	// TLS serves GRPCListen over TLS (the Unix socket stays plaintext);
	// nil: plaintext. Required by `sidecar approver` on an address that is
	// not loopback.
	TLS *TLS `yaml:"tls"`
	// Pprof serves Go's profiles at /debug/pprof/ on the admin listener, to
	// loopback peers only (kubectl port-forward, or a shell in the pod).
	// Default false.
	Pprof bool `yaml:"pprof"`
}

// Okta is the org Bollard calls and how it authenticates.
type Okta struct {
	OrgURL string `yaml:"org_url"`
	// APITokenFile is a file holding the SSWS API token (a mounted Secret).
	APITokenFile string `yaml:"api_token_file"`
	// APITokenEnv names an environment variable holding the token, for
	// platforms that inject secrets that way. Exactly one source is set.
	APITokenEnv string `yaml:"api_token_env"`
	// OAuth authenticates as an API service app with Private Key JWT instead
	// of an API token; each call then uses a token with only its scope.
	OAuth *OAuth `yaml:"oauth"`
	// Timeout bounds one Okta call.
	Timeout time.Duration `yaml:"timeout"`
}

// OAuth is an Okta API service app authenticating with Private Key JWT.
type OAuth struct {
	ClientID string `yaml:"client_id"`
	// PrivateKeyFile holds the app's private key, PEM (RSA 2048+ or EC P-256).
	PrivateKeyFile string `yaml:"private_key_file"`
	// KeyID is the kid of the public key registered with the app.
	KeyID string `yaml:"key_id"`
	// Scopes Bollard may request: normally those granted to the app. Empty
	// means every scope the action catalog uses.
	Scopes []string `yaml:"scopes"`
	// DPoP requests DPoP-bound tokens, for apps that require them.
	DPoP bool `yaml:"dpop"`
}

// Identity configures how agents authenticate; several modes may be on.
type Identity struct {
	// KeysFile maps agent ids to SHA-256 hashes of their keys.
	KeysFile string `yaml:"keys_file"`
	JWT      *JWT   `yaml:"jwt"`
}

// JWT verifies bearer tokens such as Kubernetes projected service-account tokens.
type JWT struct {
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
	JWKSFile string `yaml:"jwks_file"`
	JWKSURL  string `yaml:"jwks_url"`
	// AgentClaim is the claim (a dotted path for nested claims) that holds
	// the agent id.
	AgentClaim string `yaml:"agent_claim"`
	// Leeway tolerates clock skew on exp, nbf and iat.
	Leeway time.Duration `yaml:"leeway"`
	// RefreshInterval is how often a JWKS URL is fetched again.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
}

// Confirmation configures confirmation tokens.
type Confirmation struct {
	TTL time.Duration `yaml:"ttl"`
}

// Log configures the process log.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Default returns the configuration with every default set.
func Default() Config {
	var c Config
	c.SetDefaults()
	return c
}

// SetDefaults fills every unset field that has a default.
func (c *Config) SetDefaults() {
	setDefault(&c.Server.GRPCListen, "127.0.0.1:8181")
	setDefault(&c.Server.AdminListen, "127.0.0.1:8182")
	if c.Server.MaxRequestBytes == 0 {
		c.Server.MaxRequestBytes = 1 << 20
	}
	if c.Server.MaxConcurrentStreams == 0 {
		c.Server.MaxConcurrentStreams = 256
	}
	if c.Okta.Timeout == 0 {
		c.Okta.Timeout = 30 * time.Second
	}
	if j := c.Identity.JWT; j != nil {
		setDefault(&j.AgentClaim, "sub")
		if j.Leeway == 0 {
			j.Leeway = time.Minute
		}
		if j.RefreshInterval == 0 {
			j.RefreshInterval = 15 * time.Minute
		}
	}
	c.Policy.setDefaults()
	c.Hooks.setDefaults()
	c.MCP.setDefaults()
	c.Approvals.SetDefaults()
	c.State.setDefaults()
	if c.Confirmation.TTL == 0 {
		c.Confirmation.TTL = 5 * time.Minute
	}
	if c.Audit.MaxFileBytes == 0 {
		c.Audit.MaxFileBytes = 100 << 20
	}
	if c.Audit.MaxBackups == 0 {
		c.Audit.MaxBackups = 5
	}
	if c.Audit.WriteTimeout == 0 {
		c.Audit.WriteTimeout = time.Second
	}
	if c.Audit.SpoolFile == "" && c.Audit.File != "" {
		c.Audit.SpoolFile = c.Audit.File + ".spool"
	}
	if c.Audit.SpoolMaxBytes == 0 {
		c.Audit.SpoolMaxBytes = 64 << 20
	}
	if c.Audit.CheckpointInterval == 0 {
		c.Audit.CheckpointInterval = time.Minute
	}
	if c.Limits.OktaMaxInFlight == 0 {
		c.Limits.OktaMaxInFlight = 10
	}
	if c.Limits.OktaMaxWaiting == 0 {
		c.Limits.OktaMaxWaiting = 200
	}
	if c.Limits.OktaFleetMaxInFlight == 0 {
		// Two thirds of Okta's usual 75: the rest is for people, the admin
		// console and the org's other integrations.
		c.Limits.OktaFleetMaxInFlight = 50
	}
	if c.Limits.OktaReserve == 0 {
		c.Limits.OktaReserve = 0.1
	}
	setDefault(&c.Log.Level, "info")
	setDefault(&c.Log.Format, "json")
}

func setDefault(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// Validate reports every problem at once, joined with errors.Join.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	s := c.Server
	if s.GRPCListen == "" && s.UnixSocket == "" {
		bad("server: set grpc_listen, unix_socket or both")
	}
	for name, addr := range map[string]string{"grpc_listen": s.GRPCListen, "admin_listen": s.AdminListen} {
		if addr == "" {
			continue
		}
		if err := checkListen(addr, s.AllowNonLoopback, "server.allow_non_loopback"); err != nil {
			bad("server.%s: %v", name, err)
		}
	}
	errs = append(errs, s.TLS.validate()...)
	if s.MaxConcurrentStreams < 1 || s.MaxConcurrentStreams > 100_000 {
		bad("server.max_concurrent_streams: must be between 1 and 100,000")
	}
	if s.MaxRequestBytes < 1024 || s.MaxRequestBytes > 16<<20 {
		bad("server.max_request_bytes: must be between 1 KiB and 16 MiB")
	}

	o := c.Okta
	if o.OrgURL == "" {
		bad("okta.org_url: required")
	} else if u, err := checkURL(strings.TrimSuffix(o.OrgURL, "/")); err != nil {
		bad("okta.org_url: %w", err)
	} else if u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		bad("okta.org_url: no credentials, path, query or fragment, like https://example.okta.com")
	}
	tokenSources := 0
	for _, set := range []bool{o.APITokenFile != "", o.APITokenEnv != "", o.OAuth != nil} {
		if set {
			tokenSources++
		}
	}
	switch {
	case tokenSources == 0:
		bad("okta: set a credential: api_token_file, api_token_env or oauth")
	case tokenSources > 1:
		bad("okta: set only one of api_token_file, api_token_env and oauth")
	}
	if a := o.OAuth; a != nil {
		if a.ClientID == "" {
			bad("okta.oauth.client_id: required")
		}
		if a.PrivateKeyFile == "" {
			bad("okta.oauth.private_key_file: required")
		}
		known := append(catalog.Scopes(), catalog.LookupScopes()...)
		for _, sc := range a.Scopes {
			if !slices.Contains(known, sc) {
				bad("okta.oauth.scopes: %q is not a scope any action uses (known: %s)", sc, strings.Join(known, " "))
			}
		}
	}
	if o.Timeout < time.Second || o.Timeout > 5*time.Minute {
		bad("okta.timeout: must be between 1s and 5m")
	}

	id := c.Identity
	if id.KeysFile == "" && id.JWT == nil {
		bad("identity: set keys_file, jwt or both")
	}
	if j := id.JWT; j != nil {
		if j.Issuer == "" {
			bad("identity.jwt.issuer: required")
		}
		if j.Audience == "" {
			bad("identity.jwt.audience: required")
		}
		if (j.JWKSFile == "") == (j.JWKSURL == "") {
			bad("identity.jwt: set exactly one of jwks_file and jwks_url")
		}
		if j.JWKSURL != "" {
			if u, err := checkURL(j.JWKSURL); err != nil {
				bad("identity.jwt.jwks_url: %w", err)
			} else if u.User != nil {
				bad("identity.jwt.jwks_url: must not carry credentials")
			}
		}
		if j.Leeway < 0 || j.Leeway > 5*time.Minute {
			bad("identity.jwt.leeway: must be between 0 and 5m")
		}
	}

	errs = append(errs, c.Policy.validate()...)
	errs = append(errs, c.Hooks.validate()...)
	errs = append(errs, c.MCP.validate(c.Confirmation.TTL, s.UnixSocket)...)
	errs = append(errs, c.State.validate()...)
	agentIssuer := ""
	if c.Identity.JWT != nil {
		agentIssuer = c.Identity.JWT.Issuer
	}
	errs = append(errs, c.Approvals.validate(agentIssuer, s.AdminListen)...)
	if c.Confirmation.TTL < 10*time.Second || c.Confirmation.TTL > time.Hour {
		bad("confirmation.ttl: must be between 10s and 1h")
	}
	l := c.Limits
	if l.AgentRequestsPerMinute < 0 {
		bad("limits.agent_requests_per_minute: must not be negative")
	}
	for id, n := range l.Agents {
		if n < 0 {
			bad("limits.agents.%s: must not be negative", id)
		}
	}
	if l.OktaMaxInFlight < 1 || l.OktaMaxInFlight > 1000 {
		bad("limits.okta_max_in_flight: must be between 1 and 1000")
	}
	if l.OktaMaxWaiting < 0 || l.OktaMaxWaiting > 100000 {
		bad("limits.okta_max_waiting: must be between 0 and 100000")
	}
	if l.OktaFleetMaxInFlight < 1 || l.OktaFleetMaxInFlight > 10000 {
		bad("limits.okta_fleet_max_in_flight: must be between 1 and 10000")
	}
	if l.OktaReserve < 0 || l.OktaReserve >= 1 {
		bad("limits.okta_reserve: must be at least 0 and below 1")
	}
	if s.Pprof && s.AdminListen == "" {
		bad("server.pprof: needs server.admin_listen, where it is served")
	}
	if a := c.Audit; !a.StdoutEnabled() && a.File == "" {
		bad("audit: set stdout or file; every call must leave a record somewhere")
	}
	if c.Audit.MaxFileBytes < 1<<20 {
		bad("audit.max_file_bytes: must be at least 1 MiB")
	}
	if c.Audit.MaxBackups < 1 || c.Audit.MaxBackups > 1000 {
		bad("audit.max_backups: must be between 1 and 1000")
	}
	if c.Audit.WriteTimeout < 10*time.Millisecond || c.Audit.WriteTimeout > time.Minute {
		bad("audit.write_timeout: must be between 10ms and 1m")
	}
	if c.Audit.SpoolMaxBytes < 1<<20 || c.Audit.SpoolMaxBytes > 1<<30 {
		bad("audit.spool_max_bytes: must be between 1 MiB and 1 GiB")
	}
	if c.Audit.SpoolFile != "" && c.Audit.SpoolFile == c.Audit.File {
		bad("audit.spool_file: must not be audit.file")
	}
	if c.Audit.CheckpointInterval < time.Second || c.Audit.CheckpointInterval > time.Hour {
		bad("audit.checkpoint_interval: must be between 1s and 1h")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level: must be debug, info, warn or error")
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		bad("log.format: must be json or text")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration:\n%w", errors.Join(errs...))
	}
	return nil
}

// checkListen is the rule for every address an agent connects to: loopback,
// unless the setting named by allowFlag is true.
func checkListen(addr string, allowNonLoopback bool, allowFlag string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("not a host:port address: %w", err)
	}
	if allowNonLoopback {
		return nil
	}
	if !loopback.Host(host) {
		return fmt.Errorf("must be a loopback address such as 127.0.0.1 or [::1] (set %s to listen elsewhere)", allowFlag)
	}
	return nil
}

// checkURL is the rule for every URL the sidecar sends a credential to or
// takes keys or policy from: absolute https, or plain http to a literal
// loopback IP (package loopback), because a name can be pointed anywhere and
// whoever answers reads the token or serves the keys. The error never
// repeats the URL, which may hold a secret; callers check the rest.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("does not parse")
	}
	if err := loopback.CheckURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

// OktaToken reads the API token from the configured file or variable. The
// token is trimmed of surrounding whitespace; it is never logged.
func (o Okta) OktaToken() (string, error) {
	var tok string
	switch {
	case o.APITokenFile != "":
		raw, err := os.ReadFile(o.APITokenFile)
		if err != nil {
			return "", fmt.Errorf("read okta.api_token_file: %w", err)
		}
		tok = string(raw)
	case o.APITokenEnv != "":
		tok = os.Getenv(o.APITokenEnv)
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", errors.New("the Okta API token is empty")
	}
	if strings.ContainsAny(tok, "\r\n\t ") {
		return "", errors.New("the Okta API token contains whitespace")
	}
	return tok, nil
}

// AllowedScopes are the scopes Bollard may request: the configured ones, or
// every scope the catalog uses plus those of the target lookups.
func (a OAuth) AllowedScopes() []string {
	if len(a.Scopes) > 0 {
		return a.Scopes
	}
	return slices.Compact(slices.Sorted(slices.Values(append(catalog.Scopes(), catalog.LookupScopes()...))))
}
