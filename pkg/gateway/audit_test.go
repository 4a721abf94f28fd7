package gateway

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestAuditRecordsEveryCall runs an allow, a deny, a confirmation and an
// Okta error, then reads the audit file: one record each, a verified chain,
// the fields that matter, and a password that is never in clear.
func TestAuditRecordsEveryCall(t *testing.T) {
	file := filepath.Join(t.TempDir(), "audit.log")
	logger, err := audit.New(audit.WithFile(file, 1<<20, 2), audit.WithHMACKey([]byte("test-hmac-key-0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	h := newHarness(t, traced(exp), func(o *harnessOption) { o.gwOpts = append(o.gwOpts, WithAuditor(logger)) })
	reader, provisioner := as(t.Context(), devKey("reader-bot")), as(t.Context(), devKey("provisioner-bot"))

	h.client.Execute(reader, &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})})
	h.client.Execute(reader, &bollardv1.ExecuteRequest{Action: "users.delete", Params: params(t, map[string]any{"userId": oktasim.SeedUserHeidi})})
	h.client.Execute(provisioner, &bollardv1.ExecuteRequest{Action: "users.delete", Params: params(t, map[string]any{"userId": oktasim.SeedUserHeidi})})
	h.sim.InjectFault(oktasim.Fault{Method: "POST", Status: 500, Count: 1})
	h.client.Execute(provisioner, &bollardv1.ExecuteRequest{Action: "users.create", Params: params(t, map[string]any{"body": map[string]any{
		"profile":     map[string]any{"login": "new@example.com", "email": "new@example.com", "firstName": "N", "lastName": "N"},
		"credentials": map[string]any{"password": map[string]any{"value": "Hunter2-Secret!"}},
	}})})
	h.client.Execute(context.Background(), &bollardv1.ExecuteRequest{Action: "users.list"})
	if err := logger.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The two calls that reached Okta have an intent and an outcome.
	if n, err := audit.Verify(bytes.NewReader(raw)); err != nil || n != 7 {
		t.Fatalf("chain: %d records, %v", n, err)
	}
	if strings.Contains(string(raw), "Hunter2-Secret!") {
		t.Fatal("a password is in the audit log in clear")
	}
	recs := lastRecords(t, raw)
	want := []struct{ kind, action, result, deny string }{
		{"outcome", "users.get", "ok", ""}, {"call", "users.delete", "denied", "not_granted"}, {"call", "users.delete", "confirmation_required", ""},
		{"outcome", "users.create", "okta_unavailable", ""}, {"call", "users.list", "unauthenticated", ""},
	}
	decide := spansNamed(exp, "bollard.decide")
	for i, w := range want {
		r := recs[i]
		if r["kind"] != w.kind || r["action"] != w.action || r["result"] != w.result {
			t.Errorf("record %d: %v %v %v, want %s %s %s", i, r["kind"], r["action"], r["result"], w.kind, w.action, w.result)
		}
		codes, _ := r["deny_codes"].([]any)
		if (w.deny == "") != (len(codes) == 0) || (w.deny != "" && codes[0] != w.deny) {
			t.Errorf("record %d deny codes %v, want %q", i, codes, w.deny)
		}
		if i < 4 && (r["decision_id"] == "" || r["policy_revision"] == "") {
			t.Errorf("record %d lacks the decision: %v", i, r)
		}
		if r["trace_id"] != decide[i].SpanContext.TraceID().String() {
			t.Errorf("record %d trace id %v, span %s", i, r["trace_id"], decide[i].SpanContext.TraceID())
		}
	}
	if okta := recs[0]["okta"].(map[string]any); okta["status"] != float64(200) || okta["request_id"] == "" {
		t.Errorf("okta info = %v", okta)
	}
	if !strings.Contains(string(raw), "hmac-sha256:") {
		t.Error("the password was not replaced by its HMAC")
	}
}

type brokenAuditor struct{ ready, write error }

func (b brokenAuditor) Ready() error                               { return b.ready }
func (b brokenAuditor) Write(context.Context, *audit.Record) error { return b.write }
func (b brokenAuditor) Spool(context.Context, *audit.Record) error { return b.write }

// TestAuditFailsClosed: when no sink can take records, nothing reaches
// Okta and the agent is told why; a record that fails after the call is
// still reported as a failure.
func TestAuditFailsClosed(t *testing.T) {
	down := errors.New("disk full")
	for name, a := range map[string]brokenAuditor{"not ready": {ready: down, write: down}, "write fails": {write: down}} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, func(o *harnessOption) { o.gwOpts = append(o.gwOpts, WithAuditor(a)) })
			_, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
				Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice}),
			})
			ei := wantStatus(t, err, codes.Unavailable, ReasonAuditUnavailable)
			if ei.Metadata["deny_codes"] != "audit_unavailable" {
				t.Errorf("metadata = %v", ei.Metadata)
			}
			// A call decided on facts from Okta: not even its lookups go
			// out while the log cannot take records.
			_, err = h.client.Execute(as(t.Context(), devKey("provisioner-bot")), &bollardv1.ExecuteRequest{
				Action: "users.delete", Params: params(t, map[string]any{"userId": oktasim.SeedUserHeidi}),
			})
			if name == "not ready" {
				wantStatus(t, err, codes.Unavailable, ReasonAuditUnavailable)
				if n := len(h.sim.Requests()); n != 0 {
					t.Errorf("%d requests (lookups included) reached Okta with the audit log down", n)
				}
			}
			if n := len(h.actionRequests()); n != 0 {
				t.Errorf("%d calls reached Okta with the audit log down", n)
			}
		})
	}
}

// TestPolicyMaskObligationReachesTheAuditRecord: a policy names a field to
// mask, and the record carries its HMAC instead of the value.
func TestPolicyMaskObligationReachesTheAuditRecord(t *testing.T) {
	file := filepath.Join(t.TempDir(), "audit.log")
	logger, err := audit.New(audit.WithFile(file, 1<<20, 1), audit.WithHMACKey([]byte("test-hmac-key-0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *harnessOption) {
		o.decider = listPolicy(t, `"mask": ["body.profile.mobilePhone"]`)
		o.gwOpts = append(o.gwOpts, WithAuditor(logger))
	})
	phone := "+1 555 0100 77"
	if _, err := h.client.Execute(as(t.Context(), devKey("provisioner-bot")), &bollardv1.ExecuteRequest{Action: "users.update", Params: params(t, map[string]any{
		"userId": oktasim.SeedUserAlice, "body": map[string]any{"profile": map[string]any{"mobilePhone": phone, "title": "Lead"}},
	})}); err != nil {
		t.Fatal(err)
	}
	if err := logger.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(file)
	if strings.Contains(string(raw), phone) || !strings.Contains(string(raw), logger.MaskValue(phone)) || !strings.Contains(string(raw), `"Lead"`) {
		t.Errorf("record = %s", raw)
	}
}

// pipe is an audit device that can break, like a log pipe whose reader died.
type pipe struct {
	mu     sync.Mutex
	broken bool
	buf    bytes.Buffer
}

func (p *pipe) set(broken bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.broken = broken
}

func (p *pipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken {
		return 0, errors.New("broken pipe")
	}
	return p.buf.Write(b)
}

// afterOkta runs then once Okta has answered: a fault at the worst moment.
type afterOkta struct {
	Forwarder
	then func()
}

func (f afterOkta) Do(ctx context.Context, call *catalog.Call, id string) (*forward.Response, error) {
	resp, err := f.Forwarder.Do(ctx, call, id)
	f.then()
	return resp, err
}

// TestNothingDoneAtOktaGoesUnrecorded: the audit device fails just after
// Okta created a user. The call's intent was kept before Okta saw anything;
// the agent gets Okta's real answer, marked pending (not a refusal, which
// would make it retry into a duplicate); the outcome is spooled and written
// once the device is back. A device that is down before the call keeps the
// call from Okta altogether.
func TestNothingDoneAtOktaGoesUnrecorded(t *testing.T) {
	dev := &pipe{}
	logger, err := audit.New(audit.WithStdout(dev), audit.WithHMACKey([]byte("test-hmac-key-0123456789abcdef")),
		audit.WithSpool(filepath.Join(t.TempDir(), "audit.spool"), 0))
	if err != nil {
		t.Fatal(err)
	}
	defer logger.Close(context.Background())
	sim := oktasim.New(oktasim.WithAPIToken("sim-token"))
	okta := httptest.NewServer(sim.Handler())
	defer okta.Close()
	fwd, err := forward.New(okta.URL, forward.WithAPIToken("sim-token"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *harnessOption) {
		o.forwarder = afterOkta{Forwarder: fwd, then: func() { dev.set(true) }}
		o.gwOpts = append(o.gwOpts, WithAuditor(logger))
	})
	create := func(login string) *bollardv1.ExecuteRequest {
		return &bollardv1.ExecuteRequest{Action: "users.create", Params: params(t, map[string]any{"body": map[string]any{
			"profile": map[string]any{"login": login, "email": login, "firstName": "N", "lastName": "N"},
		}})}
	}
	var trailer metadata.MD
	resp, err := h.client.Execute(as(t.Context(), devKey("provisioner-bot")), create("wal@example.com"), grpc.Trailer(&trailer))
	if err != nil {
		t.Fatalf("a call Okta carried out was reported as %v", err)
	}
	if !resp.GetOkta().GetAuditPending() || resp.GetOkta().GetHttpStatus() != 200 || !slices.Equal(trailer.Get(TrailerAudit), []string{"pending"}) {
		t.Errorf("okta %v, trailer %v: want Okta's answer marked pending", resp.GetOkta(), trailer)
	}
	if n := len(sim.Requests()); n != 1 {
		t.Errorf("Okta saw %d requests, want the one create", n)
	}
	if logger.Pending() != 1 {
		t.Errorf("%d records pending, want the outcome", logger.Pending())
	}

	// With the device still down, the next call never reaches Okta.
	_, err = h.client.Execute(as(t.Context(), devKey("provisioner-bot")), create("wal2@example.com"))
	wantStatus(t, err, codes.Unavailable, ReasonAuditUnavailable)
	if n := len(sim.Requests()); n != 1 {
		t.Errorf("Okta saw %d requests with the audit device down", n)
	}

	dev.set(false)
	if err := logger.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	dev.mu.Lock()
	raw := bytes.Clone(dev.buf.Bytes())
	dev.mu.Unlock()
	recs := lastRecords(t, raw) // fails on an intent without its outcome
	if len(recs) != 1 {
		t.Fatalf("records %v", recs)
	}
	out := recs[0]
	if out["kind"] != "outcome" || out["result"] != "ok" || out["detail"].(map[string]any)["spooled"] != true ||
		out["okta"].(map[string]any)["status"] != float64(200) {
		t.Errorf("outcome = %v", out)
	}
}
