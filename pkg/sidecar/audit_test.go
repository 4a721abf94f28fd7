package sidecar

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// TestShutdownKeepsEveryAuditRecord: calls, then the context ends as on
// SIGTERM; once Run has returned, the audit file holds one record per call
// in a chain that verifies.
func TestShutdownKeepsEveryAuditRecord(t *testing.T) {
	okta := httptest.NewServer(oktasim.New(oktasim.WithAPIToken("t")).Handler())
	defer okta.Close()
	dir := t.TempDir()
	key, _ := identity.GenerateKey()
	files := map[string]string{
		"token":     "t",
		"keys.yaml": fmt.Sprintf("agents:\n  - id: reader-bot\n    key_sha256: %s\n", identity.HashKey(key)),
		"hmac":      "0123456789abcdef0123456789abcdef",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	auditFile := filepath.Join(dir, "audit.log")
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, api_token_file: %q}
identity: {keys_file: %q}
audit: {stdout: false, file: %q, hmac_key_file: %q}
`, okta.URL, filepath.Join(dir, "token"), filepath.Join(dir, "keys.yaml"), auditFile, filepath.Join(dir, "hmac")))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, WithLogger(quiet), WithAuditStdout(io.Discard), WithReady(func(a Addrs) { ready <- a }))
	}()
	var addrs Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("did not start")
	}
	conn, err := grpc.NewClient(addrs.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gw := bollardv1.NewGatewayServiceClient(conn)
	callCtx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+key)
	const calls = 25
	for range calls {
		if _, err := gw.Execute(callCtx, &bollardv1.ExecuteRequest{Action: "users.list"}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	f, err := os.Open(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// An intent and an outcome for each call, every intent paired, between
	// the checkpoints written at start and at shutdown.
	sum, err := audit.VerifyWith(f, audit.VerifyOptions{Key: []byte(files["hmac"])})
	if err != nil || sum.Records != 2*calls+2 || sum.Seals != 2 || sum.LastSeal.Reason != audit.SealClose {
		t.Fatalf("audit file: %+v, %v; want %d records sealed at Close in a valid chain", sum, err, 2*calls+2)
	}
	if p, err := audit.PairIntents([]string{auditFile}, 0); err != nil || p.Intents != calls || len(p.Unpaired) != 0 {
		t.Fatalf("pairing: %+v, %v", p, err)
	}
	raw, _ := os.ReadFile(auditFile)
	if strings.Contains(string(raw), key) {
		t.Error("the agent key is in the audit log")
	}
}

// TestExportCheckpoint: each audit checkpoint's head leaves the node as a
// gauge per sink and a span, for `audit verify --head`.
func TestExportCheckpoint(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	inst, err := telemetry.NewInstruments(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)), telemetry.Observed{})
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp)).Tracer(telemetry.ScopeName)
	c := audit.Checkpoint{Sink: "stdout", Seq: 42, Hash: strings.Repeat("ab", 32)}
	exportCheckpoint(tracer, inst, c)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	var seq int64 = -1
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == telemetry.MetricAuditCheckpoint {
				for _, p := range g.DataPoints {
					if v, _ := p.Attributes.Value("sink"); v.AsString() == "stdout" {
						seq = p.Value
					}
				}
			}
		}
	}
	if seq != 42 {
		t.Errorf("gauge %s{sink=stdout} = %d, want 42", telemetry.MetricAuditCheckpoint, seq)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != telemetry.SpanAuditCheckpoint {
		t.Fatalf("spans = %v", spans)
	}
	found := false
	for _, a := range spans[0].Attributes {
		found = found || a.Key == telemetry.AttrAuditHead && a.Value.AsString() == c.Head()
	}
	if !found {
		t.Errorf("span attributes %v lack the head %s", spans[0].Attributes, c.Head())
	}
}
