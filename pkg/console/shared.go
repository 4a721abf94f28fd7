package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/state"
)

// sharedStore keeps sessions and sign-ins in the store the fleet shares,
// so that a sign-in started on one replica ends on another and a session
// is honoured, and ended, on all of them. Every key is the hex SHA-256 of
// the session id or state, under one hash tag ({console}) so that a
// script's keys are in one slot of a Redis Cluster too. Each record
// expires with what it holds (PX: the session's remaining life, a
// sign-in's 10 minutes), and a sorted set of each kind, scored by expiry,
// bounds them across the fleet as the memory store bounds them in one
// process.
type sharedStore struct {
	st          *state.Store
	maxSessions int
	maxLogins   int
	now         func() time.Time
}

// Records are JSON, versioned: a record of another version (a newer
// replica's, during an upgrade) is no session and no sign-in.
const recordVersion = 1

// maxRecordBytes bounds a record read back: a session holds at most
// maxSessionBytes of text, which JSON may grow by escaping.
const maxRecordBytes = 6*maxSessionBytes + 1024

// putScript keeps a record with its TTL and indexes it by expiry; records
// past their expiry go first, then, while the kind is full, those nearest
// their end. KEYS: record, index. ARGV: now ms, expiry ms, ttl ms, limit,
// member (the key's hex), value, the prefix of the kind's record keys.
var putScript = redis.NewScript(`
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])) do
  redis.call('DEL', ARGV[7] .. m)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4]) + 1
if over > 0 then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    redis.call('DEL', ARGV[7] .. m)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
redis.call('SET', KEYS[1], ARGV[6], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[5])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return 1
`)

// takeScript removes a record and its index entry and returns the record
// (false when there was none): a sign-in is taken by one callback only,
// whichever replica it reaches. KEYS: record, index. ARGV: member.
var takeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return v
`)

const (
	kindSession = "s"
	kindLogin   = "l"
)

func (s *sharedStore) recordPrefix(kind string) string { return s.st.Key("{console}", kind, "") }

func (s *sharedStore) indexKey(kind string) string { return s.st.Key("{console}", kind+"-index") }

// failed records an error that reached for the store and wraps it.
func (s *sharedStore) failed(what string, err error) error {
	s.st.Observe(err)
	return fmt.Errorf("console %s: %w: %w", what, state.ErrUnavailable, err)
}

func (s *sharedStore) put(ctx context.Context, kind string, key [32]byte, value []byte, expires time.Time, limit int) error {
	now := s.now()
	ttl := max(expires.Sub(now).Milliseconds(), 1)
	member := hex.EncodeToString(key[:])
	err := putScript.Run(ctx, s.st.Client(), []string{s.recordPrefix(kind) + member, s.indexKey(kind)},
		now.UnixMilli(), expires.UnixMilli(), ttl, limit, member, value, s.recordPrefix(kind)).Err()
	if err != nil {
		return s.failed("store", err)
	}
	return nil
}

// take runs takeScript; nil, nil when there was no record.
func (s *sharedStore) take(ctx context.Context, kind string, key [32]byte) ([]byte, error) {
	member := hex.EncodeToString(key[:])
	v, err := takeScript.Run(ctx, s.st.Client(), []string{s.recordPrefix(kind) + member, s.indexKey(kind)}, member).Text()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, s.failed("store", err)
	}
	return []byte(v), nil
}

// sessionRecord is a session as the store keeps it: every field of the
// approvers.Approver the session was opened for (TestSharedRecordKeepsEveryField
// fails when one is added and not kept here), its CSRF token, its ID token
// and its end.
type sessionRecord struct {
	V       int       `json:"v"`
	Subject string    `json:"sub"`
	Email   string    `json:"email,omitempty"`
	UserID  string    `json:"uid,omitempty"`
	Groups  []string  `json:"groups"`
	Token   time.Time `json:"token_exp"`
	CSRF    string    `json:"csrf"`
	IDToken string    `json:"id_token,omitempty"`
	Expires time.Time `json:"exp"`
}

func encodeSession(sess *session) ([]byte, error) {
	p := sess.who.Person
	return json.Marshal(sessionRecord{V: recordVersion, Subject: p.Subject, Email: p.Email, UserID: p.UserID, Groups: p.Groups,
		Token: sess.who.Expires, CSRF: sess.csrf, IDToken: sess.idToken, Expires: sess.expires})
}

func decodeSession(raw []byte) (*session, error) {
	var r sessionRecord
	if len(raw) > maxRecordBytes {
		return nil, errors.New("the session record is too large")
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	if r.V != recordVersion || r.Subject == "" || r.CSRF == "" || r.Expires.IsZero() {
		return nil, fmt.Errorf("not a session record of version %d", recordVersion)
	}
	return &session{who: approvers.Approver{Person: approval.Person{Subject: r.Subject, Email: r.Email, UserID: r.UserID, Groups: r.Groups},
		Expires: r.Token}, csrf: r.CSRF, idToken: r.IDToken, expires: r.Expires}, nil
}

func (s *sharedStore) putSession(ctx context.Context, key [32]byte, sess *session) error {
	raw, err := encodeSession(sess)
	if err != nil {
		return fmt.Errorf("console session: %w", err)
	}
	return s.put(ctx, kindSession, key, raw, sess.expires, s.maxSessions)
}

// getSession reads a session. A record that cannot be read is no session
// (a sign-in makes a good one); the console checks the expiry.
func (s *sharedStore) getSession(ctx context.Context, key [32]byte) (*session, error) {
	raw, err := s.st.Client().Get(ctx, s.recordPrefix(kindSession)+hex.EncodeToString(key[:])).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, s.failed("session", err)
	}
	sess, err := decodeSession(raw)
	if err != nil {
		return nil, nil
	}
	return sess, nil
}

func (s *sharedStore) deleteSession(ctx context.Context, key [32]byte) error {
	_, err := s.take(ctx, kindSession, key)
	return err
}

type loginRecord struct {
	V        int       `json:"v"`
	Binding  string    `json:"binding"`
	Verifier string    `json:"verifier"`
	Nonce    string    `json:"nonce"`
	Next     string    `json:"next"`
	Expires  time.Time `json:"exp"`
}

func (s *sharedStore) putLogin(ctx context.Context, key [32]byte, in *login) error {
	raw, err := json.Marshal(loginRecord{V: recordVersion, Binding: hex.EncodeToString(in.binding[:]), Verifier: in.verifier,
		Nonce: in.nonce, Next: in.next, Expires: in.expires})
	if err != nil {
		return fmt.Errorf("console sign-in: %w", err)
	}
	return s.put(ctx, kindLogin, key, raw, in.expires, s.maxLogins)
}

// takeLogin takes a sign-in once, fleet-wide. A record that cannot be read
// is no sign-in.
func (s *sharedStore) takeLogin(ctx context.Context, key [32]byte) (*login, error) {
	raw, err := s.take(ctx, kindLogin, key)
	if err != nil || raw == nil {
		return nil, err
	}
	var r loginRecord
	if len(raw) > maxRecordBytes || json.Unmarshal(raw, &r) != nil || r.V != recordVersion {
		return nil, nil
	}
	binding, err := hex.DecodeString(r.Binding)
	if err != nil || len(binding) != sha256.Size {
		return nil, nil
	}
	in := &login{verifier: r.Verifier, nonce: r.Nonce, next: r.Next, expires: r.Expires}
	copy(in.binding[:], binding)
	return in, nil
}
