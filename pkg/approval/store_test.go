package approval

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// backends runs a test against each of the Store's backends: this
// process's, and the store a fleet shares, on a real redis-server of the
// test's own.
func backends(t *testing.T, run func(t *testing.T, newStore func(...Option) *Store)) {
	t.Run("memory", func(t *testing.T) { run(t, New) })
	t.Run("shared", func(t *testing.T) {
		st := openShared(t, redistest.Start(t))
		run(t, func(opts ...Option) *Store { return sharedStore(t, st, opts...) })
	})
}

// openShared is a connection to srv, closed when the test ends.
func openShared(t *testing.T, srv *redistest.Server) *state.Store {
	t.Helper()
	st, err := state.Open(t.Context(), srv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sharedStore is a Store on st, its reader quick to stop, closed when the
// test ends.
func sharedStore(t *testing.T, st *state.Store, opts ...Option) *Store {
	s := New(append(opts, WithShared(st))...)
	s.follow.block = 50 * time.Millisecond
	t.Cleanup(func() { s.Close() })
	return s
}

// list is s.List, which must not fail.
func list(t *testing.T, s *Store, states ...State) []Approval {
	t.Helper()
	l, err := s.List(states...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)} }
func agents(ids ...string) func(string) bool {
	return func(s string) bool {
		for _, id := range ids {
			if s == id {
				return true
			}
		}
		return false
	}
}

var (
	ann   = Person{Subject: "00uANN", Email: "ann@example.com", Groups: []string{"security-approvers"}}
	bob   = Person{Subject: "00uBOB", Email: "bob@example.com", Groups: []string{"security-approvers", "oncall"}}
	carol = Person{Subject: "00uCAROL", Email: "carol@example.com", Groups: []string{"helpdesk"}}
)

func binding(agent string, params byte) Binding {
	return Binding{Agent: agent, Action: "users.delete", ParamsHash: [32]byte{params}}
}

func request(agent string, approvals int) Request {
	return Request{Binding: binding(agent, 1), DecisionID: "d1", Requirement: Requirement{
		Approvers: []Set{{Groups: []string{"security-approvers"}}}, Approvals: approvals, TTL: 15 * time.Minute, Reason: "admin user"}}
}

func mustCreate(t *testing.T, s *Store, r Request) Approval {
	t.Helper()
	a, err := s.Create(r)
	if err != nil {
		t.Fatal(err)
	}
	if a.State != Pending || a.ID == "" {
		t.Fatalf("created %+v", a)
	}
	return a
}

// The path: pending, approved by a qualified person, run once by the agent
// that asked, with the exact call; then used.
func TestApproveThenRedeemOnce(t *testing.T) {
	backends(t, func(t *testing.T, newStore func(...Option) *Store) {
		s := newStore(WithAgents(agents("provisioner-bot")))
		a := mustCreate(t, s, request("provisioner-bot", 1))
		if _, err := s.Redeem(a.ID, binding("provisioner-bot", 1)); !errors.Is(err, ErrNotApproved) {
			t.Fatalf("redeem while pending: %v, want ErrNotApproved", err)
		}
		got, err := s.Vote(a.ID, ann, true, "")
		if err != nil || got.State != Approved || len(got.Votes) != 1 || got.Votes[0].Approver.Subject != ann.Subject {
			t.Fatalf("after ann's approval: %+v, %v", got, err)
		}
		// Altered parameters, another action, another agent: refused, and the
		// approval is left for the exact call.
		if _, err := s.Redeem(a.ID, binding("provisioner-bot", 2)); !errors.Is(err, ErrMismatch) {
			t.Errorf("redeem with other parameters: %v, want ErrMismatch", err)
		}
		other := binding("provisioner-bot", 1)
		other.Action = "users.deactivate"
		if _, err := s.Redeem(a.ID, other); !errors.Is(err, ErrMismatch) {
			t.Errorf("redeem for another action: %v, want ErrMismatch", err)
		}
		if _, err := s.Redeem(a.ID, binding("helpdesk-bot", 1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("redeem by another agent: %v, want ErrNotFound (an id reveals nothing)", err)
		}
		if used, err := s.Redeem(a.ID, binding("provisioner-bot", 1)); err != nil || used.State != Used {
			t.Fatalf("redeem of the exact call: %+v, %v", used, err)
		}
		if _, err := s.Redeem(a.ID, binding("provisioner-bot", 1)); !errors.Is(err, ErrNotPending) {
			t.Errorf("a replay: %v, want ErrNotPending", err)
		}
		if _, err := s.Vote(a.ID, bob, true, ""); !errors.Is(err, ErrNotPending) {
			t.Errorf("a vote on a used approval: %v, want ErrNotPending", err)
		}
	})
}

// Who may not approve, whatever the policy names: an agent identity, the
// agent that asked, the person it acts for, someone outside the approver
// sets; and nobody twice. A refused vote records nothing.
func TestVoteRefusals(t *testing.T) {
	backends(t, func(t *testing.T, newStore func(...Option) *Store) {
		s := newStore(WithAgents(agents("provisioner-bot", "reader-bot")))
		r := request("provisioner-bot", 2)
		r.OnBehalfOf = "bob@example.com"
		r.Concerns = []string{"00uDAVE"}
		a := mustCreate(t, s, r)
		for name, tc := range map[string]struct {
			p    Person
			want error
		}{
			"an agent identity":         {Person{Subject: "reader-bot", Groups: []string{"security-approvers"}}, ErrAgentApprover},
			"an agent id as the email":  {Person{Subject: "x", Email: "reader-bot", Groups: []string{"security-approvers"}}, ErrAgentApprover},
			"no subject":                {Person{Email: "z@example.com", Groups: []string{"security-approvers"}}, ErrAgentApprover},
			"the requesting agent":      {Person{Subject: "provisioner-bot", Groups: []string{"security-approvers"}}, ErrAgentApprover},
			"the person it acts for":    {bob, ErrSelfApproval},
			"the user the call changes": {Person{Subject: "00uDAVE", Email: "dave@example.com", Groups: []string{"security-approvers"}}, ErrSelfApproval},
			"outside the approver sets": {carol, ErrNotApprover},
		} {
			if _, err := s.Vote(a.ID, tc.p, true, ""); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", name, err, tc.want)
			}
		}
		// The same person twice under a two-person rule, by subject or by email.
		if got, err := s.Vote(a.ID, ann, true, ""); err != nil || got.State != Pending {
			t.Fatalf("ann's approval: %+v, %v; want still pending", got, err)
		}
		if _, err := s.Vote(a.ID, ann, true, ""); !errors.Is(err, ErrAlreadyVoted) {
			t.Errorf("ann again: %v, want ErrAlreadyVoted", err)
		}
		// Nor does the user the call changes deny it.
		dave := Person{Subject: "00uDAVE", Groups: []string{"security-approvers"}}
		if _, err := s.Vote(a.ID, dave, false, "leave my account alone"); !errors.Is(err, ErrSelfApproval) {
			t.Errorf("a denial by the user the call changes: %v, want ErrSelfApproval", err)
		}
		annAgain := Person{Subject: "another-sub", Email: "ANN@example.com", Groups: ann.Groups}
		if _, err := s.Vote(a.ID, annAgain, true, ""); !errors.Is(err, ErrAlreadyVoted) {
			t.Errorf("ann under another subject: %v, want ErrAlreadyVoted", err)
		}
		got, _ := s.Get(a.ID)
		if got.State != Pending || len(got.Votes) != 1 {
			t.Fatalf("after refused votes: %+v, want ann's vote alone", got)
		}
	})
}

// Two distinct qualified people approve under a two-person rule.
func TestTwoPersonRule(t *testing.T) {
	backends(t, func(t *testing.T, newStore func(...Option) *Store) {
		s := newStore()
		a := mustCreate(t, s, request("provisioner-bot", 2))
		s.Vote(a.ID, ann, true, "ok")
		got, err := s.Vote(a.ID, bob, true, "")
		if err != nil || got.State != Approved || len(got.Votes) != 2 {
			t.Fatalf("after two approvals: %+v, %v", got, err)
		}
	})
}

// A denial needs a reason, and is final: nobody can approve after it.
func TestDenyIsFinal(t *testing.T) {
	backends(t, func(t *testing.T, newStore func(...Option) *Store) {
		s := newStore()
		a := mustCreate(t, s, request("provisioner-bot", 2))
		if _, err := s.Vote(a.ID, ann, false, " "); !errors.Is(err, ErrNoReason) {
			t.Fatalf("denial without a reason: %v, want ErrNoReason", err)
		}
		got, err := s.Vote(a.ID, ann, false, "not during the freeze")
		if err != nil || got.State != Denied || got.Votes[0].Comment != "not during the freeze" {
			t.Fatalf("denied: %+v, %v", got, err)
		}
		if _, err := s.Vote(a.ID, bob, true, ""); !errors.Is(err, ErrNotPending) {
			t.Errorf("approval after a denial: %v, want ErrNotPending", err)
		}
		if _, err := s.Redeem(a.ID, binding("provisioner-bot", 1)); !errors.Is(err, ErrNotApproved) {
			t.Errorf("redeem of a denied approval: %v, want ErrNotApproved", err)
		}
	})
}

// Silence denies: a pending approval expires, and so does an approved one
// the agent did not use in time.
func TestExpiry(t *testing.T) {
	backends(t, func(t *testing.T, newStore func(...Option) *Store) {
		clk := newClock()
		s := newStore(WithClock(clk.now))
		silent := mustCreate(t, s, request("provisioner-bot", 1))
		late := mustCreate(t, s, request("provisioner-bot", 1))
		if _, err := s.Vote(late.ID, ann, true, ""); err != nil {
			t.Fatal(err)
		}
		clk.add(15 * time.Minute)
		if got, _ := s.Get(silent.ID); got.State != Expired {
			t.Errorf("unanswered after its TTL: %v, want expired", got.State)
		}
		if _, err := s.Vote(silent.ID, ann, true, ""); !errors.Is(err, ErrNotPending) {
			t.Errorf("a vote after expiry: %v, want ErrNotPending", err)
		}
		if _, err := s.Redeem(late.ID, binding("provisioner-bot", 1)); !errors.Is(err, ErrNotPending) {
			t.Errorf("redeem after expiry: %v, want ErrNotPending", err)
		}
		// Final approvals stay readable for an hour past their expiry, then go.
		clk.add(61 * time.Minute)
		if n := len(list(t, s)); n != 0 {
			t.Errorf("%d approvals kept past the hour", n)
		}
		if _, err := s.Get(silent.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("a forgotten approval: %v, want ErrNotFound", err)
		}
	})
}

// Pending approvals are bounded per agent and in all.
func TestLimits(t *testing.T) {
	backends(t, func(t *testing.T, newStore func(...Option) *Store) {
		s := newStore(WithLimits(3, 2))
		mustCreate(t, s, request("a", 1))
		mustCreate(t, s, request("a", 1))
		if _, err := s.Create(request("a", 1)); !errors.Is(err, ErrTooManyPending) {
			t.Errorf("a third for one agent: %v, want ErrTooManyPending", err)
		}
		mustCreate(t, s, request("b", 1))
		if _, err := s.Create(request("c", 1)); !errors.Is(err, ErrTooManyPending) {
			t.Errorf("a fourth in all: %v, want ErrTooManyPending", err)
		}
		if _, err := s.Create(Request{Binding: binding("d", 1)}); !errors.Is(err, ErrInvalidRequirement) {
			t.Errorf("a request without a requirement: %v, want ErrInvalidRequirement", err)
		}
	})
}

// Every change wakes the watchers; List shows the states asked for, oldest
// first; what a caller gets is a copy.
func TestChangedAndList(t *testing.T) {
	backends(t, func(t *testing.T, newStore func(...Option) *Store) {
		clk := newClock()
		s := newStore(WithClock(clk.now))
		ch := s.Changed()
		a := mustCreate(t, s, request("provisioner-bot", 1))
		select {
		case <-ch:
		default:
			t.Fatal("Create did not wake the watchers")
		}
		clk.add(time.Second)
		b := mustCreate(t, s, request("provisioner-bot", 1))
		ch = s.Changed()
		got, _ := s.Vote(a.ID, ann, true, "")
		select {
		case <-ch:
		default:
			t.Fatal("Vote did not wake the watchers")
		}
		got.Votes[0].Comment = "changed by the caller"
		if again, _ := s.Get(a.ID); again.Votes[0].Comment != "" {
			t.Error("the caller's copy changed the store")
		}
		if l := list(t, s, Pending); len(l) != 1 || l[0].ID != b.ID {
			t.Errorf("pending: %+v, want b", l)
		}
		if l := list(t, s); len(l) != 2 || l[0].ID != a.ID {
			t.Errorf("all: %d, want a then b", len(l))
		}
	})
}

// Two people answering at once under a one-person rule: one approval is
// recorded and the other told it is no longer pending; never both.
func TestConcurrentVotes(t *testing.T) {
	backends(t, func(t *testing.T, newStore func(...Option) *Store) {
		s := newStore()
		for range 50 {
			a := mustCreate(t, s, request("provisioner-bot", 1))
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, p := range []Person{ann, bob} {
				wg.Go(func() { _, errs[i] = s.Vote(a.ID, p, true, "") })
			}
			wg.Wait()
			got, _ := s.Get(a.ID)
			if len(got.Votes) != 1 || got.State != Approved || (errs[0] == nil) == (errs[1] == nil) {
				t.Fatalf("votes %+v, errors %v", got.Votes, errs)
			}
			s.Redeem(a.ID, binding("provisioner-bot", 1))
		}
	})
}

// Check answers as Vote would, with the approval as the vote would leave
// it, and records nothing: the approvers' service writes its audit record
// between the two.
func TestCheckRecordsNothing(t *testing.T) {
	backends(t, func(t *testing.T, newStore func(...Option) *Store) {
		s := newStore()
		a := mustCreate(t, s, request("provisioner-bot", 1))
		ch := s.Changed()
		next, err := s.Check(a.ID, ann, true, "fine")
		if err != nil || next.State != Approved || len(next.Votes) != 1 || next.Votes[0].Comment != "fine" {
			t.Fatalf("check: %+v, %v; want the approval as approved by ann", next, err)
		}
		if got, _ := s.Get(a.ID); got.State != Pending || len(got.Votes) != 0 {
			t.Fatalf("after check: %+v, want untouched", got)
		}
		select {
		case <-ch:
			t.Fatal("Check woke the watchers")
		default:
		}
		if next, err := s.Check(a.ID, bob, false, "no"); err != nil || next.State != Denied {
			t.Errorf("check of a denial: %+v, %v", next, err)
		}
		if _, err := s.Check("ap_unknown", ann, true, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("check of an unknown id: %v, want ErrNotFound", err)
		}
	})
}

// The refusals come in the order the ApprovalService promises: not an
// approver, then self-approval, then not pending, then already voted. A
// person outside the sets learns nothing of the approval's state.
func TestRefusalOrder(t *testing.T) {
	backends(t, func(t *testing.T, newStore func(...Option) *Store) {
		s := newStore()
		r := request("provisioner-bot", 2)
		r.Concerns = []string{"00uDAVE"}
		a := mustCreate(t, s, r)
		dave := Person{Subject: "00uDAVE", Groups: []string{"helpdesk"}}
		if _, err := s.Vote(a.ID, dave, true, ""); !errors.Is(err, ErrNotApprover) {
			t.Errorf("the user the call changes, outside the sets: %v, want ErrNotApprover", err)
		}
		s.Vote(a.ID, ann, true, "")
		s.Vote(a.ID, bob, false, "no")
		for name, tc := range map[string]struct {
			p    Person
			want error
		}{
			"outside the sets, on a denied approval": {carol, ErrNotApprover},
			"the user the call changes, qualified":   {Person{Subject: "00uDAVE", Groups: []string{"security-approvers"}}, ErrSelfApproval},
			"ann, who voted, once it is denied":      {ann, ErrNotPending},
		} {
			if _, err := s.Vote(a.ID, tc.p, true, ""); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", name, err, tc.want)
			}
		}
	})
}

// Okta's custom authorization servers put the login in sub and the user id
// in uid; an agent names a user by id or by login. The user a call
// changes may not vote on it, whichever way either side names them.
func TestSelfApprovalByOktaUserIDOrLogin(t *testing.T) {
	sam := Person{Subject: "sam.singh@example.com", Email: "sam.singh@example.com", UserID: "00uSAMsecurity0000g7", Groups: []string{"security-approvers"}}
	for _, named := range []string{"00uSAMsecurity0000g7", "Sam.Singh@example.com"} {
		s := New()
		r := request("provisioner-bot", 1)
		r.Concerns = []string{named}
		a := mustCreate(t, s, r)
		if _, err := s.Vote(a.ID, sam, true, ""); !errors.Is(err, ErrSelfApproval) {
			t.Errorf("Sam approving a change to the user named %q: %v, want ErrSelfApproval", named, err)
		}
	}
}

// The store's approvals are its own: neither the request a caller created
// one from nor an approval it was handed can change what the store holds,
// down to nested parameters, the users a call concerns and the approver
// sets (a concern dropped after the fact would let that user approve a
// change to their own account).
func TestApprovalsAreTheStoresOwn(t *testing.T) {
	s := New(WithClock(newClock().now))
	r := request("helpdesk-bot", 1)
	r.Params = map[string]any{"userId": "00uCAROL", "profile": map[string]any{"groups": []any{"admins"}}}
	r.Concerns = []string{"00uCAROL"}
	a := mustCreate(t, s, r)

	r.Params["userId"] = "00uOTHER"
	r.Params["profile"].(map[string]any)["groups"].([]any)[0] = "nobody"
	r.Concerns[0] = "00uOTHER"
	r.Requirement.Approvers[0].Groups[0] = "everyone"
	a.Params["userId"] = "00uHANDED"
	a.Concerns[0] = "00uHANDED"
	a.Requirement.Approvers[0].Groups[0] = "handed"

	got, err := s.Get(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Params["userId"] != "00uCAROL" || got.Params["profile"].(map[string]any)["groups"].([]any)[0] != "admins" ||
		got.Concerns[0] != "00uCAROL" || got.Requirement.Approvers[0].Groups[0] != "security-approvers" {
		t.Fatalf("the store's approval changed with its callers' copies: %+v", got)
	}
	if _, err := s.Vote(a.ID, Person{Subject: "00uCAROL", Email: "carol@example.com", Groups: []string{"security-approvers"}}, true, ""); !errors.Is(err, ErrSelfApproval) {
		t.Errorf("Carol's vote on a change to her account: %v, want ErrSelfApproval", err)
	}
}
