package mcpts

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/identity"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// devMCPEndpoint is where `sidecar dev` serves MCP unless its "bollard
// serving" line says otherwise (mcp=127.0.0.1:PORT or mcp=http://...).
const devMCPEndpoint = "http://127.0.0.1:8183/mcp"

// The agent lists its tools, reads, is denied and confirms through
// elicitation; it exits non-zero when anything differs and says what.
func TestTypeScriptAgent(t *testing.T) {
	node, npm := lookTool(t, "node"), lookTool(t, "npm")
	if testing.Short() {
		t.Skip("-short: the TypeScript agent installs packages and builds the sidecar")
	}
	// A bound on failure only: a run takes seconds plus npm ci and the build.
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()

	dir := copyExample(t)
	runCmd(ctx, t, dir, nil, npm, "ci", "--no-audit", "--no-fund")
	runCmd(ctx, t, dir, nil, npm, "run", "build")

	bin := filepath.Join(t.TempDir(), "sidecar")
	runCmd(ctx, t, "../..", nil, "go", "build", "-o", bin, "./cmd/sidecar")
	endpoint := startDev(ctx, t, bin)

	out := runCmd(ctx, t, dir, []string{
		"BOLLARD_AGENT_KEY=" + identity.DevKeys()["helpdesk-bot"],
		"BOLLARD_MCP_URL=" + endpoint,
	}, node, "dist/agent.js")
	if !strings.Contains(out, " passed, 0 failed") {
		t.Errorf("the agent's summary is missing:\n%s", out)
	}
}

// lookTool finds a program on PATH, or skips (fails with
// BOLLARD_REQUIRE_TOOLS=1) saying how to get it.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	return tooltest.Find(t, name+" not found: the TypeScript MCP example needs Node.js 20+ and npm (Debian: apt-get install nodejs npm; or https://nodejs.org)", name)
}

// copyExample copies the example's sources to a temporary directory, so the
// test leaves no node_modules or dist in the tree.
func copyExample(t *testing.T) string {
	t.Helper()
	src, dst := "../../examples/mcp-agent-ts", t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", "tsconfig.json", "src/agent.ts"} {
		data, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// runCmd runs a command to its end and returns its output; it fails the
// test, with the output, if the command fails.
func runCmd(ctx context.Context, t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s:\n%s", filepath.Base(name), strings.Join(args, " "), out)
	return string(out)
}

var mcpField = regexp.MustCompile(`\bmcp=(\S+)`)

// startDev starts `sidecar dev` on free gRPC and admin ports, waits for its
// "bollard serving" line and returns the MCP endpoint. The sidecar is
// stopped (SIGINT, as a terminal would) when the test ends.
func startDev(ctx context.Context, t *testing.T, bin string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, bin, "dev", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sidecar dev: %v", err)
	}
	var log strings.Builder
	var mu sync.Mutex
	ready := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			log.WriteString(line + "\n")
			mu.Unlock()
			if strings.Contains(line, "bollard serving") {
				endpoint := devMCPEndpoint
				if m := mcpField.FindStringSubmatch(line); m != nil {
					switch v := strings.Trim(m[1], `"`); {
					case strings.HasPrefix(v, "http://"):
						endpoint = v
					case strings.HasPrefix(v, "127."):
						endpoint = "http://" + v + "/mcp"
					}
				}
				select {
				case ready <- endpoint:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		mu.Lock()
		defer mu.Unlock()
		t.Logf("sidecar dev log:\n%s", log.String())
	})
	select {
	case endpoint := <-ready:
		return endpoint
	case err := <-exited:
		exited <- err
		t.Fatalf("sidecar dev stopped before serving: %v", err)
	case <-ctx.Done():
		t.Fatalf("sidecar dev did not start: %v", ctx.Err())
	}
	return ""
}
