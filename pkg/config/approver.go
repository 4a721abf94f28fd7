package config

import (
	"errors"
	"fmt"
	"os"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

// TLS serves the gRPC TCP listener (server.grpc_listen) over TLS. The Unix
// socket, reachable only inside the pod, stays plaintext. The files are a
// mounted Secret (cert-manager's tls.crt and tls.key, say); a renewed pair
// is picked up without a restart.
type TLS struct {
	// CertFile is the certificate chain, PEM, leaf first; KeyFile its
	// private key, PEM.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

func (t *TLS) validate() []error {
	if t == nil {
		return nil
	}
	var errs []error
	for name, path := range map[string]string{"cert_file": t.CertFile, "key_file": t.KeyFile} {
		if path == "" {
			errs = append(errs, fmt.Errorf("server.tls.%s: required", name))
		}
	}
	return errs
}

// ValidateApprover checks what `sidecar approver` needs beyond Validate.
// That mode serves the approvers of a whole fleet (ApprovalService, the web
// console and the notifications) apart from the agents' sidecars, reading
// the same sections: identity names the agents no person may act as, okta
// is the org it reads approvals' targets from (GET only), state the store
// that holds the fleet's approvals.
func (c *Config) ValidateApprover() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !c.State.Shared() {
		bad("state.backend: must be %s in approver mode: the fleet's approvals are in the shared store, and a %s store would hold none", StateRedis, StateMemory)
	}
	if c.Approvals.Approvers == nil {
		bad("approvals.approvers: required in approver mode: the identity provider the people who approve sign in with")
	}
	if c.Hooks.Enabled() {
		bad("hooks: approver mode serves no event hooks; they belong to the agents' sidecars")
	}
	if c.MCP.Enabled {
		bad("mcp: approver mode serves no MCP front; it belongs to the agents' sidecars")
	}
	if s := c.Server; s.GRPCListen != "" && s.TLS == nil && !loopback.Addr(s.GRPCListen) {
		bad("server.tls: required in approver mode when server.grpc_listen is not a loopback address: people's tokens cross the network")
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration for approver mode:\n%w", errors.Join(errs...))
	}
	return nil
}

// LoadApprover reads, defaults and validates the file at path for
// `sidecar approver`: Validate's rules and ValidateApprover's, every
// problem reported at once.
func LoadApprover(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := decode(raw)
	if err != nil {
		return Config{}, err
	}
	if err := errors.Join(c.Validate(), c.ValidateApprover()); err != nil {
		return Config{}, err
	}
	return c, nil
}
