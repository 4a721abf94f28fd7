package decision

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// EventQuery is the rule the sidecar asks, for each Okta event and each
// agent watching events, whether the agent may see it. A policy without it
// shows no event to anyone.
const EventQuery = "data.bollard.events.decision"

// CodeNoEventPolicy: the policy defines no data.bollard.events.decision,
// so no event is shown.
const CodeNoEventPolicy = "no_event_policy"

var eventDecisionRef = ast.MustParseRef(EventQuery)

// EventInput is one Okta event offered to one agent (docs/policy-contract.md,
// "Event input").
type EventInput struct {
	Agent Agent
	// Type and UUID are the event's eventType and uuid.
	Type string
	UUID string
	// Event is Okta's System Log event as JSON decodes it (map[string]any),
	// passed to the policy as input.event.okta.
	Event map[string]any
	// Time is when Bollard received the event; zero means now.
	Time time.Time
}

var (
	keyType    = ast.StringTerm("type")
	keyUUID    = ast.StringTerm("uuid")
	keyKnown   = ast.StringTerm("known")
	keyOkta    = ast.StringTerm("okta")
	errNoEvent = errors.New("event has no type")
)

// DecideEvent decides whether the agent may see the event. Like Decide it
// never fails: a policy error denies, and a policy without an event rule
// denies every event with CodeNoEventPolicy.
func (e *Engine) DecideEvent(ctx context.Context, in EventInput) Decision {
	start := time.Now()
	p := e.active.Load()
	d := Decision{ID: newID(start), Revision: p.revision}
	if p.events == nil {
		d.Deny = []Reason{{Code: CodeNoEventPolicy, Message: "the policy does not decide which agent sees which event (" + EventQuery + ")"}}
		d.Duration = time.Since(start)
		return d
	}
	allow, deny, ob, err := e.evalEvent(ctx, p, in, start)
	switch {
	case err != nil:
		e.log.LogAttrs(ctx, slog.LevelError, "event policy evaluation failed",
			slog.String("decision_id", d.ID), slog.String("revision", p.revision),
			slog.String("agent", in.Agent.ID), slog.String("event_type", in.Type), slog.Any("error", err))
		d.Deny = []Reason{{Code: CodePolicyError, Message: msgPolicyError}}
	case allow && len(deny) == 0:
		d.Allow, d.Obligations = true, ob
	case len(deny) == 0:
		e.contradiction(ctx, d, "event policy denied without a reason")
		d.Deny, d.Obligations = []Reason{{Code: CodeDenied, Message: msgDenied}}, ob
	default:
		if allow {
			e.contradiction(ctx, d, "event policy allowed with reasons to deny")
		}
		d.Deny, d.Obligations = deny, ob
	}
	d.Duration = time.Since(start)
	return d
}

func (e *Engine) evalEvent(ctx context.Context, p *policySet, in EventInput, now time.Time) (allow bool, deny []Reason, ob Obligations, err error) {
	defer func() {
		if r := recover(); r != nil {
			allow, deny, ob, err = false, nil, Obligations{}, fmt.Errorf("evaluation panicked: %v", r)
		}
	}()
	input, t, err := buildEventInput(in, now)
	if err != nil {
		return false, nil, Obligations{}, fmt.Errorf("build event input: %w", err)
	}
	return e.evalQuery(ctx, *p.events, EventQuery, input, t, nil)
}

// buildEventInput makes the event input document:
//
//	{"version": 1, "agent": {...}, "event": {"type", "uuid", "area", "known", "okta"},
//	 "time": "...", "context": {}}
func buildEventInput(in EventInput, now time.Time) (ast.Value, time.Time, error) {
	if in.Type == "" {
		return nil, time.Time{}, errNoEvent
	}
	claims, err := objectTerm(in.Agent.Claims)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("agent claims: %w", err)
	}
	okta, err := objectTerm(in.Event)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("event: %w", err)
	}
	area, known := catalog.EventArea(in.Type)
	t := in.Time
	if t.IsZero() {
		t = now
	}
	t = t.UTC()
	return ast.NewObject(
		ast.Item(keyVersion, versionTerm),
		ast.Item(keyAgent, ast.ObjectTerm(
			ast.Item(keyID, ast.StringTerm(in.Agent.ID)),
			ast.Item(keyAuthMethod, ast.StringTerm(in.Agent.AuthMethod)),
			ast.Item(keyClaims, claims),
		)),
		ast.Item(keyEvent, ast.ObjectTerm(
			ast.Item(keyType, ast.StringTerm(in.Type)),
			ast.Item(keyUUID, ast.StringTerm(in.UUID)),
			ast.Item(keyArea, ast.StringTerm(area)),
			ast.Item(keyKnown, ast.BooleanTerm(known)),
			ast.Item(keyOkta, okta),
		)),
		ast.Item(keyTime, ast.StringTerm(t.Format(time.RFC3339Nano))),
		ast.Item(keyContext, emptyObject),
	), t, nil
}
