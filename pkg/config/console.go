package config

import (
	"fmt"
	"net"
	"strings"
	"unicode"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

// ConsoleListenerAdmin is the only listener the console is served on for
// now: the admin listener, under /approvals/.
const ConsoleListenerAdmin = "admin"

// ConsoleCallbackPath is the path of the console's sign-in callback, which
// the redirect URL must have.
const ConsoleCallbackPath = "/approvals/callback"

// Console is the approvers' web console (package console, docs/approvals.md
// "Web console"): people sign in with OpenID Connect (authorization code +
// PKCE) at the approvers' identity provider, as a public client, and list,
// read, approve and deny the calls that wait for them.
type Console struct {
	Enabled bool `yaml:"enabled"`
	// ClientID is the console's OpenID Connect app at the identity
	// provider: a public client (no secret) that must use PKCE, with the
	// redirect URL as a sign-in redirect URI.
	ClientID string `yaml:"client_id"`
	// RedirectURL is the sign-in callback as the browser reaches it:
	// https (or http to a literal loopback IP), path /approvals/callback.
	// The console's origin is its origin. Empty only when admin_listen is a
	// loopback address: then http://<the bound admin address>/approvals/callback.
	RedirectURL string `yaml:"redirect_url"`
	// Listener serves the console: admin (the default, and the only one
	// for now).
	Listener string `yaml:"listener"`
}

func (c *Console) setDefaults() { setDefault(&c.Listener, ConsoleListenerAdmin) }

// validate checks the section; adminListen is server.admin_listen.
func (c *Console) validate(approvers *Approvers, adminListen string) []error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("approvals.console."+format, args...))
	}
	if approvers == nil {
		bad("enabled: needs approvals.approvers (the identity provider people sign in at)")
	}
	if c.ClientID == "" || len(c.ClientID) > 256 || strings.IndexFunc(c.ClientID, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' }) >= 0 {
		bad("client_id: required: the console's client id at the identity provider (printable, no spaces)")
	}
	if c.Listener != ConsoleListenerAdmin {
		bad("listener: must be admin (the only listener the console is served on for now)")
	} else if adminListen == "" {
		bad("listener: admin, but server.admin_listen is off")
	}
	switch {
	case c.RedirectURL != "":
		u, err := checkURL(c.RedirectURL)
		switch {
		case err != nil:
			bad("redirect_url: %w", err)
		case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
			bad("redirect_url: no credentials, query or fragment")
		case u.EscapedPath() != ConsoleCallbackPath:
			bad("redirect_url: the path must be %s", ConsoleCallbackPath)
		}
	case adminListen != "" && !loopback.Addr(adminListen):
		bad("redirect_url: required when server.admin_listen is not a loopback address (the URL people reach the console at, behind TLS)")
	}
	return errs
}

// CallbackURL is the redirect URL, or, when none is set, the one on the
// bound admin address (a loopback one, as validate makes sure).
func (c Console) CallbackURL(admin net.Addr) string {
	if c.RedirectURL != "" || admin == nil {
		return c.RedirectURL
	}
	return "http://" + admin.String() + ConsoleCallbackPath
}
