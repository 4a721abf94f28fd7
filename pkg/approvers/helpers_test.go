package approvers

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

const (
	peopleIssuer = "https://idp.example.com/oauth2/default"
	peopleAud    = "bollard-approvals"
	agentsIssuer = "https://kubernetes.default.svc.cluster.local"
	agentsAud    = "bollard"
	agentID      = "provisioner-bot"
	approvers    = "security-approvers"
)

var t0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// fakeClock is the one clock of the store, the verifiers and the server;
// its timers fire when it is advanced past them.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newClock() *fakeClock { return &fakeClock{t: t0} }

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) after(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.timers = append(c.timers, fakeTimer{at: c.t.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.timers = slices.DeleteFunc(c.timers, func(tm fakeTimer) bool {
		if c.t.Before(tm.at) {
			return false
		}
		tm.ch <- c.t
		return true
	})
}

// signer mints tokens of one issuer, whose keys a JWKS file holds.
type signer struct {
	key    *ecdsa.PrivateKey
	kid    string
	issuer string
	aud    string
	jwks   string
}

// Key generation is slow under -race: each key is made once per binary.
var (
	peopleKey   = sync.OnceValue(func() *ecdsa.PrivateKey { return newKey() })
	agentsKey   = sync.OnceValue(func() *ecdsa.PrivateKey { return newKey() })
	impostorKey = sync.OnceValue(func() *ecdsa.PrivateKey { return newKey() })
)

func newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func newSigner(t testing.TB, key *ecdsa.PrivateKey, kid, issuer, aud string) *signer {
	t.Helper()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}}}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), kid+".jwks.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return &signer{key: key, kid: kid, issuer: issuer, aud: aud, jwks: path}
}

func (s *signer) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: s.key, KeyID: s.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(sg).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// claims are valid at t0 for an hour; kv replaces or (with nil) removes.
func (s *signer) claims(sub string, kv ...any) map[string]any {
	c := map[string]any{"iss": s.issuer, "aud": s.aud, "sub": sub,
		"iat": t0.Add(-time.Minute).Unix(), "exp": t0.Add(time.Hour).Unix()}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func (s *signer) verifier(t testing.TB, clk *fakeClock) *identity.JWTVerifier {
	t.Helper()
	v, err := identity.NewJWTVerifier(t.Context(), identity.WithIssuer(s.issuer), identity.WithAudience(s.aud),
		identity.WithJWKSFile(s.jwks), identity.WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// person is an approver with the claims their token carries.
type person struct {
	sub, email string
	groups     []string
}

var (
	ann   = person{"00uANN", "ann@example.com", []string{approvers}}
	bob   = person{"00uBOB", "bob@example.com", []string{approvers, "oncall"}}
	carol = person{"00uCAROL", "carol@example.com", []string{"helpdesk"}}
	dave  = person{"00uDAVE", "dave@example.com", []string{approvers}} // the user the call changes
	erin  = person{"00uERIN", "erin@example.com", []string{approvers}} // the person the agent acts for
)

// flakySink is an audit sink that fails while told to.
type flakySink struct {
	mu   sync.Mutex
	fail atomic.Bool
	buf  []byte
}

func (f *flakySink) Write(p []byte) (int, error) {
	if f.fail.Load() {
		return 0, errors.New("disk full")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf = append(f.buf, p...)
	return len(p), nil
}

// hookedAuditor runs a hook before each record reaches the log.
type hookedAuditor struct {
	Auditor
	before func(*audit.Record)
}

func (h *hookedAuditor) Write(ctx context.Context, r *audit.Record) error {
	if h.before != nil {
		h.before(r)
	}
	return h.Auditor.Write(ctx, r)
}

// harness is the service on a loopback listener, a client, and what is
// behind it.
type harness struct {
	clk      *fakeClock
	store    *approval.Store
	srv      *Server
	client   bollardv1.ApprovalServiceClient
	people   *signer
	agents   *signer
	auditLog string
	sink     *flakySink
	spans    *tracetest.InMemoryExporter
	auditor  *hookedAuditor
	logs     tooltest.Buffer
}

// newHarness records votes in a file, read back by records.
func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	return build(t, false, nil, opts...)
}

// newFlakyHarness records votes in a sink that fails on demand (failAudit).
func newFlakyHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	return build(t, true, nil, opts...)
}

// newSharedHarness keeps the approvals in the store st shares with other
// harnesses (replicas).
func newSharedHarness(t *testing.T, st *state.Store, opts ...Option) *harness {
	t.Helper()
	return build(t, false, []approval.Option{approval.WithShared(st)}, opts...)
}

func build(t *testing.T, flaky bool, storeOpts []approval.Option, opts ...Option) *harness {
	t.Helper()
	h := &harness{clk: newClock(), people: newSigner(t, peopleKey(), "people-1", peopleIssuer, peopleAud),
		agents: newSigner(t, agentsKey(), "agents-1", agentsIssuer, agentsAud), sink: &flakySink{},
		spans: tracetest.NewInMemoryExporter(), auditLog: filepath.Join(t.TempDir(), "audit.log")}
	isAgent := func(s string) bool { return s == agentID || s == "reader-bot" }
	h.store = approval.New(append([]approval.Option{approval.WithClock(h.clk.now), approval.WithAgents(isAgent)}, storeOpts...)...)
	t.Cleanup(func() { h.store.Close() })
	agentChain, err := identity.New(identity.WithJWT(h.agents.verifier(t, h.clk)))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := NewJWTAuthenticator(h.people.verifier(t, h.clk), WithAgentIDs(isAgent), WithAgentCredentials(agentChain))
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	sink := audit.WithFile(h.auditLog, 0, 0)
	if flaky {
		sink = audit.WithStdout(h.sink)
	}
	logger, err := audit.New(sink, audit.WithHMACKey(key), audit.WithClock(h.clk.now), audit.WithWriteTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logger.Close(context.Background()) })
	h.auditor = &hookedAuditor{Auditor: logger}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans))
	base := []Option{WithClock(h.clk.now), WithTracerProvider(tp),
		WithLogger(slog.New(slog.NewTextHandler(&h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}
	h.srv, err = New(h.store, auth, h.auditor, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.srv.after = h.clk.after

	gs := grpc.NewServer()
	bollardv1.RegisterApprovalServiceServer(gs, h.srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		h.srv.Close()
		gs.Stop()
	})
	h.client = bollardv1.NewApprovalServiceClient(conn)
	return h
}

// failAudit makes the flaky harness's one sink fail, or work again.
func (h *harness) failAudit(fail bool) { h.sink.fail.Store(fail) }

// token of a person, valid for an hour from t0.
func (h *harness) token(t *testing.T, p person, kv ...any) string {
	t.Helper()
	kv = append([]any{"email", p.email, "groups", p.groups}, kv...)
	return h.people.sign(t, h.people.claims(p.sub, kv...))
}

// as is a context carrying the bearer token.
func as(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// create stores a pending approval of agentID, for the approver sets given
// as groups (one set per argument), changing user 00uDAVE on behalf of
// erin.
// agentTraceParent is the trace of the agent's call that asked for every
// approval the harness creates.
const agentTraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

func (h *harness) create(t *testing.T, approvals int, sets ...[]string) approval.Approval {
	t.Helper()
	req := approval.Request{
		Binding:    approval.Binding{Agent: agentID, Action: "users.delete", ParamsHash: [32]byte{1}},
		Params:     map[string]any{"userId": dave.sub},
		OnBehalfOf: erin.email, Concerns: []string{dave.sub}, DecisionID: "dec-" + rand.Text()[:6],
		TraceParent: agentTraceParent,
		Requirement: approval.Requirement{Approvals: approvals, TTL: 15 * time.Minute, Reason: "deleting a user"},
	}
	if len(sets) == 0 {
		sets = [][]string{{approvers}}
	}
	for _, g := range sets {
		req.Requirement.Approvers = append(req.Requirement.Approvers, approval.Set{Groups: g})
	}
	a, err := h.store.Create(req)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// records reads the audit file back, the approval records only.
func (h *harness) records(t *testing.T) []*audit.Entry {
	t.Helper()
	f, err := os.Open(h.auditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*audit.Entry
	r := audit.NewReader(f)
	for {
		e, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == audit.KindApproval {
			out = append(out, e)
		}
	}
}

// wantStatus checks the code and the ErrorInfo reason (domain
// bollard.dev), and returns the metadata and field violations.
func wantStatus(t *testing.T, err error, code codes.Code, reason string) (map[string]string, []*errdetails.BadRequest_FieldViolation) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("status %v, want %v %s", err, code, reason)
	}
	var (
		info   *errdetails.ErrorInfo
		fields []*errdetails.BadRequest_FieldViolation
	)
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			fields = d.FieldViolations
		}
	}
	if info == nil || info.Reason != reason || info.Domain != Domain {
		t.Fatalf("status %v: ErrorInfo %v, want reason %s in %s", err, info, reason, Domain)
	}
	return info.Metadata, fields
}

// metadataCtx sends header as the authorization value, as it is.
func metadataCtx(ctx context.Context, header string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", header)
}
