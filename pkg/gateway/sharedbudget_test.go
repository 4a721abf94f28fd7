package gateway

import (
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// sidecarsSharing returns n sidecars whose budgets (reader-bot: 5 a
// minute) live in srv, each with its own connection, as n replicas have.
// The store's clock is stopped at one instant: a minute's window is not
// waited on.
func sidecarsSharing(t *testing.T, srv *redistest.Server, n int, whenUnavailable string) ([]*harness, []*state.Store) {
	t.Helper()
	at := time.Unix(1_790_000_000, 0)
	var hs []*harness
	var stores []*state.Store
	cfg := srv.Config() // one prefix for the fleet: each call makes a new one
	for range n {
		st, err := state.Open(t.Context(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		b := budget.NewShared(st, budget.New(0, map[string]int{"reader-bot": 5}),
			budget.WithStoreClock(func() time.Time { return at }), budget.WithWhenUnavailable(whenUnavailable))
		hs = append(hs, newHarness(t, func(o *harnessOption) { o.gwOpts = append(o.gwOpts, WithBudget(b)) }))
		stores = append(stores, st)
	}
	return hs, stores
}

// TestSharedBudgetHoldsAcrossThreeSidecars: 15 concurrent calls of an
// agent with a budget of 5 a minute, spread over three sidecars that share
// one store: exactly 5 reach Okta, the other 10 are refused as Bollard's
// budget with a RetryInfo of one call's worth (12s).
func TestSharedBudgetHoldsAcrossThreeSidecars(t *testing.T) {
	srv := redistest.Start(t)
	hs, _ := sidecarsSharing(t, srv, 3, config.UnavailableDenyShared)
	req := &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})}
	var mu sync.Mutex
	var wg sync.WaitGroup
	okCalls, refused := 0, 0
	for i := range 15 {
		wg.Go(func() {
			_, err := hs[i%3].client.Execute(as(t.Context(), devKey("reader-bot")), req)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				okCalls++
			case status.Code(err) == codes.ResourceExhausted && errorInfo(t, err).Reason == ReasonAgentBudgetExceeded:
				refused++
				if d := retryDelay(err); d != 12*time.Second {
					t.Errorf("retry after %v, want 12s", d)
				}
			default:
				t.Errorf("unexpected %v", err)
			}
		})
	}
	wg.Wait()
	reached := 0
	for _, h := range hs {
		reached += len(h.sim.Requests())
	}
	if okCalls != 5 || refused != 10 || reached != 5 {
		t.Errorf("%d allowed, %d refused, %d reached Okta; want 5, 10, 5", okCalls, refused, reached)
	}
}

// TestSharedBudgetStoreDown: with the store killed, deny_all refuses a
// budgeted call with STATE_UNAVAILABLE before Okta; deny_shared serves it
// under the sidecar's own budget. An agent without a budget is served
// either way.
func TestSharedBudgetStoreDown(t *testing.T) {
	req := &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})}
	for mode, want := range map[string]codes.Code{config.UnavailableDenyAll: codes.Unavailable, config.UnavailableDenyShared: codes.OK} {
		t.Run(mode, func(t *testing.T) {
			srv := redistest.Start(t)
			hs, _ := sidecarsSharing(t, srv, 1, mode)
			h := hs[0]
			srv.Stop()
			_, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), req)
			if status.Code(err) != want {
				t.Fatalf("store down, %s: %v, want %v", mode, err, want)
			}
			if want != codes.OK {
				if r := errorInfo(t, err).Reason; r != ReasonStateUnavailable {
					t.Errorf("reason %s, want %s", r, ReasonStateUnavailable)
				}
				if n := len(h.sim.Requests()); n != 0 {
					t.Errorf("%d requests reached Okta", n)
				}
			}
			if _, err := h.client.Execute(as(t.Context(), devKey("helpdesk-bot")), req); err != nil {
				t.Errorf("an agent without a budget, store down: %v", err)
			}
		})
	}
}

func retryDelay(err error) time.Duration {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.RetryDelay.AsDuration()
		}
	}
	return -1
}
