package confirm

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Sentinel errors. None of them carries the token.
var (
	// ErrInvalid: the token is unknown, malformed or was already used.
	ErrInvalid = errors.New("confirmation token unknown or already used")
	// ErrExpired: the token was issued but its time ran out.
	ErrExpired = errors.New("confirmation token expired")
	// ErrMismatch: the token was issued for another agent, action or parameters.
	ErrMismatch = errors.New("confirmation token was issued for a different request")
	// ErrTooManyPending: the agent has too many unredeemed tokens.
	ErrTooManyPending = errors.New("too many pending confirmations")
)

const (
	tokenPrefix = "bct_"
	tokenBytes  = 32
	// MaxTokenLen bounds what Redeem accepts before doing any work.
	MaxTokenLen = 128
)

// Binding is what a token is bound to.
type Binding struct {
	Agent  string
	Action string
	// ParamsHash is HashParams of the validated parameters.
	ParamsHash [32]byte
}

// HashParams hashes the canonical JSON of params (encoding/json sorts map
// keys), so the same parameters always give the same hash.
func HashParams(params map[string]any) ([32]byte, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return [32]byte{}, fmt.Errorf("hash parameters: %w", err)
	}
	return sha256.Sum256(raw), nil
}

type entry struct {
	binding  Binding
	issuedBy string
	expires  time.Time
}

// Store holds pending confirmations.
type Store struct {
	opts     options
	mu       sync.Mutex
	pending  map[[32]byte]entry
	perAgent map[string]int
}

// New returns an empty store.
func New(opts ...Option) *Store {
	o := defaultOptions
	for _, opt := range opts {
		opt(&o)
	}
	return &Store{opts: o, pending: map[[32]byte]entry{}, perAgent: map[string]int{}}
}

// TTL is how long an issued token stays valid.
func (s *Store) TTL() time.Duration { return s.opts.ttl }

// Issue creates a token for b and returns it with its expiry. issuedBy is
// the decision id of the call that required the confirmation: Redeem
// returns it, so that the confirmed call's record names the call it
// confirms.
func (s *Store) Issue(b Binding, issuedBy string) (string, time.Time, error) {
	var raw [tokenBytes]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("generate confirmation token: %w", err)
	}
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.opts.now()
	expires := now.Add(s.opts.ttl)
	if s.opts.shared != nil {
		if err := s.sharedIssue(token, b, issuedBy, now, expires); err != nil {
			return "", time.Time{}, err
		}
		return token, expires, nil
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if s.perAgent[b.Agent] >= s.opts.maxPerAgent || len(s.pending) >= s.opts.maxPending {
		return "", time.Time{}, ErrTooManyPending
	}
	s.pending[sha256.Sum256([]byte(token))] = entry{binding: b, issuedBy: issuedBy, expires: expires}
	s.perAgent[b.Agent]++
	return token, expires, nil
}

// Redeem consumes token and checks it was issued for b and has not
// expired. It returns the decision id the token was issued by ("" when
// the issuer named none, or a replica that keeps none issued it).
func (s *Store) Redeem(token string, b Binding) (issuedBy string, err error) {
	if len(token) > MaxTokenLen || !strings.HasPrefix(token, tokenPrefix) {
		return "", ErrInvalid
	}
	if s.opts.shared != nil {
		return s.sharedRedeem(token, b)
	}
	key := sha256.Sum256([]byte(token))
	now := s.opts.now()

	s.mu.Lock()
	e, ok := s.pending[key]
	if ok {
		s.removeLocked(key, e)
	}
	s.mu.Unlock()

	switch {
	case !ok:
		return "", ErrInvalid
	case !now.Before(e.expires):
		return "", ErrExpired
	case !e.binding.matches(b):
		return "", ErrMismatch
	}
	return e.issuedBy, nil
}

// Revoke withdraws a pending token before its time runs out, when the
// person declined or was never asked, so that it neither stays usable nor
// holds one of the agent's pending places until the TTL. Only the same
// binding revokes it: with another, the token stays pending and Revoke
// returns ErrMismatch, so nobody can withdraw another agent's
// confirmation. Revoking a token that is no longer pending (redeemed,
// revoked, expired, never issued) does nothing and returns nil.
func (s *Store) Revoke(token string, b Binding) error {
	if len(token) > MaxTokenLen || !strings.HasPrefix(token, tokenPrefix) {
		return nil
	}
	if s.opts.shared != nil {
		return s.sharedRevoke(token, b)
	}
	key := sha256.Sum256([]byte(token))

	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.pending[key]
	switch {
	case !ok:
		return nil
	case !e.binding.matches(b):
		return ErrMismatch
	}
	s.removeLocked(key, e)
	return nil
}

// matches compares two bindings in constant time, every part of them, so
// that how far a guess got is not told by the time it took.
func (a Binding) matches(b Binding) bool {
	agent := subtle.ConstantTimeCompare([]byte(a.Agent), []byte(b.Agent))
	action := subtle.ConstantTimeCompare([]byte(a.Action), []byte(b.Action))
	params := subtle.ConstantTimeCompare(a.ParamsHash[:], b.ParamsHash[:])
	return agent&action&params == 1
}

// Pending returns the number of unredeemed, unexpired tokens.
func (s *Store) Pending() int {
	if s.opts.shared != nil {
		return s.sharedPending()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.opts.now())
	return len(s.pending)
}

func (s *Store) removeLocked(key [32]byte, e entry) {
	delete(s.pending, key)
	if s.perAgent[e.binding.Agent]--; s.perAgent[e.binding.Agent] <= 0 {
		delete(s.perAgent, e.binding.Agent)
	}
}

// sweepLocked drops expired tokens; the store is bounded, so a full scan is
// bounded too and runs only when a token is issued.
func (s *Store) sweepLocked(now time.Time) {
	for k, e := range s.pending {
		if !now.Before(e.expires) {
			s.removeLocked(k, e)
		}
	}
}
