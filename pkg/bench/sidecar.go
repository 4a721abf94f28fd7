package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// tokenEnv passes the simulator's token to the sidecar, as a deployment
// passes Okta's (okta.api_token_env).
const tokenEnv = "BOLLARD_BENCH_OKTA_TOKEN"

// startTimeout bounds how long the sidecar may take to start serving.
const startTimeout = 60 * time.Second

// child is the sidecar serving in a child process.
type child struct {
	grpc string // its gRPC address
	stop func() error
	log  *tail
}

// startSidecar writes a configuration for the org at orgURL and the agent
// key, starts command serve --config on it, and returns once the sidecar
// says it serves, with its gRPC address. Its audit records go to
// /dev/null (written all the same); its log is kept for errors.
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

	ctx, cancel := context.WithCancel(ctx)
	args := append(append([]string(nil), command[1:]...), "serve", "--config", cfgPath)
	cmd := exec.CommandContext(ctx, command[0], args...)
	cmd.Env = append(os.Environ(), tokenEnv+"="+oktaToken)
	// Stopped like a pod: SIGINT, then killed if it lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("sidecar stderr: %w", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start the sidecar: %w", err)
	}
	log := &tail{}
	ready := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		log.scan(stderr, ready)
		exited <- cmd.Wait()
	}()
	c := &child{log: log, stop: func() error {
		cancel()
		err := <-exited
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.Exited() {
			return fmt.Errorf("sidecar: %w\n%s", err, log)
		}
		return nil // stopped by the signal, or exited cleanly on it
	}}
	select {
	case c.grpc = <-ready:
		return c, nil
	case err := <-exited:
		cancel()
		return nil, fmt.Errorf("the sidecar stopped before serving: %v\n%s", err, log)
	case <-time.After(startTimeout):
		err = fmt.Errorf("the sidecar did not start serving within %s\n%s", startTimeout, log)
	case <-ctx.Done():
		err = ctx.Err()
	}
	_ = c.stop()
	return nil, err
}

// tail keeps the last lines of the sidecar's log, for errors.
type tail struct {
	mu    sync.Mutex
	lines []string
}

const tailLines = 40

// scan reads the sidecar's JSON log to its end, sending the gRPC address of
// its "bollard serving" line to ready.
func (t *tail) scan(r io.Reader, ready chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t.mu.Lock()
		t.lines = append(t.lines, line)
		if len(t.lines) > tailLines {
			t.lines = t.lines[len(t.lines)-tailLines:]
		}
		t.mu.Unlock()
		var rec struct {
			Msg  string `json:"msg"`
			GRPC string `json:"grpc"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "bollard serving" && rec.GRPC != "" {
			select {
			case ready <- rec.GRPC:
			default:
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
