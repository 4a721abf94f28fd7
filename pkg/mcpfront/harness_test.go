package mcpfront_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/gateway"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/mcpfront"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/target"
	"github.com/bollard-dev/bollard/policies"
)

// A Wednesday, 10:00 in New York: inside the shipped business hours, when
// destructive actions are allowed with a person's confirmation.
var businessHours = time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)

var (
	engineOnce sync.Once
	engine     *decision.Engine
	engineErr  error
)

// sharedEngine is OPA with the shipped policies, as dev mode runs them.
func sharedEngine(t testing.TB) *decision.Engine {
	t.Helper()
	engineOnce.Do(func() {
		engine, engineErr = decision.New(context.Background(), decision.WithPolicyFS(policies.FS), decision.WithEvalTimeout(10*time.Second))
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

// records is an audit sink in memory; refuse, when set, makes it refuse
// the records of that kind, as a full disk would.
type records struct {
	mu     sync.Mutex
	rs     []audit.Record
	refuse string
}

func (r *records) Write(_ context.Context, rec *audit.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse != "" && rec.Kind == r.refuse {
		return errors.New("no sink takes " + rec.Kind + " records")
	}
	r.rs = append(r.rs, *rec)
	return nil
}

func (r *records) refuseKind(kind string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuse = kind
}
func (r *records) Spool(ctx context.Context, rec *audit.Record) error { return r.Write(ctx, rec) }
func (r *records) Ready() error                                       { return nil }

func (r *records) all() []audit.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Record(nil), r.rs...)
}

// harness is Bollard's gateway over the Okta simulator, with the MCP front
// on an httptest server, as the sidecar wires them.
type harness struct {
	sim    *oktasim.Sim
	gw     *gateway.Server
	front  *mcpfront.Server
	url    string
	audit  *records
	spans  *tracetest.InMemoryExporter
	engine *decision.Engine
	// confirm is the gateway's store of pending confirmations.
	confirm *confirm.Store
	// approvals is the gateway's store of approvals.
	approvals *approval.Store
}

type harnessOptions struct {
	engine  *decision.Engine
	front   []mcpfront.Option
	confirm *confirm.Store
}

func newHarness(t *testing.T, opts ...func(*harnessOptions)) *harness {
	t.Helper()
	var ho harnessOptions
	for _, o := range opts {
		o(&ho)
	}
	if ho.engine == nil {
		ho.engine = sharedEngine(t)
	}
	if ho.confirm == nil {
		ho.confirm = confirm.New()
	}
	sim := oktasim.New(oktasim.WithAPIToken("sim-token"))
	okta := httptest.NewServer(sim.Handler())
	t.Cleanup(okta.Close)
	fwd, err := forward.New(okta.URL, forward.WithAPIToken("sim-token"))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := identity.New(identity.WithStaticKeys(identity.DevKeyStore()))
	if err != nil {
		t.Fatal(err)
	}
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	recs := &records{}
	approvals := approval.New()
	gw, err := gateway.New(auth, ho.engine, fwd, gateway.WithClock(func() time.Time { return businessHours }),
		gateway.WithConfirmStore(ho.confirm), gateway.WithTargetResolver(target.New(fwd)), gateway.WithApprovalStore(approvals),
		gateway.WithAuditor(recs), gateway.WithTracerProvider(tp))
	if err != nil {
		t.Fatal(err)
	}
	front, err := mcpfront.New(gw, append([]mcpfront.Option{mcpfront.WithTracerProvider(tp)}, ho.front...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)
	return &harness{sim: sim, gw: gw, front: front, url: srv.URL + front.Path(), audit: recs, spans: spans, engine: ho.engine, confirm: ho.confirm, approvals: approvals}
}

// bearer adds an agent's credential to every request.
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return b.next.RoundTrip(r)
}

// connect opens a session as agent with the official Go SDK's client over
// Streamable HTTP, at the protocol version given ("" for the newest).
func (h *harness) connect(t *testing.T, agent, version string, copts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	client := mcp.NewClient(&mcp.Implementation{Name: "test-agent", Version: "v0"}, copts)
	tr := &mcp.StreamableClientTransport{Endpoint: h.url, HTTPClient: &http.Client{Transport: bearer{key: identity.DevKeys()[agent], next: http.DefaultTransport}}}
	cs, err := client.Connect(t.Context(), tr, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect as %s: %v", agent, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// policyDir is a copy of the shipped policies in a directory, to change
// and reload.
func policyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), raw, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
