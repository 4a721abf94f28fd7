package gateway

import (
	"context"
	"fmt"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/impact"
)

// TargetResolver looks up what policy needs to know about the target of a
// call (pkg/target): for destructive actions on a user, the user's groups
// and admin roles. It returns nil when the action needs nothing; a failed
// lookup is reported inside the result (resolved: false), never as an
// error, so that the policy denies.
type TargetResolver interface {
	Context(ctx context.Context, call *catalog.Call, decisionID string) map[string]any
}

// held is a destructive call's hold on its agent's impact counter, from
// before the decision until the call is cleared to go to Okta (or not).
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

// gatherFacts builds the decision input's context: the agent's recent
// destructive calls and, for actions that need it, facts about the target.
// For a destructive call that may go to Okta it holds the agent's counter,
// so that concurrent calls are decided one after the other against
// up-to-date counts; the caller must release it.
func (s *Server) gatherFacts(ctx context.Context, out *outcome, checkOnly bool) (held, error) {
	c := make(map[string]any, 2)
	// The target first: it may call Okta, and the counter is not held
	// across a network call.
	if s.target != nil {
		if t := s.target.Context(ctx, out.call, ""); t != nil {
			c["target"] = t
		}
	}
	var h held
	var counts impact.Counts
	if out.call.Action.Destructive && !checkOnly {
		p, err := s.impact.Begin(out.identity.ID)
		if err != nil {
			return held{}, fmt.Errorf("impact counter: %w", err)
		}
		h, counts = held{p}, p.Counts()
	} else {
		counts = s.impact.Counts(out.identity.ID)
	}
	c["counts"] = countsContext(counts)
	out.context = c
	return h, nil
}

// countsContext is input.context.counts.
func countsContext(c impact.Counts) map[string]any {
	return map[string]any{"destructive": map[string]any{"hour": c.Hour, "day": c.Day}}
}
