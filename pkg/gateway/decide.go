package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// decide is step 3: the decision, in two stages when the call changes
// objects whose facts only Okta knows. The first stage decides everything
// that needs no lookup (grants, action lists, hours, limits, the team's own
// rules); only when it allows are the facts looked up (with the call's
// decision id, from the agent's budget) and the second stage decided on
// them, against the same policy revision. Any other call is decided in one
// stage. A destructive call that may go to Okta holds its agent's impact
// counter from before the final stage, with what it was decided on; the
// caller counts (count) or releases it.
func (s *Server) decide(ctx context.Context, out *outcome, checkOnly bool) (held, error) {
	in := s.input(out)
	if !s.needsLookup(out.call) {
		facts, err := s.targetFacts(ctx, out) // apps and policies by id: no Okta call
		if err != nil {
			return held{}, err
		}
		h, counts, err := s.hold(ctx, out, checkOnly)
		if err != nil {
			return held{}, err
		}
		in.Stage, in.Context = decision.StageFull, factsContext(counts, facts)
		s.decideFinal(ctx, out, in)
		h.in, h.facts = in, facts
		return h, nil
	}
	in.Stage, in.Context = decision.StageGrant, factsContext(s.impact.Counts(out.identity.ID), nil)
	first := s.decider.Decide(ctx, in)
	out.decision, out.context = first, in.Context
	if !first.Allow && !s.dryRunAgents[out.identity.ID] {
		// Denied before anything is read at Okta. (A dry-run agent's call
		// goes ahead, so its facts are looked up and everything decided.)
		s.shadowDecide(ctx, out, in)
		return held{}, nil
	}
	// The lookups are Bollard's own reads at Okta: none while no record of
	// the call could be kept.
	if s.audit != nil {
		if err := s.audit.Ready(); err != nil {
			return held{}, fmt.Errorf("%w: %w", errAuditUnavailable, err)
		}
	}
	facts, err := s.targetFacts(ctx, out)
	if err != nil {
		return held{}, err
	}
	h, counts, err := s.hold(ctx, out, checkOnly)
	if err != nil {
		return held{}, err
	}
	in.Stage, in.After, in.Context = decision.StageEffect, &first, factsContext(counts, facts)
	s.decideFinal(ctx, out, in)
	out.decision.Duration += first.Duration // the metric counts both stages
	h.in, h.facts = in, facts
	return h, nil
}

// decideFinal makes the decision that rules the call, with the shadow
// policy's beside it.
func (s *Server) decideFinal(ctx context.Context, out *outcome, in decision.Input) {
	out.decision, out.context = s.decider.Decide(ctx, in), in.Context
	s.shadowDecide(ctx, out, in)
}

// shadowDecide asks the shadow policy, when one is configured, about the
// same input: everything at once when the facts are in it, the first stage
// when the call was denied before they were looked up. Its answer is
// recorded and never changes the outcome.
func (s *Server) shadowDecide(ctx context.Context, out *outcome, in decision.Input) {
	if s.shadow == nil {
		return
	}
	if in.Stage != decision.StageGrant {
		in.Stage, in.After = decision.StageFull, nil
	}
	sd := s.shadow.Decide(ctx, in)
	diff := difference(out.decision, sd)
	out.shadow = &telemetry.ShadowDecide{Revision: sd.Revision, Allow: sd.Allow, DenyCodes: denyCodes(sd), Difference: diff}
	s.inst.ShadowDecision(ctx, diff)
	if diff != telemetry.ShadowSame {
		s.log.LogAttrs(ctx, slog.LevelInfo, "shadow policy decided differently",
			slog.String("decision_id", out.id), slog.String("agent", out.identity.ID),
			slog.String("action", out.call.Action.Name), slog.String("difference", diff),
			slog.String("revision", out.decision.Revision), slog.String("shadow_revision", sd.Revision),
			slog.Any("deny_codes", denyCodes(out.decision)), slog.Any("shadow_deny_codes", out.shadow.DenyCodes))
	}
}

// difference names how the shadow's decision differs from the enforced one.
func difference(enforced, shadow decision.Decision) string {
	switch {
	case enforced.Allow && !shadow.Allow:
		return telemetry.ShadowAllowToDeny
	case !enforced.Allow && shadow.Allow:
		return telemetry.ShadowDenyToAllow
	case !slices.Equal(denyCodes(enforced), denyCodes(shadow)):
		return telemetry.ShadowReasons
	case enforced.Obligations.RequireConfirmation != shadow.Obligations.RequireConfirmation,
		!reflect.DeepEqual(enforced.Obligations.Extra, shadow.Obligations.Extra):
		return telemetry.ShadowObligations
	}
	return telemetry.ShadowSame
}

// dryRun reports whether a denied call goes ahead because its agent is in
// dry-run. A policy that gave no usable answer still denies: dry-run is for
// trying a policy out, not for running without one; and so does a query on
// a hidden attribute, which would hand the agent what policy hides.
func (s *Server) dryRun(ctx context.Context, out *outcome) bool {
	if !s.dryRunAgents[out.identity.ID] {
		return false
	}
	for _, r := range out.decision.Deny {
		if r.Code == decision.CodePolicyError || r.Code == CodeHiddenField {
			return false
		}
	}
	s.inst.DryRunOverride(ctx, out.call.Action.Name)
	s.log.LogAttrs(ctx, slog.LevelWarn, "dry-run: policy denial not enforced",
		slog.String("decision_id", out.id), slog.String("agent", out.identity.ID),
		slog.String("action", out.call.Action.Name), slog.Any("deny_codes", denyCodes(out.decision)))
	return true
}

// shadowRecord is the shadow decision as the audit record keeps it.
func shadowRecord(sh *telemetry.ShadowDecide) *audit.Shadow {
	if sh == nil {
		return nil
	}
	return &audit.Shadow{Revision: sh.Revision, Allow: sh.Allow, DenyCodes: sh.DenyCodes, Differs: sh.Difference != telemetry.ShadowSame}
}
