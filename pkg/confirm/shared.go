package confirm

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/state"
)

// WithShared keeps the pending tokens in the store the fleet shares, so
// that a token issued by one replica is redeemed once across all of them
// and the per-agent and total limits hold for the fleet. While the store
// cannot be reached, Issue and Redeem fail with state.ErrUnavailable: a
// confirmation is never accepted on one replica's word.
func WithShared(s *state.Store) Option { return func(o *options) { o.shared = s } }

// The keys share one hash tag, so that a script's keys are in one slot of
// a Redis Cluster too: tokens by the hash of the token, the pending tokens
// of each agent and of all agents as sorted sets scored by expiry (ms).
func (s *Store) tokenKey(hash [32]byte) string {
	return s.opts.shared.Key("{confirm}", "t", hex.EncodeToString(hash[:]))
}

func (s *Store) agentKey(agent string) string {
	h := sha256.Sum256([]byte(agent)) // any agent id makes a plain key
	return s.opts.shared.Key("{confirm}", "a", hex.EncodeToString(h[:16]))
}

func (s *Store) allKey() string { return s.opts.shared.Key("{confirm}", "all") }

// issuerKey holds the decision id a token was issued by, beside the
// token's own key (whose value replicas of every version read alike).
func (s *Store) issuerKey(hash [32]byte) string {
	return s.opts.shared.Key("{confirm}", "by", hex.EncodeToString(hash[:]))
}

// bindingHash is what the store keeps of a binding: comparing hashes in a
// script tells nothing about how close a wrong binding came.
func bindingHash(b Binding) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s|%d:%s|", len(b.Agent), b.Agent, len(b.Action), b.Action)
	h.Write(b.ParamsHash[:])
	return hex.EncodeToString(h.Sum(nil))
}

// issueScript adds a token if the agent and the fleet are under their
// limits, and the decision id it was issued by. KEYS: token, agent's set,
// all, issuer. ARGV: now ms, expiry ms, ttl ms, per-agent limit, total
// limit, token hash, binding hash, agent's set key, issuing decision id.
var issueScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) or redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[7] .. ' ' .. ARGV[8], 'PX', ARGV[3])
if ARGV[9] ~= '' then
  redis.call('SET', KEYS[4], ARGV[9], 'PX', ARGV[3])
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
`)

// takeScript removes a token and its places and returns what it was bound
// to (binding hash, then the agent's set key) and the decision id it was
// issued by ("" when none is kept), or false when there is no such token.
// With ARGV[2] set, the token is removed only when its binding hash is
// ARGV[2] (Revoke); otherwise always (Redeem: a token is good for one
// try). KEYS: token, all, issuer. ARGV: token hash, binding hash or "".
var takeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
local sep = string.find(v, ' ', 1, true)
local bound, agentSet = string.sub(v, 1, sep - 1), string.sub(v, sep + 1)
if ARGV[2] ~= '' and ARGV[2] ~= bound then return {bound, ''} end
local by = redis.call('GET', KEYS[3]) or ''
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('ZREM', agentSet, ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return {bound, by}
`)

// sharedTimeout bounds one command when the caller gives no context (the
// client's own timeouts apply within it).
const sharedTimeout = 2 * time.Second

func (s *Store) sharedIssue(token string, b Binding, issuedBy string, now, expires time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	hash := sha256.Sum256([]byte(token))
	agentSet := s.agentKey(b.Agent)
	ok, err := issueScript.Run(ctx, s.opts.shared.Client(), []string{s.tokenKey(hash), agentSet, s.allKey(), s.issuerKey(hash)},
		now.UnixMilli(), expires.UnixMilli(), s.opts.ttl.Milliseconds(), s.opts.maxPerAgent, s.opts.maxPending,
		hex.EncodeToString(hash[:]), bindingHash(b), agentSet, issuedBy).Int()
	if err != nil {
		s.opts.shared.Observe(err)
		return fmt.Errorf("confirmation token: %w: %w", state.ErrUnavailable, err)
	}
	if ok == 0 {
		return ErrTooManyPending
	}
	return nil
}

// sharedTake runs takeScript; bound is "" when no such token is pending.
func (s *Store) sharedTake(token string, onlyIf string) (bound, issuedBy string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	hash := sha256.Sum256([]byte(token))
	res, err := takeScript.Run(ctx, s.opts.shared.Client(), []string{s.tokenKey(hash), s.allKey(), s.issuerKey(hash)},
		hex.EncodeToString(hash[:]), onlyIf).StringSlice()
	if errors.Is(err, redis.Nil) {
		return "", "", nil
	}
	if err != nil {
		s.opts.shared.Observe(err)
		return "", "", fmt.Errorf("confirmation token: %w: %w", state.ErrUnavailable, err)
	}
	if len(res) != 2 {
		return "", "", fmt.Errorf("confirmation token: the store answered %d values, not 2", len(res))
	}
	return res[0], res[1], nil
}

func (s *Store) sharedRedeem(token string, b Binding) (string, error) {
	bound, issuedBy, err := s.sharedTake(token, "")
	switch {
	case err != nil:
		return "", err
	case bound == "":
		// Unknown, used, or expired: the store drops a token at its
		// expiry, so the three read the same.
		return "", ErrInvalid
	case subtle.ConstantTimeCompare([]byte(bound), []byte(bindingHash(b))) != 1:
		return "", ErrMismatch
	}
	return issuedBy, nil
}

func (s *Store) sharedRevoke(token string, b Binding) error {
	want := bindingHash(b)
	bound, _, err := s.sharedTake(token, want)
	switch {
	case err != nil:
		return err
	case bound != "" && bound != want:
		return ErrMismatch
	}
	return nil
}

func (s *Store) sharedPending() int {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	c := s.opts.shared.Client()
	now := strconv.FormatInt(s.opts.now().UnixMilli(), 10)
	n, err := c.ZCount(ctx, s.allKey(), "("+now, "+inf").Result()
	if err != nil {
		s.opts.shared.Observe(err)
		return 0
	}
	return int(n)
}
