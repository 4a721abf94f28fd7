package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// simReadyMsg is the simulator's log line once it listens (oktasim.Serve).
const simReadyMsg = "okta simulator listening"

// ServeSimulator serves the Okta simulator on addr (a loopback address)
// until ctx ends, accepting token, with rate limits no run reaches: the
// benchmark measures the service, not Okta's quotas. It logs its address
// to log once it listens. Run starts it in a process of its own (`sidecar
// bench simulator`), as an Okta org is apart from both the agents and
// Bollard: in the load generator's process, answers would skip the
// hand-offs between processes that the calls through Bollard pay.
func ServeSimulator(ctx context.Context, addr, token string, log *slog.Logger) error {
	if token == "" {
		return errors.New("bench simulator: the API token is required")
	}
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithRateLimit(1<<40, time.Minute), oktasim.WithLogger(log))
	if _, err := sim.Serve(ctx, addr); err != nil {
		return fmt.Errorf("start the Okta simulator: %w", err)
	}
	<-ctx.Done()
	return nil
}

// startSimulator starts command bench simulator, on a free loopback port.
func startSimulator(ctx context.Context, command []string, token string) (*child, error) {
	argv := append(append([]string(nil), command...), "bench", "simulator")
	return startChild(ctx, "Okta simulator", argv, []string{tokenEnv + "=" + token}, simReadyMsg, "addr")
}
