package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/impact"
	"github.com/bollard-dev/bollard/pkg/target"
	"github.com/bollard-dev/bollard/pkg/telemetry"
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
// not), with the final decision's input and facts, to decide it again if
// the counts move.
type held struct {
	h     impact.Hold
	in    decision.Input
	facts map[string]any
}

// release lets go without counting; after a count it does nothing.
func (h held) release() {
	if h.h != nil {
		h.h.Release()
	}
}

// maxRedecisions bounds how often one call is decided again because its
// agent's counts kept moving (other replicas counting the agent's calls
// faster than this one can count its own).
const maxRedecisions = 8

// chargeableBudget is a budget that a shared impact hold can spend in the
// same step as it counts the call (budget.Shared).
type chargeableBudget interface {
	Charge(agent string) (c budget.Charge, ok bool, wait time.Duration)
	Refused(agent string, wait time.Duration)
}

// spendAndCount spends one call of the agent's budget and, for a
// destructive call, counts it against its impact limits: cleared to go. An
// error means neither happened (or the budget was spent on a call that
// then did not go) and the call must not go. With a shared store both are
// one script, one round trip, written together or not at all.
func (s *Server) spendAndCount(ctx context.Context, out *outcome, h held) error {
	if ch, ok := h.h.(impact.ChargingHold); ok {
		if fb, ok := s.budget.(chargeableBudget); ok {
			c, has, wait := fb.Charge(out.identity.ID)
			if wait > 0 {
				return s.budgetRefused(out, wait)
			}
			if has {
				return s.count(ctx, out, h, func(ctx context.Context) error {
					wait, err := ch.CountCharging(ctx, c)
					if err == nil && wait > 0 {
						fb.Refused(out.identity.ID, wait)
						return s.budgetRefused(out, wait)
					}
					return err
				})
			}
		}
	}
	if err := s.spend(ctx, out); err != nil {
		return err
	}
	if h.h == nil {
		return nil
	}
	return s.count(ctx, out, h, h.h.Count)
}

// count counts a destructive call with try (the hold's Count); an error
// means it was not counted and must not go. With a shared store the counts
// it was decided against may have moved since: then nothing is counted and
// the final decision is made again with the agent's counts as they are.
// The same decision is counted; a denial stops the call as a denial; any
// other change (other obligations) stops it with errDecisionChanged, for
// the agent to send it again.
func (s *Server) count(ctx context.Context, out *outcome, h held, try func(context.Context) error) error {
	for range maxRedecisions {
		err := try(ctx)
		if !errors.Is(err, impact.ErrCountsMoved) {
			if err != nil && !errors.As(err, new(*budgetExceeded)) {
				return fmt.Errorf("impact counter: %w", err)
			}
			return err
		}
		prev := out.decision
		in := h.in
		in.Context = factsContext(h.h.Counts(), h.facts)
		s.decideFinal(ctx, out, in)
		out.decision.Duration += prev.Duration
		s.log.LogAttrs(ctx, slog.LevelDebug, "impact counts moved: decided again",
			slog.String("decision_id", out.id), slog.String("agent", out.identity.ID),
			slog.Bool("allow", out.decision.Allow))
		if difference(prev, out.decision) != telemetry.ShadowSame {
			if !out.decision.Allow && !out.dryRun {
				return &denyError{decision: out.decision}
			}
			return errDecisionChanged
		}
	}
	return errDecisionChanged
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
// to Okta, so that this process decides the agent's concurrent calls one
// after the other, and returns the counts the decision sees. It is taken
// after any lookup: no call to Okta runs under it (with a shared store,
// taking it is no round trip; counting is one). The caller counts or
// releases it.
func (s *Server) hold(ctx context.Context, out *outcome, checkOnly bool) (held, impact.Counts, error) {
	if !out.call.Action.Destructive || checkOnly {
		return held{}, s.impact.Counts(out.identity.ID), nil
	}
	h, err := s.impact.Hold(ctx, out.identity.ID)
	if err != nil {
		return held{}, impact.Counts{}, fmt.Errorf("impact counter: %w", err)
	}
	return held{h: h}, h.Counts(), nil
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
