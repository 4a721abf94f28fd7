package bench

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// tokenEnv carries the simulator's token to both children, as a deployment
// passes Okta's to the sidecar (okta.api_token_env).
const tokenEnv = "OKTA_API_TOKEN"

// sidecarConfig is what the sidecar's configuration says.
type sidecarConfig struct {
	orgURL, oktaToken string
	agents            map[string]string // id → SHA-256 of its key
	policyDir         string            // the policies (writePolicies)
	redisAddr         string            // "": the memory backend
}

// startSidecar writes a configuration for the org at orgURL and the agent
// keys in dir (every other setting at its default: the policies in
// policyDir, audit to standard output, the memory backend unless a redis address is
// given) and starts command serve --config on it.
func startSidecar(ctx context.Context, command []string, dir string, c sidecarConfig) (*child, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sidecar directory: %w", err)
	}
	var keys strings.Builder
	keys.WriteString("agents:\n")
	for _, id := range slices.Sorted(maps.Keys(c.agents)) {
		fmt.Fprintf(&keys, "  - id: %s\n    key_sha256: %s\n", id, c.agents[id])
	}
	keysPath := filepath.Join(dir, "agent-keys.yaml")
	if err := os.WriteFile(keysPath, []byte(keys.String()), 0o600); err != nil {
		return nil, fmt.Errorf("write agent keys: %w", err)
	}
	cfgPath := filepath.Join(dir, "bollard.yaml")
	cfg := fmt.Sprintf(`server:
  grpc_listen: 127.0.0.1:0
  admin_listen: 127.0.0.1:0
okta:
  org_url: %s
  api_token_env: %s
identity:
  keys_file: %s
policy:
  dir: %s
limits:
  agents: {%s: %d, %s: %d}
log:
  level: info
  format: json
`, c.orgURL, tokenEnv, keysPath, c.policyDir, budgetedAgent, budgetPerMinute, destructiveAgent, budgetPerMinute)
	if c.redisAddr != "" {
		cfg += fmt.Sprintf("state:\n  backend: redis\n  redis:\n    address: %s\n    key_prefix: \"bench:\"\n", c.redisAddr)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	argv := append(append([]string(nil), command...), "serve", "--config", cfgPath)
	return startChild(ctx, "sidecar", argv, []string{tokenEnv + "=" + c.oktaToken}, "bollard serving", "grpc")
}

// startStore starts the redis-server the sidecar shares its state through
// (the one on PATH), on a free loopback port, with no persistence.
func startStore(dir string) (*redistest.Process, error) {
	p, err := redistest.StartProcess(dir)
	if err != nil {
		return nil, fmt.Errorf("bench: the redis state backend: %w", err)
	}
	return p, nil
}
