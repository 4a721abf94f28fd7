package approvers

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
)

type watchStream = grpc.ServerStreamingClient[bollardv1.WatchApprovalsResponse]

func watch(t *testing.T, h *harness, token string) watchStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	stream, err := h.client.WatchApprovals(as(ctx, token), &bollardv1.WatchApprovalsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return stream
}

// next receives one approval and checks its id and state.
func next(t *testing.T, stream watchStream, id string, state bollardv1.ApprovalState) *bollardv1.Approval {
	t.Helper()
	m, err := stream.Recv()
	if err != nil {
		t.Fatalf("waiting for %s %v: %v", id, state, err)
	}
	if a := m.GetApproval(); a.GetId() != id || a.GetState() != state || a.GetTarget() != nil {
		t.Fatalf("got %s %v, want %s %v", a.GetId(), a.GetState(), id, state)
	}
	return m.GetApproval()
}

var (
	pending  = bollardv1.ApprovalState_APPROVAL_STATE_PENDING
	approved = bollardv1.ApprovalState_APPROVAL_STATE_APPROVED
	expired  = bollardv1.ApprovalState_APPROVAL_STATE_EXPIRED
	used     = bollardv1.ApprovalState_APPROVAL_STATE_USED
)

// A watch sends every pending approval the person may approve, then each
// one again as it is created, voted on, used or expires; never another's.
func TestWatch(t *testing.T) {
	h := newHarness(t)
	open := h.create(t, 2)
	h.create(t, 1, []string{"helpdesk"})
	done := h.create(t, 1)
	bobP := approval.Person{Subject: bob.sub, Email: bob.email, Groups: bob.groups}
	if _, err := h.store.Vote(done.ID, bobP, true, ""); err != nil {
		t.Fatal(err)
	}
	stream := watch(t, h, h.token(t, ann))
	next(t, stream, open.ID, pending)

	h.clk.advance(time.Second) // oldest first, not by id
	created := h.create(t, 1)
	next(t, stream, created.ID, pending)

	h.create(t, 1, []string{"helpdesk"}) // not ann's: skipped
	h.clk.advance(time.Second)
	later := h.create(t, 1)
	next(t, stream, later.ID, pending)

	if _, err := h.client.Approve(as(t.Context(), h.token(t, bob)), &bollardv1.ApproveRequest{ApprovalId: open.ID}); err != nil {
		t.Fatal(err)
	}
	if a := next(t, stream, open.ID, pending); len(a.GetVotes()) != 1 || a.GetVotes()[0].GetApproverSubject() != bob.sub {
		t.Errorf("after bob's vote: %v", a.GetVotes())
	}

	// Approved before the watch began: sent once it is used.
	if _, err := h.store.Redeem(done.ID, done.Binding); err != nil {
		t.Fatal(err)
	}
	next(t, stream, done.ID, used)

	// Nobody reads the store when the approvals lapse: the watch does.
	h.clk.advance(16 * time.Minute)
	for _, id := range []string{open.ID, created.ID, later.ID} {
		next(t, stream, id, expired)
	}
}

// The watch ends with UNAUTHENTICATED when the caller's token expires.
func TestWatchEndsWithToken(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	stream := watch(t, h, h.token(t, ann, "exp", t0.Add(5*time.Minute).Unix()))
	next(t, stream, a.ID, pending)
	h.clk.advance(6 * time.Minute)
	_, err := stream.Recv()
	if meta, _ := wantStatus(t, err, codes.Unauthenticated, ReasonUnauthenticated); meta["detail"] != "expired" {
		t.Errorf("metadata %v", meta)
	}
}

// Close ends every watch with UNAVAILABLE, and refuses new ones.
func TestWatchEndsAtClose(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	stream := watch(t, h, h.token(t, ann))
	next(t, stream, a.ID, pending)
	h.srv.Close()
	_, err := stream.Recv()
	wantStatus(t, err, codes.Unavailable, ReasonShuttingDown)
	_, err = watch(t, h, h.token(t, ann)).Recv()
	wantStatus(t, err, codes.Unavailable, ReasonShuttingDown)
}

// A watcher that is behind gets the latest state of each approval that
// changed, once, not every state it went through; and never one it may
// not approve.
func TestWatcherCoalesces(t *testing.T) {
	clk := newClock()
	s := approval.New(approval.WithClock(clk.now))
	req := func(groups ...string) approval.Request {
		return approval.Request{Binding: approval.Binding{Agent: agentID, Action: "users.delete"},
			Requirement: approval.Requirement{Approvers: []approval.Set{{Groups: groups}}, Approvals: 2, Reason: "r"}}
	}
	a, _ := s.Create(req(approvers))
	s.Create(req(approvers)) // unchanged: never sent again
	w := &watcher{person: approval.Person{Subject: ann.sub, Email: ann.email, Groups: ann.groups}, seen: map[string]version{}}
	if got := w.start(listAll(t, s)); len(got) != 2 {
		t.Fatalf("start sends %d", len(got))
	}
	// While the watcher is busy: two votes, a denial, a new approval and
	// one it may not see.
	s.Vote(a.ID, approval.Person{Subject: bob.sub, Groups: bob.groups}, true, "")
	s.Vote(a.ID, approval.Person{Subject: "00uX", Groups: []string{approvers}}, false, "no")
	clk.advance(time.Second)
	b, _ := s.Create(req(approvers))
	s.Create(req("helpdesk"))
	got := w.changes(listAll(t, s))
	if len(got) != 2 || got[0].ID != a.ID || got[0].State != approval.Denied || len(got[0].Votes) != 2 || got[1].ID != b.ID {
		t.Fatalf("changes %+v, want a denied, then b", got)
	}
	if got := w.changes(listAll(t, s)); len(got) != 0 {
		t.Errorf("nothing changed, yet %d sent", len(got))
	}
}

// listAll is every approval of s, which must not fail to list them.
func listAll(t *testing.T, s *approval.Store) []approval.Approval {
	t.Helper()
	all, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// Watches are bounded: one person holds at most DefaultMaxWatchesPerPerson
// at once, the service DefaultMaxWatches; past that a watch is refused
// with RESOURCE_EXHAUSTED TOO_MANY_WATCHES before it reads the store, and
// a watch that ends gives its place back. Each open watch re-reads the
// approvals at every change: an unbounded number of them would let one
// signed-in person, or a leaked token, wear down the store of the fleet.
func TestWatchesAreBounded(t *testing.T) {
	h := newHarness(t)
	a := h.create(t, 1)
	annTok := h.token(t, ann)
	cancels := make([]context.CancelFunc, 0, DefaultMaxWatchesPerPerson)
	for range DefaultMaxWatchesPerPerson {
		ctx, cancel := context.WithCancel(t.Context())
		t.Cleanup(cancel)
		stream, err := h.client.WatchApprovals(as(ctx, annTok), &bollardv1.WatchApprovalsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		next(t, stream, a.ID, pending)
		cancels = append(cancels, cancel)
	}
	_, err := watch(t, h, annTok).Recv()
	wantStatus(t, err, codes.ResourceExhausted, ReasonTooManyWatches)
	// Someone else still watches.
	next(t, watch(t, h, h.token(t, bob)), a.ID, pending)
	// An ended watch gives its place back (the server learns of the
	// cancellation asynchronously).
	cancels[0]()
	deadline := time.Now().Add(10 * time.Second)
	for {
		stream := watch(t, h, annTok)
		m, err := stream.Recv()
		if err == nil && m.GetApproval().GetId() == a.ID {
			break
		}
		if status.Code(err) != codes.ResourceExhausted || time.Now().After(deadline) {
			t.Fatalf("a watch after one ended: %v, %v", m, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
