// Package redistest runs a real redis-server for tests of the shared
// state: never a fake, because what the tests prove is how Bollard's
// scripts and transactions behave in the server that runs them.
//
// Start skips the test when redis-server is not installed, saying how to
// get it, and fails it instead when BOLLARD_REQUIRE_TOOLS=1 (.ci/run sets
// it, so CI cannot pass by skipping).
package redistest

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/config"
)

// RequireToolsEnv turns a missing tool into a failure.
const RequireToolsEnv = "BOLLARD_REQUIRE_TOOLS"

// Server is a redis-server of the test's own, on a loopback port, with no
// persistence, stopped when the test ends.
type Server struct {
	t      testing.TB
	bin    string
	dir    string
	port   int
	prefix string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  *bytes.Buffer
}

// Start starts a redis-server for t.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redis-server is not installed: the shared-state tests need a real one (Debian: apt-get install redis-server)"
		if os.Getenv(RequireToolsEnv) == "1" {
			t.Fatal(msg + "; " + RequireToolsEnv + "=1 makes this a failure")
		}
		t.Skip(msg)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), port: freePort(t),
		prefix: "test:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Config is a state.redis section for this server, with short timeouts and
// a prefix of the server's own: every call gives the same, so that the
// replicas of a test share their keys.
func (s *Server) Config() config.Redis {
	return config.Redis{
		Address: s.Addr(), KeyPrefix: s.prefix,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second, PoolSize: 16,
	}
}

// Client is a plain client of the server, to look at what Bollard wrote.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	s.t.Cleanup(func() { c.Close() })
	return c
}

func (s *Server) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done, s.out = cmd, done, out
	s.mu.Unlock()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		select {
		case <-done:
			s.t.Fatalf("redis-server exited: %s", out)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server did not answer within 10s: %v\n%s", err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server, as a crash or a lost network would; its data is
// gone (no persistence). Idempotent.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// freePort is a loopback port no one listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
