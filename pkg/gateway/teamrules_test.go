package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"google.golang.org/grpc/codes"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/hooks"
)

// shippedEngine is the test policy set (the shipped library, admin-bot
// granted everything) with more files, as a security team adds them.
func shippedEngine(t testing.TB, kv ...string) *decision.Engine {
	t.Helper()
	fsys := testPolicies(t).(fstest.MapFS)
	for i := 0; i+1 < len(kv); i += 2 {
		fsys[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	e, err := decision.New(t.Context(), decision.WithPolicyFS(fsys), decision.WithWatch(false),
		decision.WithEvalTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// markerRule is generated the way a security team writes its own rule: a
// deny set in a package under data.bollard.rules, keyed on the agent.
func markerRule(agent, code string) string {
	return fmt.Sprintf(`package bollard.rules.generated_marker

# Agents under investigation may do nothing.
deny contains {"code": %q, "message": "this agent is under investigation"} if {
	input.agent.id == %q
}
`, code, agent)
}

// TestTeamRuleDeniesEveryActionOnEveryPath: a rule of the security team's
// own denies admin-bot, which the shipped grants allow everything. Every
// catalog action is denied for it through Execute, its typed RPC,
// ExecuteAll and Check, on the shipped fast paths as on the others, and
// nothing reaches Okta, not even a lookup.
func TestTeamRuleDeniesEveryActionOnEveryPath(t *testing.T) {
	const code = "under_investigation"
	h := newHarness(t, withDecider(shippedEngine(t, "team/marker.rego", markerRule(adminBot, code))))
	ctx := as(t.Context(), adminBotKey)
	wantMarker := func(t *testing.T, err error) {
		t.Helper()
		ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied)
		if ei.Metadata["deny_codes"] != code {
			t.Errorf("deny codes = %q, want %s alone", ei.Metadata["deny_codes"], code)
		}
	}
	for _, a := range catalog.Actions() {
		t.Run(a.Name, func(t *testing.T) {
			p := validParams[a.Name]
			_, err := executeCaller(t, h)(ctx, a, p, "")
			wantMarker(t, err)
			_, err = typedCaller(t, h)(ctx, a, p, "")
			wantMarker(t, err)
			stream, err := h.client.ExecuteAll(ctx, &bollardv1.ExecuteRequest{Action: a.Name, Params: params(t, p)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = stream.Recv()
			if a.Paginated() && a.Access == catalog.Read {
				wantMarker(t, err)
			} else {
				// ExecuteAll takes only lists: refused before any decision.
				wantStatus(t, err, codes.InvalidArgument, ReasonNotAList)
			}
			if err == io.EOF {
				t.Fatal("ExecuteAll sent a page")
			}
			resp, err := h.client.Check(ctx, &bollardv1.ExecuteRequest{Action: a.Name, Params: params(t, p)})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Allow || len(resp.Reasons) == 0 || resp.Reasons[0].Code != code {
				t.Errorf("Check = %v, want a denial with %s", resp, code)
			}
		})
	}
	if reqs := h.sim.Requests(); len(reqs) != 0 {
		t.Errorf("Okta saw %d requests for a denied agent, the first %s %s", len(reqs), reqs[0].Method, reqs[0].Path)
	}
	// The rule leaves every other agent alone, and ListActions shows it.
	if _, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{Action: "users.list"}); err != nil {
		t.Errorf("reader-bot: %v", err)
	}
	list, err := h.client.ListActions(ctx, &bollardv1.ListActionsRequest{IncludeDenied: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range list.Actions {
		if info.Allowed || len(info.DenyReasons) != 1 || info.DenyReasons[0].Code != code {
			t.Errorf("ListActions: %s allowed %v, reasons %v", info.Name, info.Allowed, info.DenyReasons)
		}
	}
}

// TestTeamRuleSeesTheFacts: a rule that reads the looked-up facts denies at
// the second stage, after the grant allowed and the target was looked up.
func TestTeamRuleSeesTheFacts(t *testing.T) {
	const rule = `package bollard.rules.help_desk_admins

# Nobody changes help desk admins' factors through an agent.
deny contains {"code": "help_desk_admin_factors", "message": sprintf("user %s is a help desk admin", [u.id])} if {
	input.action.area == "factors"
	input.action.access == "manage"
	some u in input.context.target.users
	"HELP_DESK_ADMIN" in u.admin_roles
}
`
	logger, records := auditFile(t)
	h := newHarness(t, withDecider(shippedEngine(t, "help_desk.rego", rule)), withGateway(WithAuditor(logger)))
	ctx := as(t.Context(), adminBotKey)
	_, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "factors.enroll",
		Params: params(t, validParams["factors.enroll"])}) // Carol, a help desk admin
	ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied)
	if ei.Metadata["deny_codes"] != "help_desk_admin_factors" {
		t.Errorf("deny codes = %q", ei.Metadata["deny_codes"])
	}
	if n := len(h.lookups()); n == 0 {
		t.Error("the target was not looked up")
	}
	if n := len(h.actionRequests()); n != 0 {
		t.Errorf("%d requests reached Okta besides the lookups", n)
	}
	// The agent is told the code; the record keeps the rule's message.
	recs := records()
	reasons := recs[len(recs)-1]["deny_reasons"].([]any)
	if len(reasons) != 1 || reasons[0].(map[string]any)["message"] != "user 00uCARactive000000g7 is a help desk admin" {
		t.Errorf("recorded reasons = %v", reasons)
	}
	if got := err.Error(); strings.Contains(got, "00uCARactive") {
		t.Errorf("the agent was told the facts: %s", got)
	}
}

// memAuditor keeps the records it is given, for tests that wait for one.
type memAuditor struct {
	mu   sync.Mutex
	recs []*audit.Record
}

func (m *memAuditor) Ready() error { return nil }

func (m *memAuditor) Spool(ctx context.Context, r *audit.Record) error { return m.Write(ctx, r) }

func (m *memAuditor) Write(_ context.Context, r *audit.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
	return nil
}

// find waits for a record that matches.
func (m *memAuditor) find(t *testing.T, match func(*audit.Record) bool) *audit.Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m.mu.Lock()
		for _, r := range m.recs {
			if match(r) {
				m.mu.Unlock()
				return r
			}
		}
		m.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no such record")
	return nil
}

// TestTeamRuleWithholdsEvents: a rule of the team's that denies admin-bot
// its events withholds every event from it, and leaves other agents'
// events alone; a rule that denies it everything keeps it from opening a
// stream at all (it holds no read grant any more).
func TestTeamRuleWithholdsEvents(t *testing.T) {
	const code = "under_investigation"
	eventsOnly := fmt.Sprintf(`package bollard.rules.generated_events

deny contains {"code": %q, "message": "this agent's events are under investigation"} if {
	input.agent.id == %q
	input.event
}
`, code, adminBot)
	recs := &memAuditor{}
	h, hub, _ := eventHarness(t, nil, withDecider(shippedEngine(t, "team/events.rego", eventsOnly)),
		withGateway(WithAuditor(recs)))
	marked := watch(t, h, adminBotKey, &bollardv1.WatchEventsRequest{})
	other := watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{})
	waitSubscribers(t, hub, 2)
	raw := json.RawMessage(`{"uuid":"e-9","eventType":"user.lifecycle.create","published":"2026-11-25T15:00:00Z","target":[]}`)
	if err := hub.Publish(&hooks.Event{UUID: "e-9", Type: "user.lifecycle.create", Received: time.Now(), Raw: raw}); err != nil {
		t.Fatal(err)
	}
	if ev := other.next(t).GetEvent(); ev.GetUuid() != "e-9" {
		t.Fatalf("reader-bot got %v", ev)
	}
	r := recs.find(t, func(r *audit.Record) bool { return r.AgentID == adminBot && r.Kind == audit.KindEvents })
	evs := r.Detail["events"].([]any)
	offer := evs[0].(map[string]any)
	if len(evs) != 1 || offer["uuid"] != "e-9" || offer["result"] != "filtered" || !slices.Equal(offer["deny_codes"].([]string), []string{code}) ||
		r.Detail["delivered"] != 0 || r.Detail["filtered"] != 1 {
		t.Errorf("admin-bot's batch record: %v", r.Detail)
	}
	marked.cancel()

	everything := newHarness(t, withDecider(shippedEngine(t, "team/marker.rego", markerRule(adminBot, code))), withGateway(WithEvents(hub), WithAuditor(recs)))
	stream, err := everything.client.WatchEvents(as(t.Context(), adminBotKey), &bollardv1.WatchEventsRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied)
	recs.find(t, func(r *audit.Record) bool {
		return r.AgentID == adminBot && r.Kind == audit.KindStreamOpen && r.Result == "denied"
	})
}
