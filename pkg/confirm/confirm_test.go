package confirm

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func binding(t *testing.T, agent, action string, params map[string]any) Binding {
	t.Helper()
	h, err := HashParams(params)
	if err != nil {
		t.Fatal(err)
	}
	return Binding{Agent: agent, Action: action, ParamsHash: h}
}

func TestRedeem(t *testing.T) {
	base := binding(t, "helpdesk-bot", "user_lifecycle.deactivate", map[string]any{"userId": "00u1"})
	tests := []struct {
		name    string
		redeem  Binding
		advance time.Duration
		want    error
	}{
		{name: "same request", redeem: base},
		{name: "other parameters", redeem: binding(t, "helpdesk-bot", "user_lifecycle.deactivate", map[string]any{"userId": "00u2"}), want: ErrMismatch},
		{name: "other action", redeem: binding(t, "helpdesk-bot", "user_lifecycle.suspend", map[string]any{"userId": "00u1"}), want: ErrMismatch},
		{name: "other agent", redeem: binding(t, "reader-bot", "user_lifecycle.deactivate", map[string]any{"userId": "00u1"}), want: ErrMismatch},
		{name: "expired", redeem: base, advance: 5 * time.Minute, want: ErrExpired},
		{name: "just before expiry", redeem: base, advance: 5*time.Minute - time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
			s := New(WithClock(c.now))
			token, expires, err := s.Issue(base, "d-test")
			if err != nil {
				t.Fatal(err)
			}
			if !expires.Equal(c.now().Add(5 * time.Minute)) {
				t.Errorf("expires = %v", expires)
			}
			c.advance(tc.advance)
			if _, err := s.Redeem(token, tc.redeem); !errors.Is(err, tc.want) {
				t.Fatalf("Redeem = %v, want %v", err, tc.want)
			}
			// Whatever the outcome, the token is consumed.
			if _, err := s.Redeem(token, base); !errors.Is(err, ErrInvalid) {
				t.Fatalf("second Redeem = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestRedeemRejectsGarbage(t *testing.T) {
	s := New()
	b := binding(t, "a", "users.delete", nil)
	for _, tok := range []string{"", "bct_", "bct_nope", "xyz", strings.Repeat("bct_", 100)} {
		if _, err := s.Redeem(tok, b); !errors.Is(err, ErrInvalid) {
			t.Errorf("Redeem(%q) = %v, want ErrInvalid", tok, err)
		}
	}
}

func TestHashParamsIsCanonical(t *testing.T) {
	a, _ := HashParams(map[string]any{"userId": "00u1", "sendEmail": false})
	b, _ := HashParams(map[string]any{"sendEmail": false, "userId": "00u1"})
	c, _ := HashParams(map[string]any{"sendEmail": true, "userId": "00u1"})
	if a != b {
		t.Error("hash depends on key order")
	}
	if a == c {
		t.Error("hash ignores a value")
	}
}

func TestLimits(t *testing.T) {
	c := &clock{t: time.Now()}
	s := New(WithLimits(3, 2), WithClock(c.now))
	b := binding(t, "a", "users.delete", nil)
	for i := 0; i < 2; i++ {
		if _, _, err := s.Issue(b, "d-test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Issue(b, "d-test"); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("third token for one agent: %v", err)
	}
	other := binding(t, "b", "users.delete", nil)
	if _, _, err := s.Issue(other, "d-test"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Issue(binding(t, "c", "users.delete", nil), "d-test"); !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("token over the total: %v", err)
	}
	// Expired tokens free their place.
	c.advance(6 * time.Minute)
	if _, _, err := s.Issue(b, "d-test"); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if got := s.Pending(); got != 1 {
		t.Errorf("Pending = %d, want 1", got)
	}
}

func TestConcurrentRedeemIsSingleUse(t *testing.T) {
	s := New()
	b := binding(t, "a", "users.delete", map[string]any{"userId": "00u1"})
	token, _, err := s.Issue(b, "d-test")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Redeem(token, b); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1", ok)
	}
}

func TestRevoke(t *testing.T) {
	base := binding(t, "helpdesk-bot", "user_lifecycle.deactivate", map[string]any{"userId": "00u1"})
	tests := []struct {
		name    string
		revoke  Binding
		want    error
		revoked bool
	}{
		{name: "same binding", revoke: base, revoked: true},
		{name: "other agent", revoke: binding(t, "reader-bot", "user_lifecycle.deactivate", map[string]any{"userId": "00u1"}), want: ErrMismatch},
		{name: "other action", revoke: binding(t, "helpdesk-bot", "user_lifecycle.suspend", map[string]any{"userId": "00u1"}), want: ErrMismatch},
		{name: "other parameters", revoke: binding(t, "helpdesk-bot", "user_lifecycle.deactivate", map[string]any{"userId": "00u2"}), want: ErrMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := New()
			token, _, err := s.Issue(base, "d-test")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Revoke(token, tc.revoke); !errors.Is(err, tc.want) {
				t.Fatalf("Revoke = %v, want %v", err, tc.want)
			}
			if !tc.revoked {
				// A wrong binding leaves the token to its owner.
				if got := s.Pending(); got != 1 {
					t.Fatalf("Pending = %d after a refused revoke, want 1", got)
				}
				if _, err := s.Redeem(token, base); err != nil {
					t.Fatalf("the owner's Redeem after a refused revoke = %v", err)
				}
				return
			}
			if got := s.Pending(); got != 0 {
				t.Errorf("Pending = %d after revoke, want 0", got)
			}
			// Idempotent: again, and on a redeemed or unknown token.
			if err := s.Revoke(token, base); err != nil {
				t.Errorf("second Revoke = %v", err)
			}
			if _, err := s.Redeem(token, base); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Redeem of a revoked token = %v, want ErrInvalid", err)
			}
		})
	}
	s := New()
	for _, tok := range []string{"", "bct_nope", strings.Repeat("bct_", 100)} {
		if err := s.Revoke(tok, base); err != nil {
			t.Errorf("Revoke(%q) = %v, want nil", tok, err)
		}
	}
}

// TestRevokeFreesThePlace: an agent that is refused again and again does
// not run out of pending places when each token is revoked.
func TestRevokeFreesThePlace(t *testing.T) {
	s := New(WithLimits(10, 2))
	b := binding(t, "a", "users.delete", map[string]any{"userId": "00u1"})
	for i := range 5 {
		token, _, err := s.Issue(b, "d-test")
		if err != nil {
			t.Fatalf("Issue #%d: %v", i+1, err)
		}
		if err := s.Revoke(token, b); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Pending(); got != 0 {
		t.Errorf("Pending = %d, want 0", got)
	}
}

// Redeem names the call the token was issued by, so that the confirmed
// call's record can link to the call that required the confirmation.
func TestRedeemNamesTheIssuingCall(t *testing.T) {
	s := New()
	b := binding(t, "helpdesk-bot", "user_lifecycle.deactivate", map[string]any{"userId": "00u1"})
	tok, _, err := s.Issue(b, "dec-required")
	if err != nil {
		t.Fatal(err)
	}
	if by, err := s.Redeem(tok, b); err != nil || by != "dec-required" {
		t.Fatalf("Redeem = %q, %v; want the issuing decision id", by, err)
	}
	if by, err := s.Redeem(tok, b); !errors.Is(err, ErrInvalid) || by != "" {
		t.Errorf("a second Redeem = %q, %v; want ErrInvalid and no id", by, err)
	}
}
