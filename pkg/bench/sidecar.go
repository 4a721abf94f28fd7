package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// tokenEnv carries the simulator's token to both children, as a deployment
// passes Okta's to the sidecar (okta.api_token_env).
const tokenEnv = "OKTA_API_TOKEN"

// startSidecar writes a configuration for the org at orgURL and the agent
// key (every other setting at its default: the shipped policies, audit to
// standard output) and starts command serve --config on it.
func startSidecar(ctx context.Context, command []string, dir, orgURL, oktaToken, agentKeySHA string) (*child, error) {
	keys := filepath.Join(dir, "agent-keys.yaml")
	if err := os.WriteFile(keys, fmt.Appendf(nil, "agents:\n  - id: %s\n    key_sha256: %s\n", agent, agentKeySHA), 0o600); err != nil {
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
log:
  level: info
  format: json
`, orgURL, tokenEnv, keys)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	argv := append(append([]string(nil), command...), "serve", "--config", cfgPath)
	return startChild(ctx, "sidecar", argv, []string{tokenEnv + "=" + oktaToken}, "bollard serving", "grpc")
}
