package approval

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// fleet is n Stores, one per replica, each with its own connection to srv.
func fleet(t *testing.T, srv *redistest.Server, n int, opts ...Option) []*Store {
	t.Helper()
	stores := make([]*Store, n)
	for i := range stores {
		stores[i] = sharedStore(t, openShared(t, srv), opts...)
	}
	return stores
}

// An approval created through replica A is listed and approved through B
// and used once through C; a second use, through A, is refused; every
// replica then reads it used.
func TestSharedApprovalAcrossTheFleet(t *testing.T) {
	srv := redistest.Start(t)
	s := fleet(t, srv, 3, WithAgents(agents("provisioner-bot")))
	a, b, c := s[0], s[1], s[2]
	created := mustCreate(t, a, request("provisioner-bot", 1))
	listed := list(t, b, Pending)
	if len(listed) != 1 || listed[0].ID != created.ID || listed[0].Requirement.Reason != "admin user" ||
		listed[0].ParamsHash != created.ParamsHash || !listed[0].Created.Equal(created.Created) {
		t.Fatalf("listed through B: %+v, want %+v", listed, created)
	}
	if got, err := b.Vote(created.ID, ann, true, "fine"); err != nil || got.State != Approved || got.Votes[0].Comment != "fine" {
		t.Fatalf("approved through B: %+v, %v", got, err)
	}
	if _, err := c.Redeem(created.ID, binding("provisioner-bot", 2)); !errors.Is(err, ErrMismatch) {
		t.Errorf("redeemed through C with other parameters: %v, want ErrMismatch", err)
	}
	if _, err := c.Redeem(created.ID, binding("helpdesk-bot", 1)); !errors.Is(err, ErrNotFound) {
		t.Errorf("redeemed through C by another agent: %v, want ErrNotFound", err)
	}
	if used, err := c.Redeem(created.ID, binding("provisioner-bot", 1)); err != nil || used.State != Used {
		t.Fatalf("redeemed through C: %+v, %v", used, err)
	}
	if _, err := a.Redeem(created.ID, binding("provisioner-bot", 1)); !errors.Is(err, ErrNotPending) {
		t.Errorf("redeemed again through A: %v, want ErrNotPending", err)
	}
	for i, r := range s {
		if got, err := r.Get(created.ID); err != nil || got.State != Used || len(got.Votes) != 1 || got.Votes[0].Approver.Email != ann.Email {
			t.Errorf("replica %d reads %+v, %v", i, got, err)
		}
	}
	// Another id of the same shape: its last character changed (to one
	// that differs from the created id's, whatever that was).
	other := created.ID[:len(created.ID)-1] + map[bool]string{true: "3", false: "2"}[strings.HasSuffix(created.ID, "2")]
	for _, id := range []string{"ap_unknown", strings.Repeat("x", 200), other} {
		if _, err := a.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", id, err)
		}
	}
}

// Two people answering at once through two replicas under a one-person
// rule: exactly one vote is recorded. Three replicas racing to use one
// approval: exactly one does.
func TestSharedConcurrentVotesAndRedeems(t *testing.T) {
	srv := redistest.Start(t)
	s := fleet(t, srv, 3)
	for round := range 30 {
		a := mustCreate(t, s[round%3], request("provisioner-bot", 1))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, p := range []Person{ann, bob} {
			wg.Go(func() { _, errs[i] = s[i].Vote(a.ID, p, true, "") })
		}
		wg.Wait()
		got, err := s[2].Get(a.ID)
		if err != nil || len(got.Votes) != 1 || got.State != Approved || (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: votes %+v, errors %v, %v", round, got.Votes, errs, err)
		}
		for _, err := range errs {
			if err != nil && !errors.Is(err, ErrNotPending) {
				t.Fatalf("round %d: the second vote: %v, want ErrNotPending", round, err)
			}
		}
		var used atomic.Int32
		for i := range 9 {
			wg.Go(func() {
				switch _, err := s[i%3].Redeem(a.ID, binding("provisioner-bot", 1)); {
				case err == nil:
					used.Add(1)
				case !errors.Is(err, ErrNotPending):
					t.Errorf("redeem: %v", err)
				}
			})
		}
		wg.Wait()
		if used.Load() != 1 {
			t.Fatalf("round %d: used %d times", round, used.Load())
		}
	}
}

// Watchers on one replica wake for a change through another: a new
// approval, a vote, a use. Check wakes nobody.
func TestSharedWatchersWakeAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	s := fleet(t, srv, 2)
	a, b := s[0], s[1]
	var start time.Time
	woke := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
			t.Logf("%s: B woke after %v", what, time.Since(start))
		case <-time.After(5 * time.Second):
			t.Fatalf("%s through A: B's watchers still asleep", what)
		}
	}
	ch := b.Changed()
	start = time.Now()
	created := mustCreate(t, a, request("provisioner-bot", 1))
	woke("create", ch)

	ch = b.Changed()
	if _, err := a.Check(created.ID, ann, true, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("a Check through A woke B's watchers")
	case <-time.After(300 * time.Millisecond):
	}
	start = time.Now()
	if _, err := a.Vote(created.ID, ann, true, ""); err != nil {
		t.Fatal(err)
	}
	woke("vote", ch)
	ch = b.Changed()
	start = time.Now()
	if _, err := a.Redeem(created.ID, binding("provisioner-bot", 1)); err != nil {
		t.Fatal(err)
	}
	woke("redeem", ch)
	if got, _ := b.Get(created.ID); got.State != Used {
		t.Errorf("B reads %v, want used", got.State)
	}
}

// Silence denies across the fleet: an approval nobody answered, read
// through another replica after its time, is expired there and for every
// replica; it no longer counts as pending; an approved one not used in
// time cannot be used; an hour after its expiry it is forgotten.
func TestSharedExpiry(t *testing.T) {
	srv := redistest.Start(t)
	clk := newClock()
	s := fleet(t, srv, 3, WithClock(clk.now), WithLimits(10, 2))
	silent := mustCreate(t, s[0], request("provisioner-bot", 1))
	late := mustCreate(t, s[0], request("provisioner-bot", 1))
	if _, err := s[2].Create(request("provisioner-bot", 1)); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("a third pending approval of the agent: %v, want ErrTooManyPending", err)
	}
	if _, err := s[1].Vote(late.ID, ann, true, ""); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s[2], request("provisioner-bot", 1)) // late no longer pending
	clk.add(15 * time.Minute)
	ch := s[0].Changed()
	if got, err := s[1].Get(silent.ID); err != nil || got.State != Expired {
		t.Errorf("unanswered, read through B after its TTL: %v, %v; want expired", got.State, err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Error("the expiry written through B did not wake A's watchers")
	}
	if _, err := s[2].Vote(silent.ID, bob, true, ""); !errors.Is(err, ErrNotPending) {
		t.Errorf("a vote after expiry: %v, want ErrNotPending", err)
	}
	if _, err := s[2].Redeem(late.ID, binding("provisioner-bot", 1)); !errors.Is(err, ErrNotPending) {
		t.Errorf("a use after expiry: %v, want ErrNotPending", err)
	}
	if l := list(t, s[0], Expired); len(l) != 3 {
		t.Errorf("%d expired listed, want 3", len(l))
	}
	// The expired ones no longer count as pending: nor does the third,
	// expired unread.
	mustCreate(t, s[2], request("provisioner-bot", 1))
	mustCreate(t, s[1], request("provisioner-bot", 1))
	clk.add(15*time.Minute + keepFinal + time.Second)
	if l := list(t, s[1]); len(l) != 0 {
		t.Errorf("%d approvals kept past the hour", len(l))
	}
	if _, err := s[0].Get(silent.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a forgotten approval: %v, want ErrNotFound", err)
	}
}

// The limits hold for the fleet, whichever replicas create at once.
func TestSharedLimitsHoldForTheFleet(t *testing.T) {
	srv := redistest.Start(t)
	s := fleet(t, srv, 3, WithLimits(7, 5))
	var created, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			switch _, err := s[i%3].Create(request("provisioner-bot", 1)); {
			case err == nil:
				created.Add(1)
			case errors.Is(err, ErrTooManyPending):
				refused.Add(1)
			default:
				t.Errorf("create: %v", err)
			}
		})
	}
	wg.Wait()
	if created.Load() != 5 || refused.Load() != 25 {
		t.Fatalf("%d created, %d refused; want the agent's 5 and 25", created.Load(), refused.Load())
	}
	mustCreate(t, s[1], request("helpdesk-bot", 1))
	mustCreate(t, s[2], request("helpdesk-bot", 1))
	if _, err := s[0].Create(request("reader-bot", 1)); !errors.Is(err, ErrTooManyPending) {
		t.Errorf("an eighth pending approval in all: %v, want ErrTooManyPending", err)
	}
	// A decided approval no longer counts.
	first := list(t, s[0], Pending)[0]
	if _, err := s[1].Vote(first.ID, ann, false, "no"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s[2], request("reader-bot", 1))
}

// While the store cannot be reached nothing is created, read, decided or
// used, and the error says so (state.ErrUnavailable); when it is back
// (empty: no persistence), the fleet works again, its watchers too.
func TestSharedStoreDownAndBack(t *testing.T) {
	srv := redistest.Start(t)
	s := fleet(t, srv, 2)
	a, b := s[0], s[1]
	before := mustCreate(t, a, request("provisioner-bot", 1))
	b.Changed() // B's reader runs
	srv.Stop()
	_, err := a.Create(request("provisioner-bot", 1))
	wantUnavailable(t, "create", err)
	_, err = b.Get(before.ID)
	wantUnavailable(t, "get", err)
	_, err = b.List()
	wantUnavailable(t, "list", err)
	_, err = b.Check(before.ID, ann, true, "")
	wantUnavailable(t, "check", err)
	_, err = b.Vote(before.ID, ann, true, "")
	wantUnavailable(t, "vote", err)
	_, err = a.Redeem(before.ID, binding("provisioner-bot", 1))
	wantUnavailable(t, "redeem", err)
	// A malformed id needs no store.
	if _, err := a.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a malformed id while the store is down: %v, want ErrNotFound", err)
	}

	down := b.Changed()
	srv.Restart()
	// The first command on a pooled connection to the dead server may
	// fail; the client redials.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := a.Get(before.ID); errors.Is(err, ErrNotFound) {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("after the restart: %v, want ErrNotFound (the store came back empty)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// B's reader finds the store again, and wakes its watchers: what
	// changed while it could not read is for them to read again.
	select {
	case <-down:
	case <-time.After(10 * time.Second):
		t.Fatal("B's reader did not wake its watchers when the store came back")
	}
	ch := b.Changed()
	after, err := a.Create(request("provisioner-bot", 1))
	if err != nil {
		t.Fatalf("create after the restart: %v", err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("after the restart, a change through A did not wake B's watchers")
	}
	if got, err := b.Vote(after.ID, ann, true, ""); err != nil || got.State != Approved {
		t.Fatalf("vote after the restart: %+v, %v", got, err)
	}
}

func wantUnavailable(t *testing.T, op string, err error) {
	t.Helper()
	if !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("%s with the store down: %v, want state.ErrUnavailable", op, err)
	}
}

// Every key the store writes is under the prefix, in the {approval} hash
// tag (one Redis Cluster slot for every script), with a TTL: an approval
// an hour past its expiry, the sets and the change stream after their
// last use.
func TestSharedKeysAreTaggedAndExpire(t *testing.T) {
	srv := redistest.Start(t)
	s := fleet(t, srv, 2)
	a := mustCreate(t, s[0], request("provisioner-bot", 1))
	mustCreate(t, s[1], request("helpdesk-bot", 2))
	s[1].Vote(a.ID, ann, true, "")
	s[0].Redeem(a.ID, binding("provisioner-bot", 1))
	s[0].Changed()
	c := srv.Client()
	keys, err := c.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	// Two approvals, all, pending, helpdesk-bot's pending (provisioner-bot
	// has none left: an empty set is no key) and the change stream.
	if len(keys) != 6 {
		t.Errorf("keys %v, want 6", keys)
	}
	prefix := srv.Config().KeyPrefix + "{approval}:"
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			t.Errorf("key %q is not under %q", k, prefix)
		}
		ttl, err := c.PTTL(t.Context(), k).Result()
		if err != nil || ttl <= 0 || ttl > 15*time.Minute+keepFinal+time.Second {
			t.Errorf("key %q: TTL %v, %v", k, ttl, err)
		}
	}
	if ttl := c.PTTL(t.Context(), prefix+"a:"+a.ID).Val(); ttl < 15*time.Minute+keepFinal-time.Minute {
		t.Errorf("an approval's TTL %v, want its TTL and the hour it is kept", ttl)
	}
}

// The documented ACL user (docs/scaling.md) can do everything the store
// does: a script runs with its caller's rights.
func TestSharedWorksWithTheDocumentedACL(t *testing.T) {
	srv := redistest.Start(t)
	st, err := state.Open(t.Context(), srv.DocumentedACLConfig("../../docs/scaling.md"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := sharedStore(t, st)
	other := sharedStore(t, openShared(t, srv))
	ch := s.Changed()
	a := mustCreate(t, other, request("provisioner-bot", 1))
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Error("the reader, logged in as the documented user, did not wake")
	}
	if _, err := s.Check(a.ID, ann, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Vote(a.ID, ann, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Redeem(a.ID, binding("provisioner-bot", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(request("provisioner-bot", 1)); err != nil {
		t.Fatal(err)
	}
	if l := list(t, s); len(l) != 2 {
		t.Errorf("listed %d, want 2", len(l))
	}
}
