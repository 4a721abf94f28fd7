package approval

import (
	"context"
	"time"
)

// Claim reports whether the caller is the first to claim the approval for
// purpose (a notification, say): true once per approval and purpose in
// this process, or, with a shared store, once across the fleet, so that N
// replicas watching the same approvals announce each one once. It is kept
// until the approval is forgotten. With a shared store that cannot be
// reached it answers false and an error wrapping state.ErrUnavailable:
// better a notification late than twice.
func (s *Store) Claim(purpose string, a Approval) (bool, error) {
	ttl := time.Until(a.Expires) + keepFinal
	if ttl < time.Second {
		ttl = time.Second
	}
	if s.shared != nil {
		ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
		defer cancel()
		ok, err := s.shared.Client().SetNX(ctx, s.key("claim", purpose, a.ID), "1", ttl).Result()
		if err != nil {
			return false, s.unavailable("claim", err)
		}
		return ok, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claims == nil {
		s.claims = map[string]time.Time{}
	}
	now := s.now()
	for k, until := range s.claims {
		if now.After(until) {
			delete(s.claims, k)
		}
	}
	k := purpose + "\x00" + a.ID
	if _, taken := s.claims[k]; taken {
		return false, nil
	}
	s.claims[k] = now.Add(ttl)
	return true, nil
}
