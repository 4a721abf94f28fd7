package oktasim

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestChangesAreLogged(t *testing.T) {
	e := newEnv(t)
	e.clock.Advance(time.Minute)
	e.do("PUT", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	e.do("POST", "/api/v1/users/"+SeedUserCarol+"/lifecycle/deactivate", nil).want(t, 200)

	filter := url.QueryEscape(`eventType eq "group.user_membership.add"`)
	resp := e.do("GET", "/api/v1/logs?filter="+filter+"&since="+url.QueryEscape(ts(testNow)), nil).want(t, 200)
	events := resp.array(t)
	if len(events) != 1 {
		t.Fatalf("got %d membership events since the change, want 1: %s", len(events), resp.body)
	}
	ev := events[0]
	if ev["published"] != ts(testNow.Add(time.Minute)) || str(ev, "actor", "id") != SeedUserAdmin ||
		str(ev, "outcome", "result") != "SUCCESS" || ev["severity"] != "INFO" || ev["displayMessage"] == "" ||
		str(ev, "uuid") == "" || str(ev, "transaction", "id") == "" {
		t.Errorf("event = %v", ev)
	}
	targets, _ := ev["target"].([]any)
	var targetIDs []string
	for _, tg := range targets {
		targetIDs = append(targetIDs, str(tg.(map[string]any), "id"))
	}
	if !slices.Equal(targetIDs, []string{SeedUserAlice, SeedGroupSupport}) {
		t.Errorf("targets = %v", targetIDs)
	}
	// The request id in the event is the one the change was answered with.
	reqs := e.sim.Requests()
	if str(ev, "debugContext", "debugData", "requestId") != reqs[0].RequestID {
		t.Errorf("event requestId %q, request %q", str(ev, "debugContext", "debugData", "requestId"), reqs[0].RequestID)
	}

	deact := e.do("GET", "/api/v1/logs?filter="+url.QueryEscape(`eventType eq "user.lifecycle.deactivate" and target.id eq "`+SeedUserCarol+`"`), nil).want(t, 200).array(t)
	if len(deact) != 1 {
		t.Errorf("deactivate events for carol: %d", len(deact))
	}
}

func TestLogQueries(t *testing.T) {
	e := newEnv(t)
	count := func(query string) int {
		t.Helper()
		return len(e.do("GET", "/api/v1/logs?"+query, nil).want(t, 200).array(t))
	}
	total := count("")
	if total != len(e.sim.Events()) || total < 5 {
		t.Fatalf("default window returned %d of %d events", total, len(e.sim.Events()))
	}
	tests := []struct {
		query string
		want  int
	}{
		{"filter=" + url.QueryEscape(`eventType eq "user.session.start"`), 4},
		{"filter=" + url.QueryEscape(`eventType eq "user.session.start" and outcome.result eq "FAILURE"`), 1},
		{"filter=" + url.QueryEscape(`severity eq "WARN"`), 2},
		{"filter=" + url.QueryEscape(`actor.id eq "`+SeedUserAdmin+`"`), 4},
		{"q=" + url.QueryEscape("erin"), 1},
		{"q=" + url.QueryEscape("login okta"), 4},
		{"since=" + url.QueryEscape(ts(testNow.Add(-time.Hour))), 4},
		{"since=" + url.QueryEscape(ts(testNow.Add(-4*24*time.Hour))) + "&until=" + url.QueryEscape(ts(testNow.Add(-2*24*time.Hour))), 3},
		{"until=" + url.QueryEscape(ts(testNow.Add(-30*24*time.Hour))), 0},
		{"limit=2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := count(tt.query); got != tt.want {
				t.Errorf("got %d events, want %d", got, tt.want)
			}
		})
	}
	desc := e.do("GET", "/api/v1/logs?sortOrder=DESCENDING&limit=1", nil).want(t, 200).array(t)
	all := e.sim.Events()
	if str(desc[0], "uuid") != all[len(all)-1].UUID {
		t.Errorf("DESCENDING did not start with the newest event")
	}
	for _, bad := range []string{"sortOrder=asc", "since=yesterday", "until=2025-13-01", "filter=" + url.QueryEscape("eventType eq")} {
		resp := e.do("GET", "/api/v1/logs?"+bad, nil)
		if resp.status != 400 {
			t.Errorf("%s: status %d", bad, resp.status)
		}
	}
}
