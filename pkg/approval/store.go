package approval

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bollard-dev/bollard/pkg/state"
)

// Defaults of a Store's bounds.
const (
	DefaultMaxPending         = 10_000
	DefaultMaxPendingPerAgent = 20
	maxCommentLen             = 1024
	// keepFinal is how long a final approval stays readable, for the agent
	// that waits on it and the approvers' history.
	keepFinal = time.Hour
)

// Store keeps approvals in this process (the memory backend), or in the
// store the fleet shares (WithShared).
type Store struct {
	now                func() time.Time
	isAgent            func(subject string) bool
	maxPending, perAgt int
	shared             *state.Store // nil: this process alone
	follow             follower     // with shared: the change stream's reader

	mu        sync.Mutex
	approvals map[string]*Approval
	claims    map[string]time.Time // purpose and id → kept until (Claim)
	changed   chan struct{}        // closed and replaced at every change
}

// Option configures a Store.
type Option func(*Store)

// WithClock replaces the clock, for tests.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithAgents tells the store which subjects are agent identities, which
// never approve (the agent ids the sidecar knows).
func WithAgents(isAgent func(subject string) bool) Option {
	return func(s *Store) { s.isAgent = isAgent }
}

// WithLimits bounds the pending approvals, in all and per agent.
func WithLimits(total, perAgent int) Option {
	return func(s *Store) { s.maxPending, s.perAgt = total, perAgent }
}

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{now: time.Now, isAgent: func(string) bool { return false },
		maxPending: DefaultMaxPending, perAgt: DefaultMaxPendingPerAgent,
		approvals: map[string]*Approval{}, changed: make(chan struct{}), follow: follower{block: followBlock}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close stops what the store runs in the background: with WithShared, the
// reader of the change stream (Close waits for its current read, at most
// a second). The memory store runs nothing. The store stays usable, but
// its watchers no longer learn of other replicas' changes.
func (s *Store) Close() error {
	if s.shared != nil {
		s.stopFollowing()
	}
	return nil
}

// Create records a pending approval for r, expiring after its
// requirement's TTL.
func (s *Store) Create(r Request) (Approval, error) {
	if r.Requirement.Approvals < minApprovals || r.Requirement.Approvals > maxApprovals || len(r.Requirement.Approvers) == 0 {
		return Approval{}, fmt.Errorf("%w: no approver or approvals out of range", ErrInvalidRequirement)
	}
	ttl := r.Requirement.TTL
	if ttl <= 0 || ttl > MaxTTL {
		ttl = DefaultTTL
	}
	if s.shared != nil {
		return s.sharedCreate(r, ttl)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	pending, mine := 0, 0
	for _, a := range s.approvals {
		if a.State == Pending {
			pending++
			if a.Agent == r.Agent {
				mine++
			}
		}
	}
	if pending >= s.maxPending || mine >= s.perAgt {
		return Approval{}, ErrTooManyPending
	}
	a := &Approval{ID: newID(), Request: r.clone(), State: Pending, Created: now, Expires: now.Add(ttl)}
	s.approvals[a.ID] = a
	s.notifyLocked()
	return a.clone(), nil
}

// Get returns the approval, its expiry applied.
func (s *Store) Get(id string) (Approval, error) {
	if s.shared != nil {
		return s.sharedGet(id)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.getLocked(id, now)
	if err != nil {
		return Approval{}, err
	}
	return a.clone(), nil
}

// List returns the approvals in the given states (all when none), oldest
// first. Only the shared store fails (state.ErrUnavailable).
func (s *Store) List(states ...State) ([]Approval, error) {
	if s.shared != nil {
		return s.sharedList(states)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	var out []Approval
	for _, a := range s.approvals {
		if len(states) == 0 || slices.Contains(states, a.State) {
			out = append(out, a.clone())
		}
	}
	sortApprovals(out)
	return out, nil
}

// sortApprovals puts approvals in List's order: oldest first, then by id.
func sortApprovals(out []Approval) {
	slices.SortFunc(out, func(a, b Approval) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Vote records p's answer. A vote is refused (and nothing recorded) for the
// reasons Check gives. A denial, by any qualified person, is final and
// needs a reason; enough approvals by distinct people make it Approved.
func (s *Store) Vote(id string, p Person, approve bool, comment string) (Approval, error) {
	return s.vote(id, p, approve, comment, true)
}

// Check tells whether Vote would record p's answer now, and returns the
// approval as that vote would leave it (its state included), recording
// nothing. A caller that must write something down before the vote counts
// (the approvers' audit record) checks, writes, then votes. The refusals,
// in the order the ApprovalService promises: ErrNoReason for a denial
// without a reason; ErrNotFound; ErrAgentApprover for an agent identity
// (or no subject); ErrNotApprover for a person outside the requirement's
// sets; ErrSelfApproval for the request's own agent, the person it acts
// for or a user the call changes; ErrNotPending once the approval is no
// longer pending; ErrAlreadyVoted for a person who answered already.
func (s *Store) Check(id string, p Person, approve bool, comment string) (Approval, error) {
	return s.vote(id, p, approve, comment, false)
}

func (s *Store) vote(id string, p Person, approve bool, comment string, commit bool) (Approval, error) {
	if len(comment) > maxCommentLen {
		comment = comment[:maxCommentLen]
	}
	comment = strings.TrimSpace(comment)
	if !approve && comment == "" {
		return Approval{}, ErrNoReason
	}
	if s.shared != nil {
		return s.sharedVote(id, p, approve, comment, commit)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.getLocked(id, now)
	if err != nil {
		return Approval{}, err
	}
	if err := s.refuseLocked(a, p); err != nil {
		return a.clone(), err
	}
	next := a.clone()
	next.Votes = append(next.Votes, Vote{Approver: Person{Subject: p.Subject, Email: p.Email, UserID: p.UserID, Groups: slices.Clone(p.Groups)}, Approve: approve, Comment: comment, At: now})
	switch {
	case !approve:
		next.State = Denied
	case next.Given() >= next.Requirement.Approvals:
		next.State = Approved
	}
	if commit {
		a.Votes, a.State = slices.Clone(next.Votes), next.State
		s.notifyLocked()
	}
	return next, nil
}

// refuseLocked is why p may not vote on a, or nil; Check lists the order.
func (s *Store) refuseLocked(a *Approval, p Person) error {
	switch {
	case p.Subject == "" || s.isAgent(p.Subject) || s.isAgent(p.Email):
		return ErrAgentApprover
	case !a.Requirement.Qualifies(p):
		return ErrNotApprover
	case p.Subject == a.Agent, a.OnBehalfOf != "" && p.is(a.OnBehalfOf), slices.ContainsFunc(a.Concerns, p.is):
		return ErrSelfApproval
	case a.State != Pending:
		return ErrNotPending
	}
	for _, v := range a.Votes {
		if v.Approver.Subject == p.Subject || (p.Email != "" && strings.EqualFold(v.Approver.Email, p.Email)) ||
			(p.UserID != "" && v.Approver.UserID == p.UserID) {
			return ErrAlreadyVoted
		}
	}
	return nil
}

// Redeem marks an approved approval used for the call b, once. It fails
// with ErrMismatch for another agent, action or parameters (the approval
// stays as it is), ErrNotApproved while pending or when denied, and
// ErrNotPending once expired or used. An unknown id, and one of another
// agent, is ErrNotFound: an id tells an agent nothing of others' calls.
func (s *Store) Redeem(id string, b Binding) (Approval, error) {
	if s.shared != nil {
		return s.sharedRedeem(id, b)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.getLocked(id, now)
	if err != nil || a.Agent != b.Agent {
		return Approval{}, ErrNotFound
	}
	switch a.State {
	case Approved:
	case Pending, Denied:
		return a.clone(), ErrNotApproved
	default:
		return a.clone(), ErrNotPending
	}
	if !a.Binding.Matches(b) {
		return a.clone(), ErrMismatch
	}
	a.State = Used
	s.notifyLocked()
	return a.clone(), nil
}

// Changed returns a channel closed at the next change to any approval:
// read what you watch, then wait on a new one. With WithShared, a change
// through another replica closes it too, as soon as this Store's reader
// of the change stream gets it (the first Changed starts the reader); it
// may also close when nothing changed (the reader starting, or finding
// the store again): read again and compare.
func (s *Store) Changed() <-chan struct{} {
	if s.shared != nil {
		s.startFollowing()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Given is how many of the votes approve.
func (a Approval) Given() int {
	n := 0
	for _, v := range a.Votes {
		if v.Approve {
			n++
		}
	}
	return n
}

// getLocked finds the approval, expiring it when its time is up.
func (s *Store) getLocked(id string, now time.Time) (*Approval, error) {
	a := s.approvals[id]
	if a == nil {
		return nil, ErrNotFound
	}
	if s.expireLocked(a, now) {
		s.notifyLocked()
	}
	return a, nil
}

// expireLocked turns a pending or approved approval whose time is up into
// an expired one.
func (s *Store) expireLocked(a *Approval, now time.Time) bool {
	if (a.State == Pending || a.State == Approved) && !now.Before(a.Expires) {
		a.State = Expired
		return true
	}
	return false
}

// sweepLocked expires what is due and forgets final approvals older than
// keepFinal.
func (s *Store) sweepLocked(now time.Time) {
	changed := false
	for id, a := range s.approvals {
		changed = s.expireLocked(a, now) || changed
		if a.State.Final() && now.Sub(a.Expires) > keepFinal {
			delete(s.approvals, id)
		}
	}
	if changed {
		s.notifyLocked()
	}
}

func (s *Store) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// is reports whether name (a user id, a login, an email or a subject, as
// an agent or a policy names a person) names p: by subject or Okta user
// id exactly, by subject or email in any case (logins and emails are case
// insensitive at Okta).
func (p Person) is(name string) bool {
	if name == "" {
		return false
	}
	return name == p.Subject || (p.UserID != "" && name == p.UserID) ||
		strings.EqualFold(name, p.Subject) || (p.Email != "" && strings.EqualFold(name, p.Email))
}
