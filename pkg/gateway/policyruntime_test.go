package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	oktav1 "github.com/bollard-dev/bollard/api/proto/bollard/okta/v1"
	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/impact"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/target"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// regoEngine compiles a one-file policy whose decision rule body is given.
func regoEngine(t testing.TB, rego string) *decision.Engine {
	t.Helper()
	e, err := decision.New(t.Context(), decision.WithPolicyFS(fstest.MapFS{"authz.rego": {Data: []byte(rego)}}), decision.WithWatch(false))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func withGateway(opts ...Option) func(*harnessOption) {
	return func(o *harnessOption) { o.gwOpts = append(o.gwOpts, opts...) }
}

func withDecider(d Decider) func(*harnessOption) {
	return func(o *harnessOption) { o.decider = d }
}

// auditFile returns a logger writing to a temporary file and a function
// that closes it and returns its records.
func auditFile(t *testing.T) (*audit.Logger, func() []map[string]any) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "audit.log")
	logger, err := audit.New(audit.WithFile(file, 1<<20, 2), audit.WithHMACKey([]byte("test-hmac-key-0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	return logger, func() []map[string]any {
		t.Helper()
		if err := logger.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return lastRecords(t, raw)
	}
}

// lastRecords parses an audit log and returns each call's last record: a
// call's, or an outcome. Every intent must be followed by the outcome of
// the same decision, which then takes its place.
func lastRecords(t *testing.T, raw []byte) []map[string]any {
	t.Helper()
	var recs []map[string]any
	open := map[any]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		switch m["kind"] {
		case audit.KindIntent:
			if m["result"] != "pending" || m["decision_id"] == "" || open[m["decision_id"]] {
				t.Errorf("intent %v", m)
			}
			open[m["decision_id"]] = true
			continue
		case audit.KindOutcome:
			if !open[m["decision_id"]] {
				t.Errorf("outcome without its intent: %v", m)
			}
			delete(open, m["decision_id"])
		}
		recs = append(recs, m)
	}
	if len(open) > 0 {
		t.Errorf("intents without an outcome: %v", open)
	}
	return recs
}

// At most two destructive calls an hour, decided on the counts Bollard
// passes in: the third is denied, denied calls do not count, and racing
// calls cannot overrun the limit together.
const impactPolicy = `package bollard.authz

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false}} if {
	not limited
} else := {"allow": false, "deny": [{"code": "impact_limit", "message": "two an hour"}], "obligations": {"require_confirmation": false}}

limited if {
	input.action.destructive
	input.context.counts.destructive.hour >= 2
}
`

func TestImpactCountsReachThePolicy(t *testing.T) {
	h := newHarness(t, withDecider(regoEngine(t, impactPolicy)))
	ctx := as(t.Context(), adminBotKey)
	suspend := func(user string) error {
		_, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: params(t, map[string]any{"userId": user})})
		return err
	}
	// Reads never count.
	for range 3 {
		if _, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "users.list"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := suspend(oktasim.SeedUserAlice); err != nil {
		t.Fatal(err)
	}
	// A call that fails at Okta still counts: it was sent.
	if err := suspend(oktasim.SeedUserHeidi); status.Code(err) != codes.FailedPrecondition && status.Code(err) != codes.InvalidArgument {
		t.Fatalf("suspending a deprovisioned user: %v", err)
	}
	err := suspend(oktasim.SeedUserBob)
	if status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), "impact_limit") {
		t.Fatalf("third destructive call: %v, want the impact limit", err)
	}
	if st, _ := h.sim.UserStatus(oktasim.SeedUserBob); st != "ACTIVE" {
		t.Errorf("Bob is %s; a denied call reached Okta", st)
	}
	// Denied calls did not count; the counter says two.
	if got := h.server.impact.Counts(adminBot); got.Hour != 2 || got.Day != 2 {
		t.Errorf("counts = %+v, want 2/2", got)
	}
}

func TestImpactLimitHoldsUnderRace(t *testing.T) {
	counter := impact.New()
	h := newHarness(t, withDecider(regoEngine(t, impactPolicy)), withGateway(WithImpactCounter(counter)))
	ctx := as(t.Context(), adminBotKey)
	users := []string{oktasim.SeedUserAlice, oktasim.SeedUserBob, oktasim.SeedUserCarol, oktasim.SeedUserAdmin, oktasim.SeedUserIvan, oktasim.SeedUserGrace}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for _, u := range users {
		wg.Go(func() {
			_, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: params(t, map[string]any{"userId": u})})
			if status.Code(err) != codes.PermissionDenied {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 2 || counter.Counts(adminBot).Hour != 2 {
		t.Fatalf("%d calls went to Okta (counted %d), want exactly 2", allowed, counter.Counts(adminBot).Hour)
	}
}

// The policy sees what the target resolver found, and the audit record
// keeps it for replay.
type fakeTarget map[string]any

func (f fakeTarget) Facts(_ context.Context, call *catalog.Call, _ target.Lookup) (map[string]any, error) {
	if call.Action.Name != "users.delete" {
		return nil, nil
	}
	return f, nil
}

func TestTargetFactsReachThePolicyAndTheRecord(t *testing.T) {
	const policy = `package bollard.authz

decision := {"allow": false, "deny": [{"code": "protected_user", "message": "admin"}], "obligations": {"require_confirmation": false}} if {
	"SUPER_ADMIN" in input.context.target.user.admin_roles
} else := {"allow": true, "deny": [], "obligations": {"require_confirmation": false}}
`
	logger, records := auditFile(t)
	facts := fakeTarget{"user": map[string]any{"id": oktasim.SeedUserHeidi, "resolved": true, "groups": []any{}, "admin_roles": []any{"SUPER_ADMIN"}}}
	h := newHarness(t, withDecider(regoEngine(t, policy)), withGateway(WithTargetResolver(facts), WithAuditor(logger)))
	_, err := h.client.Execute(as(t.Context(), adminBotKey), &bollardv1.ExecuteRequest{Action: "users.delete", Params: params(t, map[string]any{"userId": oktasim.SeedUserHeidi})})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("err = %v, want the protected_user denial", err)
	}
	if !h.sim.UserExists(oktasim.SeedUserHeidi) {
		t.Fatal("the user was deleted")
	}
	recs := records()
	ctxRec := recs[0]["context"].(map[string]any)
	roles := ctxRec["target"].(map[string]any)["user"].(map[string]any)["admin_roles"].([]any)
	if len(roles) != 1 || roles[0] != "SUPER_ADMIN" {
		t.Errorf("record context = %v", ctxRec)
	}
	if ctxRec["counts"].(map[string]any)["destructive"].(map[string]any)["hour"] != float64(0) {
		t.Errorf("record counts = %v", ctxRec["counts"])
	}
}

const denyAllPolicy = `package bollard.authz

decision := {"allow": false, "deny": [{"code": "candidate_says_no", "message": "no"}], "obligations": {"require_confirmation": false}}
`

// The shadow policy decides every call too; its difference is recorded and
// counted, and never changes the outcome.
func TestShadowNeverChangesTheOutcome(t *testing.T) {
	logger, records := auditFile(t)
	shadow := regoEngine(t, denyAllPolicy)
	reader := sdkmetric.NewManualReader()
	inst, err := telemetry.NewInstruments(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), telemetry.Observed{})
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	h := newHarness(t, traced(exp), withGateway(WithShadow(shadow), WithAuditor(logger), WithInstruments(inst)))
	agent := as(t.Context(), devKey("reader-bot"))
	if _, err := h.client.Execute(agent, &bollardv1.ExecuteRequest{Action: "users.list"}); err != nil {
		t.Fatalf("allowed call failed because of the shadow: %v", err)
	}
	_, err = h.client.Execute(agent, &bollardv1.ExecuteRequest{Action: "groups.create", Params: params(t, map[string]any{"body": map[string]any{"profile": map[string]any{"name": "x"}}})})
	if status.Code(err) != codes.PermissionDenied || strings.Contains(err.Error(), "candidate_says_no") {
		t.Fatalf("denied call: %v, want the enforced policy's not_granted", err)
	}
	recs := records()
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	first := recs[0]["shadow"].(map[string]any)
	if first["allow"] != false || first["differs"] != true || first["revision"] != shadow.Revision() || recs[0]["result"] != "ok" {
		t.Errorf("allowed call's record: result %v, shadow %v", recs[0]["result"], first)
	}
	second := recs[1]["shadow"].(map[string]any)
	if second["differs"] != true || second["deny_codes"].([]any)[0] != "candidate_says_no" {
		t.Errorf("denied call's shadow = %v (reasons differ)", second)
	}
	if got := difference(decision.Decision{Allow: true}, decision.Decision{Allow: true}); got != "none" {
		t.Errorf("same decisions differ: %s", got)
	}

	// Traced: the decide span carries the shadow's answer.
	var diffs []string
	for _, sp := range spansNamed(exp, telemetry.SpanDecide) {
		if d, ok := attr(sp, "bollard.shadow.difference"); ok {
			diffs = append(diffs, d)
		}
	}
	if !slices.Equal(diffs, []string{"allow_to_deny", "reasons"}) {
		t.Errorf("span differences = %v", diffs)
	}
	// Counted, by difference.
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	counted := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != telemetry.MetricShadowDecisions {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				v, _ := dp.Attributes.Value("difference")
				counted[v.AsString()] += dp.Value
			}
		}
	}
	if counted["allow_to_deny"] != 1 || counted["reasons"] != 1 {
		t.Errorf("shadow metric = %v", counted)
	}
}

// A dry-run agent's denied call goes ahead and says so in its record; other
// agents are still denied, and a policy error still denies.
func TestDryRun(t *testing.T) {
	logger, records := auditFile(t)
	h := newHarness(t, withGateway(WithDryRunAgents([]string{"reader-bot"}), WithAuditor(logger)))
	create := &bollardv1.ExecuteRequest{Action: "groups.create", Params: params(t, map[string]any{"body": map[string]any{"profile": map[string]any{"name": "dry-run-group"}}})}
	if _, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), create); err != nil {
		t.Fatalf("dry-run agent's denied call: %v, want it to go ahead", err)
	}
	if _, err := h.client.Execute(as(t.Context(), devKey("helpdesk-bot")), create); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("other agent: %v, want denied", err)
	}
	recs := records()
	if recs[0]["dry_run"] != true || recs[0]["result"] != "ok" || recs[0]["deny_codes"].([]any)[0] != "not_granted" {
		t.Errorf("dry-run record: dry_run %v result %v deny_codes %v", recs[0]["dry_run"], recs[0]["result"], recs[0]["deny_codes"])
	}
	if recs[1]["dry_run"] != false || recs[1]["result"] != "denied" {
		t.Errorf("other agent's record: dry_run %v result %v", recs[1]["dry_run"], recs[1]["result"])
	}

	broken := newHarness(t, withDecider(regoEngine(t, "package bollard.authz\n\ndecision := 1\n")), withGateway(WithDryRunAgents([]string{"reader-bot"})))
	_, err := broken.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{Action: "users.list"})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("policy error in dry-run: %v, want denied", err)
	}
}

const removeFieldsPolicy = `package bollard.authz

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false, "remove_fields": ["profile.email", "credentials"]}}
`

// remove_fields is applied to every way of reading: Execute, ExecuteAll and
// the typed services.
func TestRemoveFieldsObligation(t *testing.T) {
	h := newHarness(t, withDecider(regoEngine(t, removeFieldsPolicy)))
	ctx := as(t.Context(), adminBotKey)
	check := func(what string, v any) {
		t.Helper()
		raw, _ := json.Marshal(v)
		if strings.Contains(string(raw), `"email"`) || strings.Contains(string(raw), `"credentials"`) {
			t.Errorf("%s still has a removed field: %.300s", what, raw)
		}
		if !strings.Contains(string(raw), `"login"`) {
			t.Errorf("%s lost fields it should keep: %.300s", what, raw)
		}
	}
	got, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})})
	if err != nil {
		t.Fatal(err)
	}
	check("Execute", got.GetResult().AsInterface())
	stream, err := h.client.ExecuteAll(ctx, &bollardv1.ExecuteRequest{Action: "users.list", Params: params(t, map[string]any{"limit": 3})})
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for {
		msg, err := stream.Recv()
		if err != nil {
			break
		}
		pages++
		for _, item := range msg.GetItems() {
			check("ExecuteAll", item.AsInterface())
		}
	}
	if pages < 2 {
		t.Errorf("%d pages, want several", pages)
	}
	typed, err := oktav1.NewUsersServiceClient(h.conn).GetUser(ctx, &oktav1.GetUserRequest{UserId: oktasim.SeedUserAlice})
	if err != nil {
		t.Fatal(err)
	}
	check("typed GetUser", typed.GetResult().AsInterface())
}

// An obligation the sidecar cannot honour fails the call before Okta.
func TestMalformedRemoveFieldsFailsClosed(t *testing.T) {
	const policy = `package bollard.authz

decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false, "remove_fields": "profile.email"}}
`
	h := newHarness(t, withDecider(regoEngine(t, policy)))
	before := len(h.sim.Requests())
	_, err := h.client.Execute(as(t.Context(), adminBotKey), &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})})
	if status.Code(err) != codes.Internal {
		t.Fatalf("err = %v, want INTERNAL", err)
	}
	if n := len(h.sim.Requests()) - before; n != 0 {
		t.Errorf("%d requests reached Okta", n)
	}
}

// Check and Execute carry the policy's obligations to the agent: the page
// cap and the fields removed, as protobuf values.
func TestObligationsReachTheAgent(t *testing.T) {
	h := newHarness(t)
	resp, err := h.client.Check(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{Action: "users.list"})
	if err != nil {
		t.Fatal(err)
	}
	extra := resp.GetObligations().GetExtra().AsMap()
	fields, _ := extra["remove_fields"].([]any)
	if extra["max_page_size"] != float64(200) || len(fields) == 0 || fields[0] != "profile.mobilePhone" {
		t.Errorf("obligations = %v", extra)
	}
	if got, err := protoValue(json.Number("1e999")); err == nil {
		t.Errorf("an out-of-range number converted to %v", got)
	}
}
