package gateway

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/hooks"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// EventDecider decides which agent may see an Okta event (pkg/decision).
type EventDecider interface {
	DecideEvent(ctx context.Context, in decision.EventInput) decision.Decision
}

// Limits on a WatchEvents request.
const (
	maxWatchTypes   = 64
	maxEventTypeLen = 128
)

// Reasons of WatchEvents errors.
const (
	ReasonEventsNotConfigured = "EVENTS_NOT_CONFIGURED"
	ReasonTooManyWatchers     = "TOO_MANY_WATCHERS"
	ReasonShuttingDown        = "SHUTTING_DOWN"
)

// SpanEventSend is the span of one event offered to one watching agent,
// linked to the span of the delivery that brought it.
const SpanEventSend = "bollard.event.send"

// eventValue is the event as the agent may see it, shaped by the
// remove_fields obligation; an obligation the sidecar cannot honour, or an
// event it cannot read, is an error and the event is withheld.
func eventValue(raw []byte, ob decision.Obligations, into *structpb.Value) error {
	r, err := removerOf(ob)
	if err != nil {
		return err
	}
	if raw, err = r.Apply(raw); err != nil {
		return err
	}
	return jsonValue(raw, into)
}

func checkWatch(req *bollardv1.WatchEventsRequest) error {
	br := &errdetails.BadRequest{}
	if n := len(req.GetEventTypes()); n > maxWatchTypes {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field: "event_types", Description: fmt.Sprintf("at most %d types, not %d", maxWatchTypes, n)})
	}
	for i, t := range req.GetEventTypes() {
		if t == "" || len(t) > maxEventTypeLen {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{
				Field: fmt.Sprintf("event_types[%d]", i), Description: fmt.Sprintf("an event type of 1 to %d bytes", maxEventTypeLen)})
		}
	}
	if len(br.FieldViolations) > 0 {
		return withDetails(codes.InvalidArgument, "invalid WatchEvents request", info(ReasonInvalidParams, nil), br)
	}
	return nil
}

// offered is one event's decision, as the batch's audit record keeps it.
type offered struct {
	uuid, typ, decisionID, result, revision string
	denyCodes                               []string
}

// offerEvent decides one event for one agent, records the decision (span,
// metric; the audit record is the batch's) and returns the message to
// send, or nil when the agent may not see the event. An event whose JSON
// cannot be read is withheld: nothing is sent that policy could not look at.
func (s *Server) offerEvent(ctx context.Context, agent, method string, claims map[string]any, ev *hooks.Event) (*bollardv1.Event, offered) {
	ctx, span := s.tracer.Start(ctx, SpanEventSend, trace.WithLinks(trace.Link{SpanContext: ev.Span}))
	defer span.End()
	area, _ := catalog.EventArea(ev.Type)
	var d decision.Decision
	if okta, err := ev.Object(); err != nil {
		d = decision.Decision{Deny: []decision.Reason{{Code: decision.CodePolicyError, Message: "the event could not be read"}}}
	} else {
		d = s.eventDecider.DecideEvent(ctx, decision.EventInput{
			Agent: decision.Agent{ID: agent, AuthMethod: method, Claims: claims},
			Type:  ev.Type, UUID: ev.UUID, Event: okta, Time: ev.Received,
		})
	}
	// Only an event the agent may see is converted for the wire, without
	// the fields policy hides from the agent (at any depth: the profiles
	// an event's targets may carry).
	value := &structpb.Value{}
	if d.Allow {
		if err := eventValue(ev.Raw, d.Obligations, value); err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "event withheld", slog.String("decision_id", d.ID), slog.String("agent", agent), slog.String("error", err.Error()))
			d = decision.Decision{ID: d.ID, Revision: d.Revision, Deny: []decision.Reason{{Code: decision.CodePolicyError, Message: "the event could not be shaped for the agent"}}}
		}
	}
	result := "delivered"
	if !d.Allow {
		result = "filtered"
	}
	s.inst.EventOffered(ctx, area, result)
	if span.IsRecording() {
		span.SetAttributes(telemetry.AttrAgentID.String(agent), attribute.String("bollard.event.type", ev.Type),
			telemetry.AttrArea.String(area), telemetry.AttrResult.String(result),
			telemetry.AttrDecisionID.String(d.ID), telemetry.AttrDenyCodes.StringSlice(denyCodes(d)))
	}
	o := offered{uuid: ev.UUID, typ: ev.Type, decisionID: d.ID, result: result, revision: d.Revision, denyCodes: denyCodes(d)}
	if !d.Allow {
		return nil, o
	}
	return &bollardv1.Event{
		Cursor: ev.Seq, EventType: ev.Type, Uuid: ev.UUID, ReceivedAt: timestamppb.New(ev.Received),
		Okta: value, DecisionId: d.ID,
	}, o
}
