package telemetry_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/telemetry"
)

func TestInstrumentsScrape(t *testing.T) {
	tel := setup(t, nil)
	var revision atomic.Value
	revision.Store("rev-1")
	in, err := telemetry.NewInstruments(tel.MeterProvider(), telemetry.Observed{
		RateLimitRemaining: func() map[string]int64 {
			return map[string]int64{"GET /api/v1/users/{userId}": 42, "POST /api/v1/groups": 0}
		},
		PolicyRevision: func() string { return revision.Load().(string) },
		StateAvailable: func() bool { return false },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	in.Decision(ctx, telemetry.ResultAllow, "users", "users.get", "", 20*time.Microsecond)
	in.Decision(ctx, telemetry.ResultAllow, "users", "users.get", "", 30*time.Microsecond)
	in.Decision(ctx, telemetry.ResultDeny, "users", "users.deactivate", "not_granted", 2*time.Millisecond)
	in.OktaRequest(ctx, "users.get", 200, 80*time.Millisecond)
	in.OktaRequest(ctx, "users.get", 429, 40*time.Millisecond)
	in.OktaRequest(ctx, "users.get", 0, 3*time.Second)
	in.RateLimited(ctx, "users.get", false)
	in.RateLimited(ctx, "groups.create", true)
	in.Retry(ctx, "users.get", "rate_limited")
	in.AuditWritten(ctx, "stdout")
	in.AuditWritten(ctx, "stdout")
	in.AuditFailed(ctx, "file")
	in.PolicyReload(ctx, true)
	in.PolicyReload(ctx, false)
	in.PolicyReload(ctx, false)
	in.StateUnreachable(ctx, "budget")
	in.StateUnreachable(ctx, "budget")
	in.StateUnreachable(ctx, "events")

	body := scrape(t, tel.MetricsHandler())
	for _, want := range []string{
		"# TYPE bollard_decisions_total counter",
		`bollard_decisions_total{action="users.get",area="users",deny_code="",result="allow"} 2`,
		`bollard_decisions_total{action="users.deactivate",area="users",deny_code="not_granted",result="deny"} 1`,
		"# TYPE bollard_decision_duration_seconds histogram",
		`bollard_decision_duration_seconds_bucket{result="allow",le="1e-05"} 0`,
		`bollard_decision_duration_seconds_bucket{result="allow",le="2.5e-05"} 1`,
		`bollard_decision_duration_seconds_bucket{result="allow",le="5e-05"} 2`,
		`bollard_decision_duration_seconds_bucket{result="deny",le="0.0025"} 1`,
		`bollard_decision_duration_seconds_count{result="allow"} 2`,
		`bollard_okta_requests_total{action="users.get",status="200"} 1`,
		`bollard_okta_requests_total{action="users.get",status="429"} 1`,
		`bollard_okta_requests_total{action="users.get",status="error"} 1`,
		`bollard_okta_request_duration_seconds_bucket{action="users.get",le="0.05"} 1`,
		`bollard_okta_request_duration_seconds_bucket{action="users.get",le="0.1"} 2`,
		`bollard_okta_request_duration_seconds_bucket{action="users.get",le="5"} 3`,
		`bollard_okta_request_duration_seconds_count{action="users.get"} 3`,
		`bollard_okta_rate_limited_total{action="users.get",held="false"} 1`,
		`bollard_okta_rate_limited_total{action="groups.create",held="true"} 1`,
		`bollard_okta_retries_total{action="users.get",reason="rate_limited"} 1`,
		"# TYPE bollard_okta_rate_limit_remaining gauge",
		`bollard_okta_rate_limit_remaining{bucket="GET /api/v1/users/{userId}"} 42`,
		`bollard_okta_rate_limit_remaining{bucket="POST /api/v1/groups"} 0`,
		`bollard_audit_records_total{sink="stdout"} 2`,
		`bollard_audit_failures_total{sink="file"} 1`,
		`bollard_policy_reloads_total{result="ok"} 1`,
		`bollard_policy_reloads_total{result="error"} 2`,
		"# TYPE bollard_policy_revision gauge",
		`bollard_policy_revision{revision="rev-1"} 1`,
		"# TYPE bollard_state_available gauge",
		"bollard_state_available 0",
		`bollard_state_unreachable_total{part="budget"} 2`,
		`bollard_state_unreachable_total{part="events"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("scraped:\n%s", body)
	}

	// Only the revision in force is reported.
	revision.Store("rev-2")
	body = scrape(t, tel.MetricsHandler())
	if !strings.Contains(body, `bollard_policy_revision{revision="rev-2"} 1`) || strings.Contains(body, `revision="rev-1"`) {
		t.Errorf("after a reload /metrics should show only rev-2:\n%s", grep(body, "bollard_policy_revision"))
	}
}

func TestInstrumentsWithoutCallbacks(t *testing.T) {
	tel := setup(t, nil)
	if _, err := telemetry.NewInstruments(tel.MeterProvider(), telemetry.Observed{}); err != nil {
		t.Fatal(err)
	}
	body := scrape(t, tel.MetricsHandler())
	if strings.Contains(body, "bollard_policy_revision") || strings.Contains(body, "bollard_okta_rate_limit_remaining") ||
		strings.Contains(body, "bollard_state_available") {
		t.Errorf("gauges without a callback are exported:\n%s", body)
	}
}

func TestNilInstrumentsDoNothing(t *testing.T) {
	var in *telemetry.Instruments
	ctx := t.Context()
	in.Decision(ctx, "allow", "users", "users.get", "", time.Microsecond)
	in.OktaRequest(ctx, "users.get", 200, time.Millisecond)
	in.RateLimited(ctx, "users.get", true)
	in.Retry(ctx, "users.get", "transport")
	in.AuditWritten(ctx, "stdout")
	in.AuditFailed(ctx, "stdout")
	in.PolicyReload(ctx, true)
	in.StateUnreachable(ctx, "impact")
}

func grep(body, substr string) string {
	var out []string
	for line := range strings.Lines(body) {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
