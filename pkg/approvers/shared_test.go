package approvers

import (
	"testing"

	"google.golang.org/grpc/codes"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

func openState(t *testing.T, srv *redistest.Server) *state.Store {
	t.Helper()
	st, err := state.Open(t.Context(), srv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Two replicas serving ApprovalService over one shared store: an approval
// created through one is watched, read and approved through the other,
// and the first one's watcher sees the vote.
func TestSharedApprovalsAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	a, b := newSharedHarness(t, openState(t, srv)), newSharedHarness(t, openState(t, srv))
	watchA := watch(t, a, a.token(t, ann))
	watchB := watch(t, b, b.token(t, ann))
	created := a.create(t, 1)
	next(t, watchA, created.ID, pending)
	next(t, watchB, created.ID, pending)
	if _, err := b.client.GetApproval(as(t.Context(), b.token(t, ann)), &bollardv1.GetApprovalRequest{ApprovalId: created.ID}); err != nil {
		t.Fatalf("read through B: %v", err)
	}
	if _, err := b.client.Approve(as(t.Context(), b.token(t, bob)), &bollardv1.ApproveRequest{ApprovalId: created.ID}); err != nil {
		t.Fatalf("approved through B: %v", err)
	}
	next(t, watchA, created.ID, approved)
	next(t, watchB, created.ID, approved)
	if _, err := a.client.Approve(as(t.Context(), a.token(t, ann)), &bollardv1.ApproveRequest{ApprovalId: created.ID}); err == nil {
		t.Fatal("a second approval through A counted")
	} else {
		wantStatus(t, err, codes.FailedPrecondition, ReasonNotPending)
	}
}

// With the shared store unreachable every RPC that reads or decides an
// approval is UNAVAILABLE STATE_UNAVAILABLE, a watch ends so (to be
// opened again), and a refused vote is recorded as such.
func TestSharedStoreUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	h := newSharedHarness(t, openState(t, srv))
	a := h.create(t, 1)
	stream := watch(t, h, h.token(t, ann))
	next(t, stream, a.ID, pending)
	srv.Stop()

	ctx := as(t.Context(), h.token(t, ann))
	_, err := h.client.ListApprovals(ctx, &bollardv1.ListApprovalsRequest{})
	wantStatus(t, err, codes.Unavailable, ReasonStateUnavailable)
	_, err = h.client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: a.ID})
	wantStatus(t, err, codes.Unavailable, ReasonStateUnavailable)
	_, err = h.client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: a.ID})
	wantStatus(t, err, codes.Unavailable, ReasonStateUnavailable)
	recs := h.records(t)
	if len(recs) != 1 || recs[0].Result != "state_unavailable" {
		t.Fatalf("records %+v, want the refused vote's", recs)
	}
	// The watch learns of nothing while the store is down; a new one
	// cannot start.
	_, err = watch(t, h, h.token(t, bob)).Recv()
	wantStatus(t, err, codes.Unavailable, ReasonStateUnavailable)
}
