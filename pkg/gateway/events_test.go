package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/hooks"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

const hookSecret = "hook-secret-0123456789"

// eventHarness is the whole path: the simulator's event hook POSTs to the
// receiver over real HTTP, the receiver feeds the hub, and agents watch over
// real gRPC.
func eventHarness(t *testing.T, hubOpts []hooks.HubOption, opts ...func(*harnessOption)) (*harness, *hooks.Hub, string) {
	t.Helper()
	hub, err := hooks.NewHub(hubOpts...)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := hooks.NewReceiver(hub, hooks.WithAuth("Authorization", []byte(hookSecret)))
	if err != nil {
		t.Fatal(err)
	}
	receiver := httptest.NewServer(rc)
	t.Cleanup(receiver.Close)
	h := newHarness(t, append([]func(*harnessOption){withGateway(WithEvents(hub))}, opts...)...)
	t.Cleanup(func() { h.sim.Close() })
	hookID, err := h.sim.RegisterEventHook(t.Context(), oktasim.EventHook{
		Name: "bollard", URL: receiver.URL, Headers: map[string]string{"Authorization": hookSecret},
		EventTypes: []string{"user.lifecycle.create", "group.user_membership.add", "user.session.start", "user.account.update_profile"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if st, _ := h.sim.EventHookStats(hookID); st.Failed > 0 {
			t.Errorf("the simulator failed to deliver %d events: %+v", st.Failed, st)
		}
	})
	return h, hub, hookID
}

type watcher struct {
	stream grpc.ServerStreamingClient[bollardv1.WatchEventsResponse]
	cancel context.CancelFunc
}

func watch(t *testing.T, h *harness, agentKey string, req *bollardv1.WatchEventsRequest) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(as(t.Context(), agentKey))
	t.Cleanup(cancel)
	stream, err := h.client.WatchEvents(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return &watcher{stream: stream, cancel: cancel}
}

// next returns the next message or fails after a few seconds.
func (w *watcher) next(t *testing.T) *bollardv1.WatchEventsResponse {
	t.Helper()
	type result struct {
		m   *bollardv1.WatchEventsResponse
		err error
	}
	ch := make(chan result, 1)
	go func() { m, err := w.stream.Recv(); ch <- result{m, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("recv: %v", r.err)
		}
		return r.m
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return nil
}

func (w *watcher) types(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	for range n {
		m := w.next(t)
		if e := m.GetEvent(); e != nil {
			out = append(out, e.GetEventType())
		} else {
			out = append(out, fmt.Sprintf("gap:%d", m.GetGap().GetMissed()))
		}
	}
	return out
}

// Two agents with different grants each see exactly the events they may
// see, as Okta's JSON; and nothing more arrives for the one that may not
// see the rest (checked by a last event both may see).
func TestWatchEventsByGrant(t *testing.T) {
	logger, records := auditFile(t)
	h, hub, _ := eventHarness(t, nil, withGateway(WithAuditor(logger)))
	reader := watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{})
	provisioner := watch(t, h, devKey("provisioner-bot"), &bollardv1.WatchEventsRequest{})
	waitSubscribers(t, hub, 2)

	admin := as(t.Context(), adminBotKey)
	if _, err := h.client.Execute(admin, &bollardv1.ExecuteRequest{Action: "users.create", Params: params(t, validParams["users.create"])}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.sim.StartSession(oktasim.SeedUserAlice); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Execute(admin, &bollardv1.ExecuteRequest{Action: "groups.add_member", Params: params(t, map[string]any{"groupId": oktasim.SeedGroupSupport, "userId": oktasim.SeedUserAlice})}); err != nil {
		t.Fatal(err)
	}
	if got := reader.types(t, 3); !slices.Equal(got, []string{"user.lifecycle.create", "user.session.start", "group.user_membership.add"}) {
		t.Errorf("reader-bot saw %v", got)
	}
	if _, err := h.client.Execute(admin, &bollardv1.ExecuteRequest{Action: "groups.add_member", Params: params(t, map[string]any{"groupId": oktasim.SeedGroupEngineering, "userId": oktasim.SeedUserCarol})}); err != nil {
		t.Fatal(err)
	}
	// provisioner-bot reads users and groups but not user_lifecycle or
	// sessions: of the three, only the membership event is its to see.
	first := provisioner.next(t).GetEvent()
	if first.GetEventType() != "group.user_membership.add" {
		t.Errorf("provisioner-bot saw %s first, want group.user_membership.add", first.GetEventType())
	}
	okta := first.GetOkta().GetStructValue().AsMap()
	if okta["uuid"] != first.GetUuid() || okta["eventType"] != "group.user_membership.add" || first.GetDecisionId() == "" || first.GetCursor() == 0 {
		t.Errorf("event = %v", first)
	}
	if got := provisioner.types(t, 1); !slices.Equal(got, []string{"group.user_membership.add"}) {
		t.Errorf("provisioner-bot's next event: %v", got)
	}
	// Every event offered to every watcher has its record: who saw it and
	// who did not, and why.
	reader.cancel()
	provisioner.cancel()
	waitSubscribers0(t, hub)
	seen, kinds := map[string]int{}, map[string]int{}
	for _, r := range records() {
		agent := r["agent"].(map[string]any)["id"].(string)
		kinds[agent+" "+r["kind"].(string)]++
		if r["kind"] != "events" {
			continue
		}
		for _, e := range r["detail"].(map[string]any)["events"].([]any) {
			e := e.(map[string]any)
			if e["decision_id"] == "" {
				t.Errorf("offer without its decision: %v", e)
			}
			seen[agent+" "+e["type"].(string)+" "+e["result"].(string)]++
		}
	}
	// Each stream opened and closed once, on record.
	for _, agent := range []string{"reader-bot", "provisioner-bot"} {
		if kinds[agent+" stream_open"] != 1 || kinds[agent+" stream_close"] != 1 || kinds[agent+" events"] == 0 {
			t.Errorf("%s's stream records: %v", agent, kinds)
		}
	}
	for key, n := range map[string]int{
		"provisioner-bot user.session.start filtered":         1,
		"provisioner-bot group.user_membership.add delivered": 2,
		"reader-bot user.session.start delivered":             1,
	} {
		if seen[key] != n {
			t.Errorf("%d records %q, want %d (all: %v)", seen[key], key, n, seen)
		}
	}
}

// A caller may narrow the stream to some types, and resume after a cursor
// from the replay window.
func TestWatchEventsTypesAndResume(t *testing.T) {
	h, hub, _ := eventHarness(t, nil)
	w := watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{EventTypes: []string{"user.session.start"}})
	waitSubscribers(t, hub, 1)
	for _, u := range []string{oktasim.SeedUserAlice, oktasim.SeedUserBob, oktasim.SeedUserCarol} {
		if _, err := h.sim.StartSession(u); err != nil {
			t.Fatal(err)
		}
	}
	first := w.next(t).GetEvent()
	w.types(t, 2)
	resumed := watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{ResumeAfter: first.GetCursor()})
	if got := resumed.types(t, 2); !slices.Equal(got, []string{"user.session.start", "user.session.start"}) {
		t.Errorf("resumed stream = %v", got)
	}
}

// A caller that does not keep up is told how many events it missed; it
// does not hold the others back.
func TestWatchEventsGap(t *testing.T) {
	h, hub, _ := eventHarness(t, []hooks.HubOption{hooks.WithDefaultBuffer(4)})
	w := watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{})
	waitSubscribers(t, hub, 1)
	var burst []*hooks.Event
	for i := range 50 {
		raw, _ := json.Marshal(map[string]any{"uuid": fmt.Sprintf("burst-%d", i), "eventType": "user.session.start"})
		burst = append(burst, &hooks.Event{UUID: fmt.Sprintf("burst-%d", i), Type: "user.session.start", Received: time.Now(), Raw: raw})
	}
	if err := hub.Publish(burst...); err != nil {
		t.Fatal(err)
	}
	var events, missed int
	for events+missed < 50 {
		m := w.next(t)
		if m.GetGap() != nil {
			missed += int(m.GetGap().GetMissed())
		} else {
			events++
		}
	}
	if missed == 0 || events+missed != 50 {
		t.Errorf("%d events and %d missed, want a gap and 50 in all", events, missed)
	}
}

func TestWatchEventsRefusals(t *testing.T) {
	plain := newHarness(t)
	stream, err := plain.client.WatchEvents(as(t.Context(), devKey("reader-bot")), &bollardv1.WatchEventsRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("without a receiver: %v", err)
	}
	h, _, _ := eventHarness(t, nil)
	for name, tc := range map[string]struct {
		key  string
		req  *bollardv1.WatchEventsRequest
		code codes.Code
	}{
		"unauthenticated": {"bk_nobody", &bollardv1.WatchEventsRequest{}, codes.Unauthenticated},
		"too many types":  {devKey("reader-bot"), &bollardv1.WatchEventsRequest{EventTypes: make([]string, 65)}, codes.InvalidArgument},
		"long type":       {devKey("reader-bot"), &bollardv1.WatchEventsRequest{EventTypes: []string{strings.Repeat("x", 200)}}, codes.InvalidArgument},
	} {
		t.Run(name, func(t *testing.T) {
			stream, err := h.client.WatchEvents(as(t.Context(), tc.key), tc.req)
			if err == nil {
				_, err = stream.Recv()
			}
			if status.Code(err) != tc.code {
				t.Errorf("err = %v, want %s", err, tc.code)
			}
		})
	}
}

func waitSubscribers(t *testing.T, hub *hooks.Hub, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for hub.Subscribers() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers, want %d", hub.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitSubscribers0(t *testing.T, hub *hooks.Hub) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for hub.Subscribers() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers left", hub.Subscribers())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Okta delivers at least once: the simulator sends every delivery twice
// here, and each event still reaches the agent once.
func TestWatchEventsDuplicateDeliveredOnce(t *testing.T) {
	h, hub, hookID := eventHarness(t, nil, func(o *harnessOption) {
		o.simOpts = append(o.simOpts, oktasim.WithEventHookDuplicates(1))
	})
	w := watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{EventTypes: []string{"user.session.start"}})
	waitSubscribers(t, hub, 1)
	for _, u := range []string{oktasim.SeedUserAlice, oktasim.SeedUserBob} {
		if _, err := h.sim.StartSession(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.sim.FlushEventHooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, _ := h.sim.EventHookStats(hookID); st.Duplicates < 2 {
		t.Fatalf("the simulator sent %d duplicates, want every delivery twice", st.Duplicates)
	}
	a, b := w.next(t).GetEvent(), w.next(t).GetEvent()
	if a.GetUuid() == b.GetUuid() {
		t.Fatalf("the same event twice: %s", a.GetUuid())
	}
	// Nothing else is coming: a third session's event is the next message.
	if _, err := h.sim.StartSession(oktasim.SeedUserCarol); err != nil {
		t.Fatal(err)
	}
	if c := w.next(t).GetEvent(); c.GetUuid() == a.GetUuid() || c.GetUuid() == b.GetUuid() {
		t.Errorf("a duplicate was streamed: %s", c.GetUuid())
	}
}
