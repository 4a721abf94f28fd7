package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

// Approvals configures human approval (docs/approvals.md): the calls policy
// marks with require_approval wait for a person. The agents' side needs no
// setting; the people who approve authenticate with a JWT from the
// company's identity provider, configured under approvers. Without it
// nobody can approve here, and marked calls wait until they expire.
type Approvals struct {
	// MaxPending bounds the approvals pending at once (default 10,000),
	// MaxPendingPerAgent those of one agent (default 20).
	MaxPending         int `yaml:"max_pending"`
	MaxPendingPerAgent int `yaml:"max_pending_per_agent"`
	// Approvers is the identity provider whose JWTs the people who
	// approve present (an Okta org authorization server is the expected
	// one): ApprovalService is served on the gRPC listener when it is set.
	Approvers *Approvers `yaml:"approvers"`
	// Notify posts a webhook for each new pending approval; nil: none.
	Notify *Notify `yaml:"notify"`
	// Console is the approvers' web console; nil or not enabled: none.
	Console *Console `yaml:"console"`
}

// Notify is the webhook that tells approvers a call waits for them
// (package approvalnotify). No body carries the call's parameters.
type Notify struct {
	// WebhookURLFile holds the webhook URL (a mounted Secret: a Slack
	// webhook URL is its own credential). https, or http to a literal
	// loopback IP; read by WebhookURL at start and again before each POST
	// (a rotated Secret is used without a restart), never logged whole.
	WebhookURLFile string `yaml:"webhook_url_file"`
	// Format is json (a documented generic body, the default) or slack
	// ({"text": "..."}).
	Format string `yaml:"format"`
	// ConsoleURL is the approvers' console: a notification links to
	// CONSOLE_URL/approvals/ID. Optional; https.
	ConsoleURL string `yaml:"console_url"`
	// Timeout bounds one POST (default 5s); MaxAttempts the POSTs for one
	// approval (default 6), retried on network errors, 429 and 5xx only.
	Timeout     time.Duration `yaml:"timeout"`
	MaxAttempts int           `yaml:"max_attempts"`
}

// Approvers verifies the people who approve: never an agent credential.
type Approvers struct {
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
	JWKSFile string `yaml:"jwks_file"`
	JWKSURL  string `yaml:"jwks_url"`
	// EmailClaim names the claim holding the person's email (default
	// "email"); GroupsClaim the claim holding their groups, an array of
	// strings (default "groups").
	EmailClaim  string `yaml:"email_claim"`
	GroupsClaim string `yaml:"groups_claim"`
	// UserIDClaim names the claim holding the person's Okta user id
	// (default "uid": an Okta custom authorization server's sub is the
	// login), so that nobody approves a change to their own account
	// however the call names it.
	UserIDClaim string `yaml:"user_id_claim"`
	// Leeway tolerates clock skew on exp, nbf and iat (default 1m).
	Leeway time.Duration `yaml:"leeway"`
}

// SetDefaults fills in what the section leaves out (Parse does it for a
// file; dev mode, which builds its configuration, calls it).
func (a *Approvals) SetDefaults() {
	if a.MaxPending == 0 {
		a.MaxPending = 10_000
	}
	if a.MaxPendingPerAgent == 0 {
		a.MaxPendingPerAgent = 20
	}
	if p := a.Approvers; p != nil {
		setDefault(&p.EmailClaim, "email")
		setDefault(&p.GroupsClaim, "groups")
		setDefault(&p.UserIDClaim, "uid")
		if p.Leeway == 0 {
			p.Leeway = time.Minute
		}
	}
	if a.Console != nil {
		a.Console.setDefaults()
	}
	if n := a.Notify; n != nil {
		setDefault(&n.Format, "json")
		if n.Timeout == 0 {
			n.Timeout = 5 * time.Second
		}
		if n.MaxAttempts == 0 {
			n.MaxAttempts = 6
		}
	}
}

// validate checks the section; agentIssuer is identity.jwt.issuer, which
// the approvers' must not be: an agent's token would then pass for a
// person's. adminListen is server.admin_listen, which serves the console.
func (a *Approvals) validate(agentIssuer, adminListen string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("approvals."+format, args...)) }
	if a.MaxPending < 1 || a.MaxPending > 1_000_000 {
		bad("max_pending: must be between 1 and 1,000,000")
	}
	if a.MaxPendingPerAgent < 1 || a.MaxPendingPerAgent > a.MaxPending {
		bad("max_pending_per_agent: must be between 1 and max_pending")
	}
	if a.Notify != nil {
		errs = append(errs, a.Notify.validate()...)
	}
	if a.Console != nil {
		errs = append(errs, a.Console.validate(a.Approvers, adminListen)...)
	}
	p := a.Approvers
	if p == nil {
		return errs
	}
	if u, err := url.Parse(p.Issuer); p.Issuer == "" || err != nil || loopback.CheckURL(u) != nil {
		bad("approvers.issuer: must be the identity provider's https issuer URL")
	}
	if agentIssuer != "" && strings.TrimSuffix(p.Issuer, "/") == strings.TrimSuffix(agentIssuer, "/") {
		bad("approvers.issuer: must not be identity.jwt.issuer: agents' tokens must never pass for a person's")
	}
	if p.Audience == "" {
		bad("approvers.audience: is required (the audience of the approvers' access tokens: an API's, never a client id, which ID tokens carry)")
	}
	if (p.JWKSFile == "") == (p.JWKSURL == "") {
		bad("approvers: set exactly one of jwks_file and jwks_url")
	}
	if p.JWKSURL != "" {
		if u, err := url.Parse(p.JWKSURL); err != nil || loopback.CheckURL(u) != nil {
			bad("approvers.jwks_url: must be an https URL")
		}
	}
	if p.EmailClaim == "" || p.GroupsClaim == "" || p.UserIDClaim == "" || p.EmailClaim == p.GroupsClaim || p.UserIDClaim == p.GroupsClaim {
		bad("approvers: email_claim, groups_claim and user_id_claim must be set, and groups_claim a claim of its own")
	}
	if p.Leeway < 0 || p.Leeway > 5*time.Minute {
		bad("approvers.leeway: must be between 0 and 5m")
	}
	return errs
}

func (n *Notify) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("approvals.notify."+format, args...)) }
	if n.WebhookURLFile == "" {
		bad("webhook_url_file: required (the file holding the webhook URL, a secret)")
	}
	if n.Format != "json" && n.Format != "slack" {
		bad("format: must be json or slack")
	}
	if n.ConsoleURL != "" {
		if u, err := checkURL(n.ConsoleURL); err != nil {
			bad("console_url: %w", err)
		} else if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			bad("console_url: a base URL without credentials, query or fragment")
		}
	}
	if n.Timeout < 100*time.Millisecond || n.Timeout > time.Minute {
		bad("timeout: must be between 100ms and 1m")
	}
	if n.MaxAttempts < 1 || n.MaxAttempts > 20 {
		bad("max_attempts: must be between 1 and 20")
	}
	return errs
}

// WebhookURL reads the webhook URL from its file, trimmed of surrounding
// whitespace, and checks it: https, or http to a literal loopback IP, no
// credentials before the host. Errors never repeat it.
func (n Notify) WebhookURL() (string, error) {
	raw, err := os.ReadFile(n.WebhookURLFile)
	if err != nil {
		return "", fmt.Errorf("read approvals.notify.webhook_url_file: %w", err)
	}
	s := strings.TrimSpace(string(raw))
	switch u, err := checkURL(s); {
	case s == "":
		return "", errors.New("approvals.notify.webhook_url_file: empty")
	case strings.ContainsAny(s, " \t\r\n"):
		return "", errors.New("approvals.notify.webhook_url_file: the URL contains whitespace")
	case err != nil:
		return "", fmt.Errorf("approvals.notify.webhook_url_file: the URL %w", err)
	case u.User != nil || u.Fragment != "":
		return "", errors.New("approvals.notify.webhook_url_file: the URL must have no credentials before the host and no fragment")
	}
	return s, nil
}
