package state

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/config"
)

// ErrUnavailable is returned for a shared operation while the store cannot
// be reached: the caller applies state.when_unavailable.
var ErrUnavailable = errors.New("shared state unavailable")

// Store is a connection to the shared store, or a part's view of one
// (Part): the same connection, keys and availability.
type Store struct {
	*conn
	part string // "" for the store itself
}

// conn is what a store and its parts' views share.
type conn struct {
	client    *redis.Client
	prefix    string
	available atomic.Bool
	log       *slog.Logger
	// unreachable is told each time a part's command fails to reach the
	// store (OnUnreachable), for the metrics.
	unreachable atomic.Pointer[func(part string)]
}

// Open builds the client for cfg (reading the password file and the TLS
// files) and tries the store once. A store that does not answer is not an
// error: the sidecar starts, reports it unavailable, and Watch notices
// when it comes back.
func Open(ctx context.Context, cfg config.Redis, log *slog.Logger) (*Store, error) {
	opts, err := clientOptions(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	quietClientLog.Do(func() { redis.SetLogger(clientLog{log}) })
	s := &Store{conn: &conn{client: redis.NewClient(opts), prefix: cfg.KeyPrefix, log: log.With("store", cfg.Address)}}
	s.check(ctx)
	return s, nil
}

// The client logs its dial failures to stderr by default; Bollard reports
// the store's state itself (Observe, Watch), so they go to the log at
// debug level. The client's logger is one for the process.
var quietClientLog sync.Once

type clientLog struct{ log *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}

func clientOptions(cfg config.Redis) (*redis.Options, error) {
	o := &redis.Options{
		Username: cfg.Username, DB: cfg.DB,
		DialTimeout: cfg.DialTimeout, ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.WriteTimeout,
		PoolSize: cfg.PoolSize,
		// A command that cannot get through fails at once and the caller
		// applies the unavailable rule; the fleet's counters must not be
		// written twice by a retry that the first attempt already applied.
		MaxRetries: -1,
		// No CLIENT SETINFO: managed stores often refuse it.
		DisableIdentity: true,
		// One more dial, not five: a store that cannot be reached is
		// reported as such within about two dial timeouts.
		DialerRetries: 1,
		// RESP2, which every Redis and Valkey speaks: Bollard uses no server
		// push, and with RESP3 the client looks for pushed messages before
		// every command (a read on the socket on each call's path).
		Protocol: 2,
	}
	if path, ok := strings.CutPrefix(cfg.Address, "unix://"); ok {
		o.Network, o.Addr = "unix", path
	} else {
		o.Network, o.Addr = "tcp", cfg.Address
	}
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("state.redis.password_file: %w", err)
		}
		o.Password = strings.TrimSpace(string(b))
		if o.Password == "" {
			return nil, errors.New("state.redis.password_file: empty")
		}
	}
	if cfg.TLS.Enabled {
		tc, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		o.TLSConfig = tc
	}
	return o, nil
}

func tlsConfig(cfg config.Redis) (*tls.Config, error) {
	t := cfg.TLS
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if tc.ServerName == "" {
		host, _, err := net.SplitHostPort(cfg.Address)
		if err != nil {
			return nil, fmt.Errorf("state.redis.address: %w", err)
		}
		tc.ServerName = host
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("state.redis.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("state.redis.tls.ca_file: no PEM certificate in it")
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("state.redis.tls: client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Client is the store's client, for the packages that keep state in it.
func (s *Store) Client() *redis.Client { return s.client }

// Key is the store key for parts under the prefix: Key("impact", agent) is
// "bollard:impact:" + agent. Parts are joined with ':'; an agent id is
// hashed into a tag by the caller when it may hold one.
func (s *Store) Key(parts ...string) string { return s.prefix + strings.Join(parts, ":") }

// Part is the view of the store one part of the shared state uses (impact,
// budget, confirm, okta_limits, events, approvals, console): the same connection, keys and
// availability, with the commands of that part that fail to reach the
// store reported under its name (OnUnreachable). Closing a view closes the
// store.
// A nil store (the memory backend) has nil views.
func (s *Store) Part(name string) *Store {
	if s == nil {
		return nil
	}
	return &Store{conn: s.conn, part: name}
}

// The parts of the shared state, the names their views report under (the
// part label of bollard_state_unreachable_total).
const (
	PartImpact     = "impact"
	PartBudget     = "budget"
	PartConfirm    = "confirm"
	PartOktaLimits = "okta_limits"
	PartEvents     = "events"
	PartApprovals  = "approvals"
	// PartConsole is the approvers' web console: its sessions and the
	// sign-ins under way, so that any replica serves them.
	PartConsole = "console"
)

// OnUnreachable calls f with the part's name (Part; "" for the store
// itself) each time Observe is given an error that means the store could
// not be reached. f must be quick and safe for concurrent use; a later
// call replaces it.
func (s *Store) OnUnreachable(f func(part string)) { s.unreachable.Store(&f) }

// Available reports whether the last command or check reached the store.
func (s *Store) Available() bool { return s.available.Load() }

// Observe records the outcome of a shared operation: a failure to reach
// the store marks it unavailable at once (Watch marks it back).
func (s *Store) Observe(err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		return
	}
	if !IsUnreachable(err) {
		return
	}
	if f := s.unreachable.Load(); f != nil {
		(*f)(s.part)
	}
	if s.available.Swap(false) {
		s.log.Error("shared state unavailable", "part", s.part, "error", err)
	}
}

// IsUnreachable reports whether err means the store could not be reached
// (a network error, a timeout, a closed pool), as opposed to an answer.
func IsUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	// A caller's own deadline or cancellation says nothing about the store
	// (the client's read and write timeouts are net errors).
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false // context's deadline error is a net.Error too
	}
	// A server killed under a pooled connection answers with EOF.
	return errors.As(err, &ne) || errors.Is(err, redis.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, os.ErrDeadlineExceeded) || strings.Contains(err.Error(), "connection refused") ||
		strings.HasPrefix(err.Error(), "LOADING")
}

// check pings the store once and records the answer; a check cut short by
// its own context (the sidecar stopping) records nothing.
func (s *Store) check(ctx context.Context) {
	err := s.client.Ping(ctx).Err()
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return
	}
	switch was := s.available.Swap(err == nil); {
	case err == nil && !was:
		s.log.Info("shared state available")
	case err != nil && was:
		s.log.Error("shared state unavailable", "error", err)
	case err != nil:
		s.log.Debug("shared state still unavailable", "error", err)
	}
}

// Watch checks the store every interval until ctx ends, so that Available
// follows it both ways.
func (s *Store) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c, cancel := context.WithTimeout(ctx, every)
			s.check(c)
			cancel()
		}
	}
}

// Close closes the client.
func (s *Store) Close() error { return s.client.Close() }
