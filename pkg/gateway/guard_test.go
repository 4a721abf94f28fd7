package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/hooks"
)

// recvErr opens a stream and returns the error of its first message.
func recvErr(t *testing.T, h *harness, key string) error {
	t.Helper()
	stream, err := h.client.WatchEvents(as(t.Context(), key), &bollardv1.WatchEventsRequest{})
	if err != nil {
		return err
	}
	_, err = stream.Recv()
	return err
}

// TestWatchEventsCannotBeExhaustedByOneAgent: an agent with no grant
// cannot hold a stream at all, and one agent cannot take more than its
// share of the hub's places, so another still gets one. A burst of events
// that arrive together leaves one record per stream, not one per event.
func TestWatchEventsCannotBeExhaustedByOneAgent(t *testing.T) {
	recs := &memAuditor{}
	h, hub, _ := eventHarness(t, []hooks.HubOption{hooks.WithMaxSubscribers(3)}, withGateway(WithAuditor(recs), WithWatchersPerAgent(2)))

	wantStatus(t, recvErr(t, h, strangerBotKey), codes.PermissionDenied, ReasonPolicyDenied)
	recs.find(t, func(r *audit.Record) bool {
		return r.Kind == audit.KindStreamOpen && r.AgentID == strangerBot && r.Result == "denied"
	})

	reader := []*watcher{watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{}), watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{})}
	waitSubscribers(t, hub, 2)
	wantStatus(t, recvErr(t, h, devKey("reader-bot")), codes.ResourceExhausted, ReasonTooManyAgentWatchers)
	other := watch(t, h, devKey("provisioner-bot"), &bollardv1.WatchEventsRequest{})
	waitSubscribers(t, hub, 3)

	var burst []*hooks.Event
	for i := range 10 {
		uuid := fmt.Sprintf("burst-%d", i)
		raw, _ := json.Marshal(map[string]any{"uuid": uuid, "eventType": "user.session.start", "published": "2026-11-25T15:00:00Z"})
		burst = append(burst, &hooks.Event{UUID: uuid, Type: "user.session.start", Received: time.Now(), Raw: raw})
	}
	if err := hub.Publish(burst...); err != nil {
		t.Fatal(err)
	}
	for _, w := range reader {
		if got := w.types(t, 10); len(got) != 10 {
			t.Fatalf("reader-bot got %v", got)
		}
	}
	// provisioner-bot may not see sessions: its batch is filtered whole.
	recs.find(t, func(r *audit.Record) bool { return r.Kind == audit.KindEvents && r.AgentID == "provisioner-bot" })
	reader[0].cancel()
	reader[1].cancel()
	other.cancel()
	waitSubscribers0(t, hub)
	recs.mu.Lock()
	defer recs.mu.Unlock()
	batches, offered := 0, 0
	for _, r := range recs.recs {
		if r.Kind == audit.KindEvents {
			batches++
			offered += len(r.Detail["events"].([]any))
		}
	}
	if offered != 30 || batches > 6 {
		t.Errorf("%d events offered in %d records; want 30 in at most one record per stream and delivery", offered, batches)
	}
}

// panicky panics for one action and for every event: a bug anywhere in a
// handler.
type panicky struct{ *decision.Engine }

func (p panicky) Decide(ctx context.Context, in decision.Input) decision.Decision {
	if in.Action.Name == "users.list" && in.Stage != decision.StageGrant {
		panic("bug in the decider")
	}
	return p.Engine.Decide(ctx, in)
}

func (p panicky) DecideEvent(context.Context, decision.EventInput) decision.Decision {
	panic("bug in the event decider")
}

// TestStreamPanicsAreRecovered: a panic in ExecuteAll or WatchEvents is
// answered INTERNAL like a unary one, and the sidecar goes on serving.
func TestStreamPanicsAreRecovered(t *testing.T) {
	h, hub, _ := eventHarness(t, nil, withDecider(panicky{sharedEngine(t)}))
	reader := as(t.Context(), devKey("reader-bot"))
	all, err := h.client.ExecuteAll(reader, &bollardv1.ExecuteRequest{Action: "users.list"})
	if err == nil {
		_, err = all.Recv()
	}
	wantStatus(t, err, codes.Internal, ReasonInternal)

	w := watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{})
	waitSubscribers(t, hub, 1)
	raw := json.RawMessage(`{"uuid":"p-1","eventType":"user.session.start"}`)
	if err := hub.Publish(&hooks.Event{UUID: "p-1", Type: "user.session.start", Received: time.Now(), Raw: raw}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.stream.Recv(); status.Code(err) != codes.Internal {
		t.Fatalf("watch after a panic: %v", err)
	}
	if _, err := h.client.Execute(reader, &bollardv1.ExecuteRequest{Action: "groups.list"}); err != nil {
		t.Fatalf("the sidecar stopped serving after a panic: %v", err)
	}
}

// TestEveryRPCIsRecorded: a listing, an unauthenticated listing, a request
// that cannot be decoded, one over the size limit and a method that does
// not exist each leave a record.
func TestEveryRPCIsRecorded(t *testing.T) {
	recs := &memAuditor{}
	h := newHarness(t, withGateway(WithAuditor(recs)), func(o *harnessOption) { o.grpcOpts = append(o.grpcOpts, grpc.MaxRecvMsgSize(4<<10)) })
	reader := as(t.Context(), devKey("reader-bot"))
	list, err := h.client.ListActions(reader, &bollardv1.ListActionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.ListActions(as(t.Context(), "bk_nobody"), &bollardv1.ListActionsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("unauthenticated listing: %v", err)
	}
	// Field 1 (action, a string) holding bytes that are not UTF-8: not an
	// ExecuteRequest.
	if err := h.conn.Invoke(reader, "/bollard.v1.GatewayService/Execute", wrapperspb.Bytes([]byte{0xff, 0xfe}), new(bollardv1.ExecuteResponse)); status.Code(err) == codes.OK {
		t.Fatal("a malformed request was accepted")
	}
	big := &bollardv1.ExecuteRequest{Action: "users.get", Confirmation: string(make([]byte, 8<<10))}
	if _, err := h.client.Execute(reader, big); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized request: %v", err)
	}
	if err := h.conn.Invoke(reader, "/bollard.v1.GatewayService/Nope", wrapperspb.Int64(7), new(bollardv1.ExecuteResponse)); status.Code(err) != codes.Unimplemented {
		t.Fatalf("unknown method: %v", err)
	}

	listed := recs.find(t, func(r *audit.Record) bool { return r.Kind == audit.KindListActions && r.Result == "ok" })
	if listed.AgentID != "reader-bot" || listed.Detail["listed"] != len(list.GetActions()) || listed.Detail["allowed"] != len(list.GetActions()) {
		t.Errorf("listing record: %s %v (listed %d)", listed.AgentID, listed.Detail, len(list.GetActions()))
	}
	recs.find(t, func(r *audit.Record) bool { return r.Kind == audit.KindListActions && r.Result == "unauthenticated" })
	for _, c := range []struct{ rpc, code string }{
		{"/bollard.v1.GatewayService/Execute", "Internal"},
		{"/bollard.v1.GatewayService/Execute", "ResourceExhausted"},
		{"/bollard.v1.GatewayService/Nope", "Unimplemented"},
	} {
		r := recs.find(t, func(r *audit.Record) bool {
			return r.Result == "rejected" && r.Detail["rpc"] == c.rpc && r.Detail["code"] == c.code
		})
		if r.AgentID != "reader-bot" {
			t.Errorf("rejected %s %s recorded for %q", c.rpc, c.code, r.AgentID)
		}
	}
}

// TestConcurrentStreamsPerConnectionAreBounded: past the bound, a new RPC
// on the same connection waits for one to end.
func TestConcurrentStreamsPerConnectionAreBounded(t *testing.T) {
	h, hub, _ := eventHarness(t, nil, withGateway(WithMaxConcurrentStreams(2)))
	a := watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{})
	watch(t, h, devKey("provisioner-bot"), &bollardv1.WatchEventsRequest{})
	waitSubscribers(t, hub, 2)
	ctx, cancel := context.WithTimeout(as(t.Context(), devKey("reader-bot")), 300*time.Millisecond)
	defer cancel()
	if _, err := h.client.ListActions(ctx, &bollardv1.ListActionsRequest{}); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a third RPC on a connection bounded to two: %v", err)
	}
	a.cancel()
	if _, err := h.client.ListActions(as(t.Context(), devKey("reader-bot")), &bollardv1.ListActionsRequest{}); err != nil {
		t.Fatalf("after a stream ended: %v", err)
	}
}
