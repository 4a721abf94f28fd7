package sidecar

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// TestStateMetricsFollowTheStore: with the redis backend /metrics shows
// bollard_state_available 1 while the store answers; killed, the first
// command of a part that cannot reach it counts under that part and drops
// the gauge to 0; restarted, the store check raises it to 1 again. With
// the memory backend neither is exported.
func TestStateMetricsFollowTheStore(t *testing.T) {
	srv := redistest.Start(t)
	keys := keysFile(t)
	p := buildWithState(t, keys, fmt.Sprintf(`
  backend: redis
  redis: {address: %q, key_prefix: %q, read_timeout: 200ms, write_timeout: 200ms, dial_timeout: 200ms}`, srv.Addr(), srv.Config().KeyPrefix))
	scrape := func() string { return scrapeParts(p) }
	if body := scrape(); !strings.Contains(body, "\nbollard_state_available 1\n") {
		t.Fatalf("with the store up:\n%s", grepLines(body, "bollard_state"))
	}

	srv.Stop()
	impact := p.state.Part(state.PartImpact)
	impact.Observe(impact.Client().Ping(t.Context()).Err())
	body := scrape()
	for _, want := range []string{"\nbollard_state_available 0\n", "\n" + `bollard_state_unreachable_total{part="impact"} 1` + "\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("with the store killed, /metrics lacks %q:\n%s", strings.TrimSpace(want), grepLines(body, "bollard_state"))
		}
	}

	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(scrape(), "\nbollard_state_available 1\n") {
		if time.Now().After(deadline) {
			t.Fatalf("the store came back and the gauge did not:\n%s", grepLines(scrape(), "bollard_state"))
		}
		time.Sleep(20 * time.Millisecond)
	}

	if body := scrapeParts(buildWithState(t, keys, "\n  backend: memory")); strings.Contains(body, "bollard_state_") {
		t.Errorf("the memory backend exports the store's metrics:\n%s", grepLines(body, "bollard_state"))
	}
}

// buildWithState builds a sidecar's parts with the given state section,
// closed when the test ends.
func buildWithState(t *testing.T, keys, stateSection string) *parts {
	t.Helper()
	t.Setenv("BOLLARD_TEST_OKTA_TOKEN", "t")
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: ""}
okta: {org_url: "http://127.0.0.1:1", api_token_env: BOLLARD_TEST_OKTA_TOKEN}
identity: {keys_file: %q}
state:%s
`, keys, stateSection))
	if err != nil {
		t.Fatal(err)
	}
	p, err := build(t.Context(), cfg, newRunOptions([]Option{WithLogger(quiet), WithAuditStdout(io.Discard)}))
	t.Cleanup(func() { p.close(context.Background()) })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// scrapeParts is what /metrics would answer.
func scrapeParts(p *parts) string {
	rec := httptest.NewRecorder()
	p.tel.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func grepLines(body, substr string) string {
	var out []string
	for line := range strings.Lines(body) {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
