package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/hooks"
	"github.com/bollard-dev/bollard/pkg/identity"
)

// Limits on WatchEvents streams.
const (
	// DefaultWatchersPerAgent is how many WatchEvents streams one agent may
	// hold at once, so that one agent cannot take every slot of the hub.
	DefaultWatchersPerAgent = 4
	// maxEventBatch bounds the events one audit record summarises.
	maxEventBatch = 64
)

// More reasons of WatchEvents errors.
const (
	ReasonTooManyAgentWatchers = "TOO_MANY_WATCHERS_FOR_AGENT"
)

// The RPCs whose records name them in the action field.
const (
	rpcWatchEvents = "WatchEvents"
	rpcListActions = "ListActions"
)

// codeNotGranted is the shipped policy's code for a missing grant.
const codeNotGranted = "not_granted"

// watchSlots counts each agent's open streams.
type watchSlots struct {
	mu       sync.Mutex
	perAgent int
	open     map[string]int
}

func (w *watchSlots) take(agent string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open[agent] >= w.perAgent {
		return false
	}
	w.open[agent]++
	return true
}

func (w *watchSlots) release(agent string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open[agent]--; w.open[agent] <= 0 {
		delete(w.open, agent)
	}
}

// refused is a stream that was not opened: the status the agent gets and
// the result its record keeps.
type refused struct {
	result string
	st     error
}

func (r *refused) Error() string { return "watch refused: " + r.result }

// watchCounts is what a stream carried, for its records.
type watchCounts struct {
	delivered, filtered, missed, batches int
}

// WatchEvents streams the events the agent may see, each decided by policy.
// The stream's opening and end are recorded, and each batch of events
// offered (what arrived together, up to maxEventBatch) has one record
// written before any of it is sent.
func (s *Server) WatchEvents(req *bollardv1.WatchEventsRequest, stream grpc.ServerStreamingServer[bollardv1.WatchEventsResponse]) (err error) {
	ctx, start := stream.Context(), time.Now()
	id, sub, rerr := s.openWatch(ctx, req)
	openDetail := map[string]any{"event_types": slices.Clone(req.GetEventTypes()), "resume_after": req.GetResumeAfter()}
	if rerr != nil {
		var r *refused
		if !errors.As(rerr, &r) {
			r = &refused{result: resultOf(rerr), st: toStatus(rerr)}
		}
		s.recordRPC(ctx, audit.KindStreamOpen, rpcWatchEvents, id, r.result, openDetail)
		return r.st
	}
	defer s.watchers.release(id.ID)
	defer sub.Close()
	if werr := s.recordRPC(ctx, audit.KindStreamOpen, rpcWatchEvents, id, "ok", openDetail); werr != nil {
		return toStatus(werr)
	}
	var counts watchCounts
	end := "client"
	defer func() {
		s.recordRPC(ctx, audit.KindStreamClose, rpcWatchEvents, id, end, map[string]any{
			"delivered": counts.delivered, "filtered": counts.filtered, "missed": counts.missed,
			"batches": counts.batches, "duration_ms": time.Since(start).Milliseconds(),
		})
	}()
	for {
		msgs, err := sub.NextBatch(ctx, maxEventBatch)
		switch {
		case errors.Is(err, hooks.ErrClosed):
			end = "shutdown"
			return nil // the sidecar is stopping; the agent reconnects with its cursor
		case err != nil:
			return status.FromContextError(ctx.Err()).Err()
		}
		send, err := s.offerBatch(ctx, id, msgs, &counts)
		if err != nil {
			end = resultOf(err)
			return toStatus(err)
		}
		for _, m := range send {
			if err := stream.Send(m); err != nil {
				end = "send_failed"
				return err
			}
		}
	}
}

// openWatch authenticates the caller and takes a place for its stream: it
// must read some area events belong to, and hold fewer streams than its
// share and the hub's.
func (s *Server) openWatch(ctx context.Context, req *bollardv1.WatchEventsRequest) (identity.Identity, *hooks.Subscription, error) {
	id, err := s.authenticate(ctx)
	if err != nil {
		return id, nil, err
	}
	if s.events == nil || s.eventDecider == nil {
		return id, nil, &refused{"events_not_configured",
			withDetails(codes.FailedPrecondition, "this sidecar does not receive Okta event hooks", info(ReasonEventsNotConfigured, nil))}
	}
	if err := checkWatch(req); err != nil {
		return id, nil, &refused{"invalid", err}
	}
	if !s.readsSomeEvents(ctx, id) {
		// Told in the words of any denial: the agent's grants say why.
		return id, nil, &refused{"denied", withDetails(codes.PermissionDenied,
			"denied by policy: not_granted: "+publicMessage(codeNotGranted)+" (no read grant in an area with events)",
			info(ReasonPolicyDenied, map[string]string{"deny_codes": codeNotGranted}))}
	}
	if !s.watchers.take(id.ID) {
		return id, nil, &refused{"too_many_watchers", withDetails(codes.ResourceExhausted,
			fmt.Sprintf("this agent already has %d event streams open", s.watchers.perAgent), info(ReasonTooManyAgentWatchers, nil))}
	}
	opts := []hooks.SubscribeOption{hooks.WithCursor(req.GetResumeAfter())}
	if types := req.GetEventTypes(); len(types) > 0 {
		opts = append(opts, hooks.WithTypes(types...))
	}
	sub, err := s.events.Subscribe(opts...)
	if err != nil {
		s.watchers.release(id.ID)
	}
	switch {
	case errors.Is(err, hooks.ErrTooManySubscribers):
		return id, nil, &refused{"too_many_watchers",
			withDetails(codes.ResourceExhausted, "too many agents are watching events", info(ReasonTooManyWatchers, nil))}
	case errors.Is(err, hooks.ErrClosed):
		return id, nil, &refused{kindShuttingDown.result,
			withDetails(kindShuttingDown.code, "the sidecar is shutting down; reconnect with your cursor", info(kindShuttingDown.reason, nil))}
	case err != nil:
		s.log.ErrorContext(ctx, "watch events", "agent", id.ID, "error", err)
		return id, nil, fmt.Errorf("subscribe: %w", err)
	}
	return id, sub, nil
}

// readsSomeEvents reports whether the agent holds a read grant in some area
// that events belong to: decided as ListActions decides, at the grant stage.
func (s *Server) readsSomeEvents(ctx context.Context, id identity.Identity) bool {
	areas := catalog.EventAreas()
	listing := factsContext(s.impact.Counts(id.ID), nil)
	for _, a := range catalog.Actions() {
		if a.Access != catalog.Read || !slices.Contains(areas, a.Area) {
			continue
		}
		in := s.input(&outcome{identity: id, call: &catalog.Call{Action: a, Resource: map[string]string{}, Params: map[string]any{}}})
		in.Stage, in.Context, in.DecisionID = decision.StageGrant, listing, ""
		if s.decider.Decide(ctx, in).Allow {
			return true
		}
	}
	return false
}

// offerBatch decides each event of a batch, writes the batch's one record,
// and only then returns the messages to send. No record, no events: the
// stream ends, and the agent resumes from its cursor once the log is back.
func (s *Server) offerBatch(ctx context.Context, id identity.Identity, msgs []hooks.Message, counts *watchCounts) ([]*bollardv1.WatchEventsResponse, error) {
	var (
		send   []*bollardv1.WatchEventsResponse
		events []any
		batch  = watchCounts{batches: 1}
	)
	for _, m := range msgs {
		if g := m.Gap; g != nil {
			s.inst.EventGap(ctx, g.Missed)
			batch.missed += max(g.Missed, 0)
			send = append(send, &bollardv1.WatchEventsResponse{Message: &bollardv1.WatchEventsResponse_Gap{
				Gap: &bollardv1.Gap{Missed: uint64(max(g.Missed, 0)), Unknown: g.Unknown}}})
			continue
		}
		ev, o := s.offerEvent(ctx, id.ID, id.Method, id.Claims, m.Event)
		events = append(events, map[string]any{"uuid": o.uuid, "type": o.typ, "decision_id": o.decisionID,
			"result": o.result, "deny_codes": o.denyCodes, "policy_revision": o.revision})
		if ev == nil {
			batch.filtered++
			continue
		}
		batch.delivered++
		send = append(send, &bollardv1.WatchEventsResponse{Message: &bollardv1.WatchEventsResponse_Event{Event: ev}})
	}
	err := s.recordRPC(ctx, audit.KindEvents, rpcWatchEvents, id, "ok", map[string]any{
		"delivered": batch.delivered, "filtered": batch.filtered, "missed": batch.missed, "events": events,
	})
	if err != nil {
		return nil, err // nothing of the batch is sent, nor counted as sent
	}
	counts.delivered += batch.delivered
	counts.filtered += batch.filtered
	counts.missed += batch.missed
	counts.batches += batch.batches
	return send, nil
}

// recordRPC writes one record of a stream or a listing. Its failure is
// returned (wrapping errAuditUnavailable) for the caller to fail closed on,
// and logged.
func (s *Server) recordRPC(ctx context.Context, kind, rpc string, id identity.Identity, result string, detail map[string]any) error {
	if s.audit == nil {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	r := &audit.Record{Kind: kind, AgentID: id.ID, AuthMethod: id.Method, Front: frontOf(ctx), Action: rpc, Access: string(catalog.Read),
		Result: result, Detail: detail}
	if err := s.audit.Write(ctx, r); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "audit record not written", slog.String("kind", kind),
			slog.String("agent", id.ID), slog.String("error", err.Error()))
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	return nil
}
