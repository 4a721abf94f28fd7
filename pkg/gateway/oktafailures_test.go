package gateway

import (
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestCutOffWriteTellsTheAgentToReadBack: Okta created the user but the
// connection reset before its answer came back. The agent is told the write
// may have been applied, not that Okta is down (which invites a blind
// resend), the write went to Okta once, and the audit record says the same.
func TestCutOffWriteTellsTheAgentToReadBack(t *testing.T) {
	recs := &memAuditor{}
	h := newHarness(t, withGateway(WithAuditor(recs)))
	h.sim.InjectFault(oktasim.Fault{Method: "POST", PathPrefix: "/api/v1/users", AbortAfter: true, Count: 1})
	const login = "cut.off@example.com"
	_, err := h.client.Execute(as(t.Context(), devKey("provisioner-bot")), &bollardv1.ExecuteRequest{
		Action: "users.create", Params: params(t, map[string]any{"activate": false, "body": map[string]any{
			"profile": map[string]any{"firstName": "Cut", "lastName": "Off", "email": login, "login": login},
		}}),
	})
	wantStatus(t, err, codes.Unavailable, ReasonOktaOutcomeUnknown)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "may or may not have been applied") || !strings.Contains(msg, "read") {
		t.Errorf("message %q does not tell the agent to read back", msg)
	}
	if reqs := h.actionRequests(); len(reqs) != 1 || reqs[0].Method != "POST" {
		t.Errorf("okta saw %+v, want the create once", reqs)
	}
	if ev := h.sim.Events(); len(ev) == 0 || ev[len(ev)-1].EventType != "user.lifecycle.create" {
		t.Error("the simulator did not apply the write; the test shows nothing")
	}
	recs.mu.Lock()
	defer recs.mu.Unlock()
	// The intent, then the outcome that says the write may have happened.
	if len(recs.recs) != 2 || recs.recs[0].Kind != audit.KindIntent || recs.recs[1].Kind != audit.KindOutcome ||
		recs.recs[1].Action != "users.create" || recs.recs[1].Result != "okta_outcome_unknown" {
		for _, r := range recs.recs {
			t.Logf("record: %s %s %s", r.Kind, r.Action, r.Result)
		}
		t.Errorf("want the intent and an outcome okta_outcome_unknown for users.create")
	}
}

// TestBurstOverOktasConcurrentLimitSucceeds: Okta's concurrent limit (shared
// with the org's other clients) is below Bollard's cap. A burst meets it,
// and Bollard backs off and narrows its cap instead of failing the calls.
func TestBurstOverOktasConcurrentLimitSucceeds(t *testing.T) {
	h := newHarness(t, func(o *harnessOption) {
		o.simOpts = append(o.simOpts, oktasim.WithConcurrencyLimit(3))
		o.fopts = append(o.fopts, forward.WithConcurrency(10, 100))
	})
	h.sim.InjectFault(oktasim.Fault{Method: "GET", PathPrefix: "/api/v1/users", Delay: 20 * time.Millisecond})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
				Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice}),
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	limited := 0
	for _, r := range h.sim.Requests() {
		if r.Status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Error("okta's concurrent limit was never met; the test shows nothing")
	}
}

// TestConcurrencyLimitIsToldApart: when Bollard's retries on Okta's
// concurrent limit run out, the agent is told it was that limit, not a
// spent rate-limit window.
func TestConcurrencyLimitIsToldApart(t *testing.T) {
	err := toStatus(&forward.Error{Kind: forward.KindRateLimited, Status: 429, Concurrent: true, RetryAfter: time.Second})
	ei := wantStatus(t, err, codes.ResourceExhausted, ReasonOktaRateLimited)
	if ei.Metadata["okta_concurrent_limit"] != "true" || !strings.Contains(status.Convert(err).Message(), "concurrent") {
		t.Errorf("status = %v, metadata %v", err, ei.Metadata)
	}
}
