package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/hooks"
	sim "github.com/bollard-dev/bollard/pkg/oktasim"
)

// holds reports whether any object in the JSON of v holds the attribute
// name anywhere.
func holds(t *testing.T, v any, name string) bool {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(raw), `"`+name+`"`)
}

// TestWritesAnswerWithoutHiddenFields: the answer of a manage action is
// the object it changed, shaped like a read: a do-nothing update must not
// hand back what a read would hide.
func TestWritesAnswerWithoutHiddenFields(t *testing.T) {
	h := newHarness(t)
	ctx := as(t.Context(), devKey("provisioner-bot")) // default remove_fields: profile.mobilePhone
	resp, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "users.update", Params: params(t, map[string]any{
		"userId": sim.SeedUserAlice, "body": map[string]any{"profile": map[string]any{"mobilePhone": "+1 555 0100"}}})})
	if err != nil {
		t.Fatal(err)
	}
	if holds(t, resp.GetResult().AsInterface(), "mobilePhone") {
		t.Errorf("the update's answer holds the hidden field: %v", resp.GetResult())
	}
	for _, c := range []struct {
		action string
		params map[string]any
	}{
		{"users.update", map[string]any{"userId": sim.SeedUserAlice, "body": map[string]any{}}},
		{"users.create", validParams["users.create"]},
		{"groups.add_member", map[string]any{"groupId": sim.SeedGroupSupport, "userId": sim.SeedUserAlice}},
	} {
		resp, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: c.action, Params: params(t, c.params)})
		if err != nil {
			t.Fatalf("%s: %v", c.action, err)
		}
		if holds(t, resp.GetResult().AsInterface(), "mobilePhone") {
			t.Errorf("%s answered with the hidden field: %v", c.action, resp.GetResult())
		}
	}
	// admin-bot hides nothing: the field is there to be hidden.
	resp, err = h.client.Execute(as(t.Context(), adminBotKey), &bollardv1.ExecuteRequest{Action: "users.update", Params: params(t, map[string]any{
		"userId": sim.SeedUserAlice, "body": map[string]any{}})})
	if err != nil || !holds(t, resp.GetResult().AsInterface(), "mobilePhone") {
		t.Fatalf("admin-bot's update = %v, %v; want the field", resp.GetResult(), err)
	}
}

// TestEmbeddedObjectsWithoutHiddenFields: app users listed with
// expand=user embed each user; the user's hidden fields are removed there
// too, through Execute and through every page of ExecuteAll.
func TestEmbeddedObjectsWithoutHiddenFields(t *testing.T) {
	h := newHarness(t)
	ctx := as(t.Context(), devKey("reader-bot")) // hides profile.mobilePhone and profile.secondEmail
	p := map[string]any{"appId": sim.SeedAppGitHub, "expand": "user", "limit": 1}
	resp, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "app_assignments.list", Params: params(t, p)})
	if err != nil {
		t.Fatal(err)
	}
	got := resp.GetResult().AsInterface()
	if !holds(t, got, "_embedded") {
		t.Fatalf("no embedded user to check: %v", got)
	}
	if holds(t, got, "mobilePhone") || holds(t, got, "secondEmail") {
		t.Errorf("the embedded user holds hidden fields: %v", got)
	}
	stream, err := h.client.ExecuteAll(ctx, &bollardv1.ExecuteRequest{Action: "app_assignments.list", Params: params(t, p)})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := collect(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range pages {
		for _, item := range msg.Items {
			if holds(t, item.AsInterface(), "mobilePhone") {
				t.Errorf("page %d holds the hidden field", msg.Page)
			}
		}
	}
	if len(pages) < 2 {
		t.Errorf("%d pages, want several", len(pages))
	}
}

// withHidden is the test policy set with the reader-bot's hidden fields
// replaced.
func withHidden(t *testing.T, fields ...string) *decision.Engine {
	t.Helper()
	fsys := testPolicies(t).(fstest.MapFS)
	var doc map[string]any
	if err := json.Unmarshal(fsys["read_shaping.json"].Data, &doc); err != nil {
		t.Fatal(err)
	}
	rf := doc["bollard"].(map[string]any)["config"].(map[string]any)["read_shaping"].(map[string]any)["remove_fields"].(map[string]any)
	list := make([]any, len(fields))
	for i, f := range fields {
		list[i] = f
	}
	rf["agents"].(map[string]any)["reader-bot"] = list
	raw, _ := json.Marshal(doc)
	fsys["read_shaping.json"] = &fstest.MapFile{Data: raw}
	e, err := decision.New(t.Context(), decision.WithPolicyFS(fsys), decision.WithWatch(false), decision.WithEvalTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestQueriesOnHiddenAttributesAreRefused: a search, filter, q or sort
// that reaches a hidden attribute would reveal its value (prefix by prefix
// with sw); it is refused with hidden_field before it reaches Okta, for
// Check as for Execute.
func TestQueriesOnHiddenAttributesAreRefused(t *testing.T) {
	h := newHarness(t, withDecider(withHidden(t, "profile.mobilePhone", "profile.email")))
	ctx := as(t.Context(), devKey("reader-bot"))
	refused := []struct {
		action string
		params map[string]any
	}{
		{"users.list", map[string]any{"search": `profile.mobilePhone sw "555"`}},
		{"users.list", map[string]any{"search": `status eq "ACTIVE" and (PROFILE.MOBILEPHONE sw "5")`}},
		{"users.list", map[string]any{"filter": `profile.email eq "ada.admin@example.com"`}},
		{"users.list", map[string]any{"sortBy": "profile.mobilePhone", "search": `status eq "ACTIVE"`}},
		{"users.list", map[string]any{"q": "ada"}},                            // q matches profile.email
		{"users.list", map[string]any{"search": `profile.mobilePhone sw "5`}}, // unreadable: refused rather than guessed
		{"groups.list_members", map[string]any{"groupId": sim.SeedGroupEngineering, "search": `profile.mobilePhone pr`}},
		{"app_assignments.list", map[string]any{"appId": sim.SeedAppGitHub, "q": "alice"}},
	}
	for _, c := range refused {
		req := &bollardv1.ExecuteRequest{Action: c.action, Params: params(t, c.params)}
		_, err := h.client.Execute(ctx, req)
		if ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied); ei.Metadata["deny_codes"] != CodeHiddenField {
			t.Errorf("%s %v: deny codes %q", c.action, c.params, ei.Metadata["deny_codes"])
		}
		check, err := h.client.Check(ctx, req)
		if err != nil || check.Allow || check.Reasons[0].Code != CodeHiddenField {
			t.Errorf("Check %s %v = %v, %v", c.action, c.params, check, err)
		}
	}
	if reqs := h.sim.Requests(); len(reqs) != 0 {
		t.Errorf("refused queries reached Okta: %v", reqs)
	}
	// Queries on what the agent may see go ahead.
	for _, p := range []map[string]any{
		{"search": `profile.department eq "Engineering" and profile.mobilePhoneType eq "x"`},
		{"search": `profile.title eq "profile.mobilePhone"`}, // a value, not an attribute
		{"sortBy": "profile.lastName", "search": `status eq "ACTIVE"`},
	} {
		if _, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "users.list", Params: params(t, p)}); err != nil {
			t.Errorf("users.list %v: %v", p, err)
		}
	}
}

// TestEventsWithoutHiddenFields: an event whose targets carry a profile
// reaches the agent without the fields hidden from it.
func TestEventsWithoutHiddenFields(t *testing.T) {
	h, hub, _ := eventHarness(t, nil)
	w := watch(t, h, devKey("reader-bot"), &bollardv1.WatchEventsRequest{})
	waitSubscribers(t, hub, 1)
	raw := json.RawMessage(`{"uuid":"e-1","eventType":"user.account.update_profile","published":"2026-11-25T15:00:00Z",
		"actor":{"id":"00uADAadmin0000000g7","type":"User"},
		"target":[{"id":"00uALIactive000000g7","type":"User","detailEntry":{"profile":{"mobilePhone":"+1 555 0100","secondEmail":"a@b.c","title":"Eng"}}}]}`)
	if err := hub.Publish(&hooks.Event{UUID: "e-1", Type: "user.account.update_profile", Received: time.Now(), Raw: raw}); err != nil {
		t.Fatal(err)
	}
	ev := w.next(t).GetEvent()
	js, err := protojson.Marshal(ev.GetOkta())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "mobilePhone") || strings.Contains(string(js), "secondEmail") || !strings.Contains(string(js), "title") {
		t.Errorf("event as the agent got it: %s", js)
	}
}
