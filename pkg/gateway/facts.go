package gateway

import (
	"context"
	"fmt"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/impact"
	"github.com/bollard-dev/bollard/pkg/target"
)

// TargetResolver reports what a call changes, with the facts only Okta
// knows (pkg/target): a user's groups and admin roles, a group's roles,
// a session's user. It returns nil for a call that changes nothing; a
// failed lookup is reported inside the result (resolved: false), so that
// the policy denies. Its only error is the agent's budget refusing a
// lookup (target.Lookup.Spend).
type TargetResolver interface {
	Facts(ctx context.Context, call *catalog.Call, lk target.Lookup) (map[string]any, error)
}

// held is a destructive call's hold on its agent's impact counter, from
// before the final decision until the call is cleared to go to Okta (or
// not).
type held struct{ h impact.Hold }

// sent counts the call and releases the counter. An error means the call
// was not counted (a shared store that cannot take it) and must not go.
func (h held) sent() error {
	if h.h == nil {
		return nil
	}
	if err := h.h.Done(true); err != nil {
		return fmt.Errorf("impact counter: %w", err)
	}
	return nil
}

// release lets go without counting; after sent it does nothing. A shared
// hold it cannot release ends with its lease.
func (h held) release() {
	if h.h != nil {
		_ = h.h.Done(false)
	}
}

// needsLookup reports whether the call's decision needs facts read at
// Okta, and so two stages.
func (s *Server) needsLookup(call *catalog.Call) bool {
	return s.target != nil && target.Needs(call)
}

// targetFacts is input.context.target for the call: looked up at Okta
// with the call's decision id, each request taken from the agent's budget.
// Without a resolver it is nil, and a policy that needs it denies.
func (s *Server) targetFacts(ctx context.Context, out *outcome) (map[string]any, error) {
	if s.target == nil {
		return nil, nil
	}
	return s.target.Facts(ctx, out.call, target.Lookup{DecisionID: out.id, Spend: func() error { return s.spend(ctx, out) }})
}

// hold takes the agent's impact counter for a destructive call that may go
// to Okta, so that concurrent calls are decided one after the other against
// up-to-date counts, and returns the counts the decision sees. It is taken
// after any lookup: no call to Okta runs under it (with a shared store,
// taking it is one round trip there). The caller releases it.
func (s *Server) hold(ctx context.Context, out *outcome, checkOnly bool) (held, impact.Counts, error) {
	if !out.call.Action.Destructive || checkOnly {
		return held{}, s.impact.Counts(out.identity.ID), nil
	}
	h, err := s.impact.Hold(ctx, out.identity.ID)
	if err != nil {
		return held{}, impact.Counts{}, fmt.Errorf("impact counter: %w", err)
	}
	return held{h}, h.Counts(), nil
}

// factsContext is input.context: the counts, and the target when there is
// one.
func factsContext(c impact.Counts, facts map[string]any) map[string]any {
	m := map[string]any{"counts": countsContext(c)}
	if facts != nil {
		m["target"] = facts
	}
	return m
}

// countsContext is input.context.counts.
func countsContext(c impact.Counts) map[string]any {
	return map[string]any{"destructive": map[string]any{"hour": c.Hour, "day": c.Day}}
}
