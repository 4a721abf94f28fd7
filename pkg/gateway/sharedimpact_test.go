package gateway

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/impact"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// fleet is three sidecars of one agent: one Okta org, one Redis, each
// replica with its own connection to it, its own gRPC server, its own
// confirmation store (an agent redeems a token where it got it).
type fleet struct {
	sim      *oktasim.Sim
	replicas []*harness
}

func newFleet(t *testing.T, srv *redistest.Server, users int) *fleet {
	t.Helper()
	sim := oktasim.New(oktasim.WithAPIToken("sim-token"), oktasim.WithExtraUsers(users))
	okta := httptest.NewServer(sim.Handler())
	t.Cleanup(okta.Close)
	f := &fleet{sim: sim}
	cfg := srv.Config() // one prefix for the fleet
	for range 3 {
		fwd, err := forward.New(okta.URL, forward.WithAPIToken("sim-token"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := state.Open(t.Context(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f.replicas = append(f.replicas, newHarness(t, func(o *harnessOption) { o.forwarder = fwd },
			withGateway(WithImpactCounter(impact.NewShared(st)))))
	}
	return f
}

// deletes are the users.delete calls that reached Okta (not Bollard's own
// lookups).
func (f *fleet) deletes() int {
	n := 0
	for _, r := range f.sim.Requests() {
		if r.Method == "DELETE" && strings.HasPrefix(r.Path, "/api/v1/users/") && !strings.HasSuffix(r.UserAgent, " lookup") {
			n++
		}
	}
	return n
}

// deleteUser is provisioner-bot deleting a user through replica h, with
// the confirmation the shipped policy asks for.
func deleteUser(ctx context.Context, h *harness, user string) error {
	ctx = as(ctx, devKey("provisioner-bot"))
	req := &bollardv1.ExecuteRequest{Action: "users.delete", Params: structOf(map[string]any{"userId": user})}
	_, err := h.client.Execute(ctx, req)
	if reasonOf(err) != ReasonConfirmationRequired {
		return err
	}
	req.Confirmation = infoOf(err).GetMetadata()["confirmation_token"]
	_, err = h.client.Execute(ctx, req)
	return err
}

// structOf is params for a goroutine, where a test must not stop: the
// parameters are this file's own, always valid.
func structOf(m map[string]any) *structpb.Struct {
	s, _ := structpb.NewStruct(m)
	return s
}

func infoOf(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei
		}
	}
	return nil
}

// The shipped policy limits provisioner-bot to 5 destructive calls an
// hour. 15 racing deletes spread over three replicas sharing one Redis:
// exactly 5 reach Okta, the other 10 are denied with the impact limit.
func TestImpactLimitHoldsAcrossAFleet(t *testing.T) {
	srv := redistest.Start(t)
	f := newFleet(t, srv, 15)
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]int{}
	for i := range 15 {
		h := f.replicas[i%3]
		wg.Go(func() {
			err := deleteUser(t.Context(), h, oktasim.ExtraUserID(i))
			got := "ok"
			switch {
			case err == nil:
			case status.Code(err) == codes.PermissionDenied && strings.Contains(infoOf(err).GetMetadata()["deny_codes"], "impact_limit"):
				got = "impact_limit"
			default:
				got = err.Error()
			}
			mu.Lock()
			results[got]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if results["ok"] != 5 || results["impact_limit"] != 10 || len(results) != 2 {
		t.Fatalf("results %v, want 5 ok and 10 impact_limit", results)
	}
	if n := f.deletes(); n != 5 {
		t.Fatalf("%d deletes reached Okta, want exactly 5", n)
	}
}

// Redis killed mid-test: a destructive call is refused with
// STATE_UNAVAILABLE and never reaches Okta, reads go on; restarted, the
// counts start again from what was counted after it (the store came back
// empty), and the refused calls were never counted.
func TestImpactWithTheStoreKilledAndRestarted(t *testing.T) {
	srv := redistest.Start(t)
	f := newFleet(t, srv, 10)
	a, b := f.replicas[0], f.replicas[1]
	for i := range 2 {
		if err := deleteUser(t.Context(), a, oktasim.ExtraUserID(i)); err != nil {
			t.Fatal(err)
		}
	}
	srv.Stop()
	for _, h := range []*harness{a, b} {
		err := deleteUser(t.Context(), h, oktasim.ExtraUserID(2))
		if status.Code(err) != codes.Unavailable || reasonOf(err) != ReasonStateUnavailable {
			t.Fatalf("delete with the store down: %v, want UNAVAILABLE/%s", err, ReasonStateUnavailable)
		}
	}
	if _, err := b.client.Execute(as(t.Context(), devKey("provisioner-bot")), &bollardv1.ExecuteRequest{Action: "users.list"}); err != nil {
		t.Fatalf("a read with the store down: %v", err)
	}
	if n := f.deletes(); n != 2 {
		t.Fatalf("%d deletes reached Okta, want the 2 before the store went", n)
	}
	srv.Restart()
	// The limit of 5 counts from the restart: 5 more go, the sixth is
	// denied, through whichever replica.
	for i := range 6 {
		err := deleteUser(t.Context(), f.replicas[i%3], oktasim.ExtraUserID(2+i))
		if i < 5 && err != nil {
			t.Fatalf("delete %d after the restart: %v", i+1, err)
		}
		if i == 5 && !strings.Contains(infoOf(err).GetMetadata()["deny_codes"], "impact_limit") {
			t.Fatalf("sixth delete after the restart: %v, want the impact limit", err)
		}
	}
	if n := f.deletes(); n != 7 {
		t.Errorf("%d deletes reached Okta, want 7", n)
	}
}
