package gateway

import (
	"net/http/httptest"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// approvalFleet is three sidecars of one agent sharing one Okta org and
// one Redis, each with its own connection and its own store of approvals
// on it: what a person decides through one replica's store holds on all.
func approvalFleet(t *testing.T, srv *redistest.Server) (sim *oktasim.Sim, replicas []*harness, stores []*approval.Store) {
	t.Helper()
	sim = oktasim.New(oktasim.WithAPIToken("sim-token"))
	okta := httptest.NewServer(sim.Handler())
	t.Cleanup(okta.Close)
	for range 3 {
		fwd, err := forward.New(okta.URL, forward.WithAPIToken("sim-token"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := state.Open(t.Context(), srv.Config(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		store := approval.New(approval.WithShared(st))
		t.Cleanup(func() { store.Close() })
		stores = append(stores, store)
		replicas = append(replicas, newHarness(t, func(o *harnessOption) { o.forwarder = fwd },
			withDecider(approvalPolicy{Decider: sharedEngine(t)}), withGateway(WithApprovalStore(store))))
	}
	return sim, replicas, stores
}

// The agent asks through replica A and waits through B; a person approves
// through C's store; B's wait ends approved; the call runs once through
// C, and a replay through A is refused: the approval is used fleet-wide.
func TestApprovalAcrossAFleet(t *testing.T) {
	srv := redistest.Start(t)
	sim, r, stores := approvalFleet(t, srv)
	ctx := as(t.Context(), devKey("provisioner-bot"))
	req := deleteRequest(t, oktasim.SeedUserBob)
	_, err := r[0].client.Execute(ctx, req)
	id := wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalPending).Metadata["approval_id"]

	stream, err := r[1].client.WaitApproval(ctx, &bollardv1.WaitApprovalRequest{ApprovalId: id})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := stream.Recv(); err != nil || m.GetState() != bollardv1.ApprovalState_APPROVAL_STATE_PENDING {
		t.Fatalf("waiting through B: %v, %v", m, err)
	}
	if _, err := stores[2].Vote(id, securityEngineer, true, "ok"); err != nil {
		t.Fatal(err)
	}
	done := make(chan *bollardv1.WaitApprovalResponse, 1)
	go func() { m, _ := stream.Recv(); done <- m }()
	select {
	case m := <-done:
		if m.GetState() != bollardv1.ApprovalState_APPROVAL_STATE_APPROVED {
			t.Fatalf("B's wait ended %v, want approved", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("B's wait did not learn of the approval given through C")
	}

	req.ApprovalId = id
	if _, err := r[2].client.Execute(ctx, req); err != nil {
		t.Fatalf("the approved call through C: %v", err)
	}
	_, err = r[0].client.Execute(ctx, req)
	if ei := wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalInvalid); ei.Metadata["detail"] != "unknown_or_used" {
		t.Errorf("a replay through A: detail %q, want unknown_or_used", ei.Metadata["detail"])
	}
	n := 0
	for _, q := range sim.Requests() {
		if q.Method == "DELETE" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d deletes reached Okta, want 1", n)
	}
}

// With the store of approvals unreachable, a call that needs an approval
// is refused with STATE_UNAVAILABLE (never as an unknown approval), with
// or without its id, and so is a wait; nothing reaches Okta.
func TestApprovalStoreUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	sim, r, stores := approvalFleet(t, srv)
	ctx := as(t.Context(), devKey("provisioner-bot"))
	req := deleteRequest(t, oktasim.SeedUserBob)
	_, err := r[0].client.Execute(ctx, req)
	id := wantStatus(t, err, codes.FailedPrecondition, ReasonApprovalPending).Metadata["approval_id"]
	if _, err := stores[1].Vote(id, securityEngineer, true, "ok"); err != nil {
		t.Fatal(err)
	}
	srv.Stop()

	_, err = r[1].client.Execute(ctx, deleteRequest(t, oktasim.SeedUserAlice))
	wantStatus(t, err, codes.Unavailable, ReasonStateUnavailable)
	req.ApprovalId = id
	_, err = r[2].client.Execute(ctx, req)
	wantStatus(t, err, codes.Unavailable, ReasonStateUnavailable)
	stream, err := r[0].client.WaitApproval(ctx, &bollardv1.WaitApprovalRequest{ApprovalId: id})
	if err == nil {
		_, err = stream.Recv()
	}
	wantStatus(t, err, codes.Unavailable, ReasonStateUnavailable)
	for _, q := range sim.Requests() {
		if q.Method == "DELETE" {
			t.Errorf("a delete reached Okta while the store was down: %v", q)
		}
	}
	if status.Code(err) == codes.NotFound {
		t.Error("an unreachable store read as an unknown approval")
	}
}
