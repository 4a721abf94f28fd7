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
type held struct{ p *impact.Pending }

// sent counts the call and releases the counter.
func (h held) sent() {
	if h.p != nil {
		h.p.Done(true)
	}
}

// release lets go without counting; after sent it does nothing.
func (h held) release() {
	if h.p != nil {
		h.p.Done(false)
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
// after any lookup: no network call runs under it. The caller releases it.
func (s *Server) hold(out *outcome, checkOnly bool) (held, impact.Counts, error) {
	if !out.call.Action.Destructive || checkOnly {
		return held{}, s.impact.Counts(out.identity.ID), nil
	}
	p, err := s.impact.Begin(out.identity.ID)
	if err != nil {
		return held{}, impact.Counts{}, fmt.Errorf("impact counter: %w", err)
	}
	return held{p}, p.Counts(), nil
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
