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
	d := Decision{ID: NewID(start), Revision: p.revision, stage: StageFull, set: p}
	if p.events == nil {
		d.Deny = []Reason{{Code: CodeNoEventPolicy, Message: "the policy does not decide which agent sees which event (" + EventQuery + ")"}}
		d.Duration = time.Since(start)
		return d
	}
	allow, deny, ob, err := e.evalEvent(ctx, p, in, start)
	e.settle(ctx, &d, allow, deny, ob, err, "event policy", slog.String("event_type", in.Type), slog.String("agent", in.Agent.ID))
	d.Duration = time.Since(start)
	return d
}

func (e *Engine) evalEvent(ctx context.Context, p *policySet, in EventInput, now time.Time) (allow bool, deny []Reason, ob Obligations, err error) {
	defer recovered(&err)
	input, t, err := buildEventInput(in, now)
	if err != nil {
		return false, nil, Obligations{}, fmt.Errorf("build event input: %w", err)
	}
	return e.evalQuery(ctx, *p.events, EventQuery, p.rules > 0, input, t, nil)
}

// buildEventInput makes the event input document:
//
//	{"version": 1, "agent": {...}, "event": {"type", "uuid", "area", "known", "okta"},
//	 "time": "...", "context": {}}
func buildEventInput(in EventInput, now time.Time) (ast.Value, time.Time, error) {
	if in.Type == "" {
		return nil, time.Time{}, errNoEvent
	}
	agent, err := agentTerm(in.Agent)
	if err != nil {
		return nil, time.Time{}, err
	}
	okta, err := objectTerm(in.Event)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("event: %w", err)
	}
	area, known := catalog.EventArea(in.Type)
	t := inputTime(in.Time, now)
	return ast.NewObject(
		ast.Item(keyVersion, versionTerm),
		ast.Item(keyAgent, agent),
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
