package confirm_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// fleet is n confirmation stores, one per replica, sharing srv.
func fleet(t *testing.T, srv *redistest.Server, n int, opts ...confirm.Option) []*confirm.Store {
	t.Helper()
	st, err := state.Open(t.Context(), srv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	stores := make([]*confirm.Store, n)
	for i := range stores {
		stores[i] = confirm.New(append([]confirm.Option{confirm.WithShared(st)}, opts...)...)
	}
	return stores
}

func binding(agent string) confirm.Binding {
	h, _ := confirm.HashParams(map[string]any{"userId": "00u1"})
	return confirm.Binding{Agent: agent, Action: "user_lifecycle.deactivate", ParamsHash: h}
}

// TestSharedTokenIsSingleUseAcrossTheFleet: a token issued on replica A is
// redeemed exactly once, whichever replicas race for it, and then is gone
// everywhere.
func TestSharedTokenIsSingleUseAcrossTheFleet(t *testing.T) {
	srv := redistest.Start(t)
	stores := fleet(t, srv, 3)
	b := binding("helpdesk-bot")
	// Issued on one replica, redeemed on another.
	tok, _, err := stores[0].Issue(b, "d-test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stores[1].Redeem(tok, b); err != nil {
		t.Fatalf("a token issued on A, redeemed on B: %v", err)
	}
	for round := range 20 {
		tok, _, err := stores[round%3].Issue(b, "d-test")
		if err != nil {
			t.Fatal(err)
		}
		var ok, invalid atomic.Int32
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				switch _, err := stores[i%3].Redeem(tok, b); {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, confirm.ErrInvalid):
					invalid.Add(1)
				default:
					t.Errorf("redeem: %v", err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 || invalid.Load() != 11 {
			t.Fatalf("round %d: %d redeemed, %d refused; want 1 and 11", round, ok.Load(), invalid.Load())
		}
	}
	if n := stores[0].Pending(); n != 0 {
		t.Errorf("%d pending after every token was used", n)
	}
}

// TestSharedTokenKeepsItsBinding: another agent or other parameters cannot
// use a token (and using it that way spends it, as in one process); only
// its own binding revokes it; limits hold for the fleet.
func TestSharedTokenKeepsItsBinding(t *testing.T) {
	srv := redistest.Start(t)
	stores := fleet(t, srv, 3, confirm.WithLimits(100, 2))
	a, b := stores[0], stores[1]
	own := binding("helpdesk-bot")

	tok, _, err := a.Issue(own, "d-test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Redeem(tok, binding("reader-bot")); !errors.Is(err, confirm.ErrMismatch) {
		t.Errorf("another agent's redeem: %v, want ErrMismatch", err)
	}
	if _, err := a.Redeem(tok, own); !errors.Is(err, confirm.ErrInvalid) {
		t.Errorf("a token tried once is spent: %v", err)
	}

	tok, _, err = a.Issue(own, "d-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Revoke(tok, binding("reader-bot")); !errors.Is(err, confirm.ErrMismatch) {
		t.Errorf("revoke with another binding: %v, want ErrMismatch", err)
	}
	if err := stores[2].Revoke(tok, own); err != nil {
		t.Errorf("revoke: %v", err)
	}
	if err := stores[2].Revoke(tok, own); err != nil {
		t.Errorf("revoke twice: %v", err)
	}
	if _, err := a.Redeem(tok, own); !errors.Is(err, confirm.ErrInvalid) {
		t.Errorf("a revoked token redeemed: %v", err)
	}

	// Two pending places per agent, for the whole fleet.
	for i := range 2 {
		if _, _, err := stores[i].Issue(own, "d-test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := stores[2].Issue(own, "d-test"); !errors.Is(err, confirm.ErrTooManyPending) {
		t.Errorf("third pending token on a third replica: %v, want ErrTooManyPending", err)
	}
	if _, _, err := stores[2].Issue(binding("other-bot"), "d-test"); err != nil {
		t.Errorf("another agent is not held by this one's limit: %v", err)
	}
	if n := a.Pending(); n != 3 {
		t.Errorf("Pending = %d, want 3", n)
	}
}

// TestSharedTokenExpires: the store drops a token at its time.
func TestSharedTokenExpires(t *testing.T) {
	srv := redistest.Start(t)
	stores := fleet(t, srv, 2, confirm.WithTTL(50*time.Millisecond))
	tok, _, err := stores[0].Issue(binding("helpdesk-bot"), "d-test")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for stores[1].Pending() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the token is still pending long after its TTL")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := stores[1].Redeem(tok, binding("helpdesk-bot")); !errors.Is(err, confirm.ErrInvalid) {
		t.Errorf("an expired token: %v, want ErrInvalid", err)
	}
}

// TestSharedTokenWithoutTheStore: with the store down no token is issued
// or accepted (never on one replica's word); when it comes back, tokens
// work again, and one issued before it went down (lost with it: no
// persistence here) is refused, not accepted.
func TestSharedTokenWithoutTheStore(t *testing.T) {
	srv := redistest.Start(t)
	stores := fleet(t, srv, 2)
	b := binding("helpdesk-bot")
	before, _, err := stores[0].Issue(b, "d-test")
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if _, _, err := stores[0].Issue(b, "d-test"); !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("issue with the store down: %v, want state.ErrUnavailable", err)
	}
	if _, err := stores[1].Redeem(before, b); !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("redeem with the store down: %v, want state.ErrUnavailable", err)
	}
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	var tok string
	for {
		if tok, _, err = stores[1].Issue(b, "d-test"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no token after the store came back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := stores[0].Redeem(tok, b); err != nil {
		t.Errorf("redeem after the restart: %v", err)
	}
	if _, err := stores[0].Redeem(before, b); !errors.Is(err, confirm.ErrInvalid) {
		t.Errorf("a token the restart lost: %v, want ErrInvalid", err)
	}
}

func BenchmarkSharedIssueRedeem(b *testing.B) {
	srv := redistest.Start(b)
	st, err := state.Open(b.Context(), srv.Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := confirm.New(confirm.WithShared(st))
	bd := binding("helpdesk-bot")
	for b.Loop() {
		tok, _, err := s.Issue(bd, "d-test")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Redeem(tok, bd); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSharedRedeemNamesTheIssuingCall: redeemed on another replica, a
// token still names the call it was issued by; one issued by a replica
// that kept no issuer (before this change, during a rolling upgrade) is
// redeemed with none, and its issuer key never outlives it.
func TestSharedRedeemNamesTheIssuingCall(t *testing.T) {
	srv := redistest.Start(t)
	stores := fleet(t, srv, 2)
	b := binding("helpdesk-bot")
	tok, _, err := stores[0].Issue(b, "dec-required")
	if err != nil {
		t.Fatal(err)
	}
	if by, err := stores[1].Redeem(tok, b); err != nil || by != "dec-required" {
		t.Fatalf("Redeem on B = %q, %v; want the issuing decision id", by, err)
	}
	tok, _, err = stores[0].Issue(b, "")
	if err != nil {
		t.Fatal(err)
	}
	if by, err := stores[1].Redeem(tok, b); err != nil || by != "" {
		t.Fatalf("Redeem of a token issued without an issuer = %q, %v", by, err)
	}
	keys, err := srv.Client().Keys(t.Context(), srv.Config().KeyPrefix+"{confirm}:by:*").Result()
	if err != nil || len(keys) != 0 {
		t.Errorf("issuer keys left after redemption: %v, %v", keys, err)
	}
}
