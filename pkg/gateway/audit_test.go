package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
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
	if n, err := audit.Verify(bytes.NewReader(raw)); err != nil || n != 5 {
		t.Fatalf("chain: %d records, %v", n, err)
	}
	if strings.Contains(string(raw), "Hunter2-Secret!") {
		t.Fatal("a password is in the audit log in clear")
	}
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, m)
	}
	want := []struct{ action, result, deny string }{
		{"users.get", "ok", ""}, {"users.delete", "denied", "not_granted"}, {"users.delete", "confirmation_required", ""},
		{"users.create", "okta_unavailable", ""}, {"users.list", "unauthenticated", ""},
	}
	decide := spansNamed(exp, "bollard.decide")
	for i, w := range want {
		r := recs[i]
		if r["action"] != w.action || r["result"] != w.result {
			t.Errorf("record %d: %v %v, want %s %s", i, r["action"], r["result"], w.action, w.result)
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
			if n := len(h.sim.Requests()); name == "not ready" && n != 0 {
				t.Errorf("%d requests reached Okta with the audit log down", n)
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
