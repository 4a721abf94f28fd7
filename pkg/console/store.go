package console

import (
	"context"
	"sync"
	"time"

	"github.com/bollard-dev/bollard/pkg/approvers"
)

// session is a person signed in: who their token said they are, until
// when, the token their forms must carry, and the identity provider's ID
// token, kept only to end the provider's session at sign-out ("" when the
// provider has no end-session endpoint).
type session struct {
	who     approvers.Approver
	csrf    string
	idToken string
	expires time.Time
}

// size is about what a session takes in a store: the text it holds.
func (s *session) size() int {
	n := len(s.who.Subject) + len(s.who.Email) + len(s.who.UserID) + len(s.csrf) + len(s.idToken)
	for _, g := range s.who.Groups {
		n += len(g) + 1
	}
	return n
}

// login is a sign-in under way: the PKCE verifier, the nonce the ID token
// must carry, where to go after, and the hash of the pre-login cookie that
// binds it to the browser that started it.
type login struct {
	binding  [32]byte
	verifier string
	nonce    string
	next     string
	expires  time.Time
}

// store keeps the sessions, keyed by the SHA-256 of their cookie's value,
// and the sign-ins under way, keyed by the SHA-256 of their state. Both
// are bounded and go at their expiry; a sign-in is taken once. The console
// checks expiry, and a login's browser, itself (one rule for every store).
// An error means the store could not answer: the console then refuses, it
// never guesses.
type store interface {
	putSession(ctx context.Context, key [32]byte, s *session) error
	// getSession is nil, nil when there is no such session.
	getSession(ctx context.Context, key [32]byte) (*session, error)
	deleteSession(ctx context.Context, key [32]byte) error
	putLogin(ctx context.Context, key [32]byte, in *login) error
	// takeLogin removes the sign-in and returns it; nil, nil when there is
	// none (unknown, taken, or gone at its expiry).
	takeLogin(ctx context.Context, key [32]byte) (*login, error)
}

// memStore keeps sessions and sign-ins in this process: one console, or
// replicas that each sign their people in themselves.
type memStore struct {
	now func() time.Time

	mu          sync.Mutex
	sessions    map[[32]byte]*session
	maxSessions int
	logins      map[[32]byte]*login
	order       [][32]byte // logins, oldest first (some may be gone already)
	maxLogins   int
}

func newMemStore(maxSessions, maxLogins int, now func() time.Time) *memStore {
	return &memStore{now: now, sessions: map[[32]byte]*session{}, maxSessions: maxSessions,
		logins: map[[32]byte]*login{}, maxLogins: maxLogins}
}

// putSession keeps a session. When full, the expired sessions go, then
// the one that would expire first.
func (m *memStore) putSession(_ context.Context, key [32]byte, s *session) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sessions) >= m.maxSessions {
		var soonest [32]byte
		var first time.Time
		for k, v := range m.sessions {
			if !v.expires.After(now) {
				delete(m.sessions, k)
			} else if first.IsZero() || v.expires.Before(first) {
				soonest, first = k, v.expires
			}
		}
		if len(m.sessions) >= m.maxSessions {
			delete(m.sessions, soonest)
		}
	}
	m.sessions[key] = s
	return nil
}

func (m *memStore) getSession(_ context.Context, key [32]byte) (*session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[key], nil
}

func (m *memStore) deleteSession(_ context.Context, key [32]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, key)
	return nil
}

// putLogin keeps a sign-in; when full, the oldest goes (a flood of
// sign-ins can only make people start theirs again).
func (m *memStore) putLogin(_ context.Context, key [32]byte, in *login) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.logins) >= m.maxLogins && len(m.order) > 0 {
		delete(m.logins, m.order[0])
		m.order = m.order[1:]
	}
	if len(m.order) > 4*m.maxLogins { // sign-ins taken by their callbacks
		kept := m.order[:0]
		for _, k := range m.order {
			if m.logins[k] != nil {
				kept = append(kept, k)
			}
		}
		m.order = kept
	}
	m.logins[key] = in
	m.order = append(m.order, key)
	return nil
}

func (m *memStore) takeLogin(_ context.Context, key [32]byte) (*login, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in := m.logins[key]
	delete(m.logins, key)
	return in, nil
}

// sessionCount is how many sessions are held, expired ones included.
func (m *memStore) sessionCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}
