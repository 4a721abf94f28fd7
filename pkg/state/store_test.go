package state_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// TestStoreFollowsTheServer: a store that answers is available; killed,
// the first failed command marks it unavailable at once; restarted, Watch
// marks it available again.
func TestStoreFollowsTheServer(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	s, err := state.Open(ctx, srv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Available() {
		t.Fatal("a store that answers is unavailable")
	}
	key := s.Key("probe", "x")
	if !strings.HasPrefix(key, srv.Config().KeyPrefix[:5]) || !strings.HasSuffix(key, "probe:x") {
		t.Errorf("key %q", key)
	}
	if err := s.Client().Set(ctx, key, "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}

	srv.Stop()
	err = s.Client().Get(ctx, key).Err()
	if !state.IsUnreachable(err) {
		t.Fatalf("a command to a dead store: %v, not unreachable", err)
	}
	s.Observe(err)
	if s.Available() {
		t.Fatal("still available after a command could not reach the store")
	}

	srv.Restart()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.Watch(wctx, 20*time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for !s.Available() {
		if time.Now().After(deadline) {
			t.Fatal("Watch did not notice the store came back")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenWithoutAServer: a store that cannot be reached at start is not an
// error; the sidecar starts and reports it unavailable.
func TestOpenWithoutAServer(t *testing.T) {
	cfg := config.Redis{Address: "127.0.0.1:1", KeyPrefix: "b:", DialTimeout: 100 * time.Millisecond, ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond, PoolSize: 1}
	s, err := state.Open(t.Context(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Available() {
		t.Error("available with nothing listening")
	}
}

// TestOpenReadsItsSecrets: the password comes from its file, and a missing
// or empty file, or a CA file with no certificate, is an error naming the
// setting.
func TestOpenReadsItsSecrets(t *testing.T) {
	dir := t.TempDir()
	empty, notPEM := filepath.Join(dir, "empty"), filepath.Join(dir, "ca.pem")
	for p, body := range map[string]string{empty: "  \n", notPEM: "not a certificate"} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := config.Redis{Address: "127.0.0.1:1", KeyPrefix: "b:", DialTimeout: 50 * time.Millisecond, ReadTimeout: 50 * time.Millisecond, WriteTimeout: 50 * time.Millisecond, PoolSize: 1}
	for name, tc := range map[string]struct {
		edit func(*config.Redis)
		want string
	}{
		"missing password file": {func(c *config.Redis) { c.PasswordFile = filepath.Join(dir, "nope") }, "state.redis.password_file"},
		"empty password file":   {func(c *config.Redis) { c.PasswordFile = empty }, "state.redis.password_file: empty"},
		"bad CA":                {func(c *config.Redis) { c.TLS = config.RedisTLS{Enabled: true, CAFile: notPEM} }, "state.redis.tls.ca_file: no PEM"},
	} {
		t.Run(name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			_, err := state.Open(t.Context(), c, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestPartsShareTheStore: a part's view has the store's keys and
// availability; a command of that part that cannot reach the store is
// reported under the part's name, once per failure, and marks the whole
// store unavailable; an answer (even an error) is not reported.
func TestPartsShareTheStore(t *testing.T) {
	srv := redistest.Start(t)
	ctx := t.Context()
	s, err := state.Open(ctx, srv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mu sync.Mutex
	var reported []string
	s.OnUnreachable(func(part string) { mu.Lock(); reported = append(reported, part); mu.Unlock() })
	budget := s.Part("budget")
	if budget.Key("x") != s.Key("x") || !budget.Available() {
		t.Fatalf("view: key %q, available %v", budget.Key("x"), budget.Available())
	}
	budget.Observe(budget.Client().Do(ctx, "NOSUCHCOMMAND").Err())

	srv.Stop()
	for range 2 {
		budget.Observe(budget.Client().Get(ctx, budget.Key("x")).Err())
	}
	if s.Available() || budget.Available() || s.Part("impact").Available() {
		t.Error("a part could not reach the store and the store is still available")
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(reported, []string{"budget", "budget"}) {
		t.Errorf("reported %q, want budget twice", reported)
	}
}

// TestIsUnreachable: what a dead or unreachable store answers counts;
// what the store itself answers, and a caller's own deadline, do not.
func TestIsUnreachable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{io.EOF, true},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{os.ErrDeadlineExceeded, true},
		{context.DeadlineExceeded, false},
		{context.Canceled, false},
		{errors.New("NOSCRIPT No matching script"), false},
		{nil, false},
	} {
		if got := state.IsUnreachable(tc.err); got != tc.want {
			t.Errorf("IsUnreachable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
