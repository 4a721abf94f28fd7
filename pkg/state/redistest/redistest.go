package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// ErrNotInstalled is returned by StartProcess when redis-server is not on
// PATH; its text says how to get it.
var ErrNotInstalled = errors.New("redis-server is not installed (Debian: apt-get install redis-server)")

// Server is a redis-server of the test's own, on a loopback port, with no
// persistence, stopped when the test ends.
type Server struct {
	t      testing.TB
	p      *Process
	prefix string
}

// Start starts a redis-server for t.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := tooltest.Find(t, "redis-server is not installed: the shared-state tests need a real one (Debian: apt-get install redis-server)", "redis-server")
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, p: &Process{bin: bin, dir: t.TempDir(), port: port},
		prefix: "test:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"}
	if err := s.p.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.p.Addr() }

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

// Stop kills the server, as a crash or a lost network would; its data is
// gone (no persistence). Idempotent.
func (s *Server) Stop() { s.p.Stop() }

// Restart starts the server again on the same port, empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.p.Stop()
	if err := s.p.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Process is a redis-server started by this process on a free loopback
// port: no persistence, protected mode, bound to 127.0.0.1 only.
type Process struct {
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartProcess starts a redis-server with dir as its working directory
// (it writes nothing there) and returns once it answers. Stop it with
// Stop. ErrNotInstalled when there is no redis-server on PATH.
func StartProcess(dir string) (*Process, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &Process{bin: bin, dir: dir, port: port}
	if err := p.start(); err != nil {
		return nil, err
	}
	return p, nil
}

// Addr is the server's host:port.
func (p *Process) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// Pid is the server's process id while it runs, 0 once stopped: for
// reading the CPU time it spends.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *Process) start() error {
	cmd := exec.Command(p.bin, "--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", p.dir, "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			p.Stop()
			return fmt.Errorf("redis-server exited: %s", out)
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			return fmt.Errorf("redis-server did not answer within 10s: %w\n%s", err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server, as a crash or a lost network would; its data is
// gone (no persistence). Idempotent.
func (p *Process) Stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// freePort is a loopback port no one listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
