package gateway

import (
	"context"
	"log/slog"
	"reflect"
	"slices"

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// decide is step 3: the enforced decision, and the shadow policy's beside
// it when one is configured. The shadow's answer is recorded and never
// changes the outcome.
func (s *Server) decide(ctx context.Context, out *outcome) {
	in := s.input(out)
	out.decision = s.decider.Decide(ctx, in)
	if s.shadow == nil {
		return
	}
	sd := s.shadow.Decide(ctx, in)
	diff := difference(out.decision, sd)
	out.shadow = &telemetry.ShadowDecide{Revision: sd.Revision, Allow: sd.Allow, DenyCodes: denyCodes(sd), Difference: diff}
	s.inst.ShadowDecision(ctx, diff)
	if diff != telemetry.ShadowSame {
		s.log.LogAttrs(ctx, slog.LevelInfo, "shadow policy decided differently",
			slog.String("decision_id", out.decision.ID), slog.String("agent", out.identity.ID),
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
// trying a policy out, not for running without one.
func (s *Server) dryRun(ctx context.Context, out *outcome) bool {
	if !s.dryRunAgents[out.identity.ID] {
		return false
	}
	for _, r := range out.decision.Deny {
		if r.Code == decision.CodePolicyError {
			return false
		}
	}
	s.inst.DryRunOverride(ctx, out.call.Action.Name)
	s.log.LogAttrs(ctx, slog.LevelWarn, "dry-run: policy denial not enforced",
		slog.String("decision_id", out.decision.ID), slog.String("agent", out.identity.ID),
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
