package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Policy configures the OPA policies: where the enforced policy comes from,
// an optional shadow policy decided beside it, and agents in dry-run.
type Policy struct {
	// Dir is a directory of .rego and data .json files, watched and reloaded
	// on change. Empty (and no bundle) uses the policies embedded in the
	// binary.
	Dir string `yaml:"dir"`
	// Bundle loads the policy from an OPA bundle instead: a file, or a
	// bundle server polled over HTTP.
	Bundle *Bundle `yaml:"bundle"`
	// EvalTimeout bounds one evaluation; past it the call is denied.
	EvalTimeout time.Duration `yaml:"eval_timeout"`
	// Shadow is a candidate policy decided beside the enforced one on every
	// call. Its differences are counted, traced and audited; it never
	// changes an outcome.
	Shadow *PolicySource `yaml:"shadow"`
	// DryRunAgents are agents whose calls go ahead when the policy denies
	// them; the denial is logged, traced and audited (dry_run: true). For
	// onboarding a new agent's policy. A policy error still denies.
	DryRunAgents []string `yaml:"dry_run_agents"`
	// Target configures the lookups of what a call changes (users' groups
	// and admin roles, groups' roles, sessions' users) that the
	// protected-resource rules need.
	Target Target `yaml:"target"`
}

// PolicySource is a policy directory or bundle, for the shadow policy.
type PolicySource struct {
	Dir    string  `yaml:"dir"`
	Bundle *Bundle `yaml:"bundle"`
}

// Bundle is an OPA bundle: a file, or a bundle server URL.
type Bundle struct {
	// File is a bundle (.tar.gz) on disk, watched and reloaded on change.
	File string `yaml:"file"`
	// URL is a bundle on a bundle server, polled every PollInterval with
	// ETags. The first download must succeed for the sidecar to start;
	// later failures keep the active policy.
	URL          string        `yaml:"url"`
	PollInterval time.Duration `yaml:"poll_interval"`
	Timeout      time.Duration `yaml:"timeout"`
	// BearerTokenFile holds a token sent as "Authorization: Bearer", read
	// before every request so that a rotated secret is picked up.
	BearerTokenFile string `yaml:"bearer_token_file"`
	// Verification requires every bundle to be signed with this key.
	Verification *BundleVerification `yaml:"verification"`
}

// BundleVerification checks bundle signatures (`opa build --signing-key`).
type BundleVerification struct {
	KeyID string `yaml:"key_id"`
	// PublicKeyFile holds the PEM public key (or, for HS*, the secret).
	PublicKeyFile string `yaml:"public_key_file"`
	// Algorithm defaults to RS256.
	Algorithm string `yaml:"algorithm"`
	// Scope must match the scope the bundle was signed with, if any.
	Scope string `yaml:"scope"`
}

// Target configures target lookups.
type Target struct {
	// Lookup turns the lookups on (default true). Off, manage actions that
	// change a user, group or session reach the policy without target facts,
	// and the shipped protected-resource rule denies them.
	Lookup *bool `yaml:"lookup"`
	// Timeout bounds the lookups of one call (default 2s).
	Timeout time.Duration `yaml:"timeout"`
}

// LookupEnabled reports whether target lookups are on.
func (t Target) LookupEnabled() bool { return t.Lookup == nil || *t.Lookup }

// Limits on policy settings.
const (
	maxDryRunAgents = 10_000
	maxAgentIDLen   = 256
)

func (p *Policy) setDefaults() {
	if p.EvalTimeout == 0 {
		p.EvalTimeout = 100 * time.Millisecond
	}
	if p.Target.Timeout == 0 {
		p.Target.Timeout = 2 * time.Second
	}
	for _, b := range []*Bundle{p.Bundle, p.shadowBundle()} {
		if b == nil {
			continue
		}
		if b.URL != "" && b.PollInterval == 0 {
			b.PollInterval = time.Minute
		}
		if b.URL != "" && b.Timeout == 0 {
			b.Timeout = 30 * time.Second
		}
	}
}

func (p *Policy) shadowBundle() *Bundle {
	if p.Shadow == nil {
		return nil
	}
	return p.Shadow.Bundle
}

func (p *Policy) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.EvalTimeout < time.Millisecond || p.EvalTimeout > 10*time.Second {
		bad("policy.eval_timeout: must be between 1ms and 10s")
	}
	if p.Dir != "" && p.Bundle != nil {
		bad("policy: set dir or bundle, not both")
	}
	errs = append(errs, p.Bundle.validate("policy.bundle")...)
	if s := p.Shadow; s != nil {
		if (s.Dir == "") == (s.Bundle == nil) {
			bad("policy.shadow: set exactly one of dir and bundle")
		}
		errs = append(errs, s.Bundle.validate("policy.shadow.bundle")...)
	}
	if len(p.DryRunAgents) > maxDryRunAgents {
		bad("policy.dry_run_agents: at most %d agents", maxDryRunAgents)
	}
	for i, id := range p.DryRunAgents {
		if id == "" || len(id) > maxAgentIDLen {
			bad("policy.dry_run_agents[%d]: an agent id of 1 to %d characters", i, maxAgentIDLen)
		}
	}
	if p.Target.Timeout < 100*time.Millisecond || p.Target.Timeout > 30*time.Second {
		bad("policy.target.timeout: must be between 100ms and 30s")
	}
	return errs
}

func (b *Bundle) validate(where string) []error {
	if b == nil {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(where+format, args...)) }
	if (b.File == "") == (b.URL == "") {
		bad(": set exactly one of file and url")
	}
	if b.URL != "" {
		if u, err := checkURL(b.URL); err != nil {
			bad(".url: %w", err)
		} else if u.User != nil {
			bad(".url: must not carry credentials; use bearer_token_file")
		}
		if b.PollInterval < time.Second || b.PollInterval > 24*time.Hour {
			bad(".poll_interval: must be between 1s and 24h")
		}
		if b.Timeout < time.Second || b.Timeout > 5*time.Minute {
			bad(".timeout: must be between 1s and 5m")
		}
	} else if b.PollInterval != 0 || b.Timeout != 0 || b.BearerTokenFile != "" {
		bad(": poll_interval, timeout and bearer_token_file apply to url only")
	}
	if v := b.Verification; v != nil {
		if v.KeyID == "" {
			bad(".verification.key_id: required")
		}
		if v.PublicKeyFile == "" {
			bad(".verification.public_key_file: required")
		}
	}
	return errs
}

// PublicKey reads the verification key file.
func (v BundleVerification) PublicKey() (string, error) {
	raw, err := os.ReadFile(v.PublicKeyFile)
	if err != nil {
		return "", fmt.Errorf("read bundle verification key: %w", err)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return "", errors.New("bundle verification key file is empty")
	}
	return string(raw), nil
}
