package gateway

import (
	"context"
	"encoding/json"
	"io/fs"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/target"
	"github.com/bollard-dev/bollard/policies"
)

// A Wednesday, 10:00 in New York: inside the shipped business hours.
var businessHours = time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)

// adminBot is a test-only agent that may manage every area, so every action
// can be driven end to end; the sample agents keep their shipped grants.
const (
	adminBot    = "admin-bot"
	adminBotKey = "bk_test_admin-bot_0123456789abcdef"
)

// strangerBot authenticates but has no grant at all.
const (
	strangerBot    = "stranger-bot"
	strangerBotKey = "bk_test_stranger-bot_0123456789ab"
)

var (
	engineOnce sync.Once
	engine     *decision.Engine
	engineErr  error
)

// testPolicies is the shipped policy set with admin-bot added to the grants
// and exempt from field removal.
func testPolicies(t testing.TB) fs.FS {
	t.Helper()
	mfs := fstest.MapFS{}
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(policies.FS, p)
		mfs[p] = &fstest.MapFile{Data: raw}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var grants map[string]any
	if err := json.Unmarshal(mfs["grants.json"].Data, &grants); err != nil {
		t.Fatal(err)
	}
	all := map[string]any{}
	for _, a := range catalog.Areas() {
		all[a.Name] = "manage"
	}
	grants["bollard"].(map[string]any)["config"].(map[string]any)["grants"].(map[string]any)["agents"].(map[string]any)[adminBot] = all
	raw, _ := json.Marshal(grants)
	mfs["grants.json"] = &fstest.MapFile{Data: raw}
	// admin-bot reads everything as Okta sent it (the shipped default
	// removes profile.mobilePhone), so that pass-through can be checked.
	var shaping map[string]any
	if err := json.Unmarshal(mfs["read_shaping.json"].Data, &shaping); err != nil {
		t.Fatal(err)
	}
	rf := shaping["bollard"].(map[string]any)["config"].(map[string]any)["read_shaping"].(map[string]any)["remove_fields"].(map[string]any)
	rf["agents"].(map[string]any)[adminBot] = []any{}
	raw, _ = json.Marshal(shaping)
	mfs["read_shaping.json"] = &fstest.MapFile{Data: raw}
	return mfs
}

func sharedEngine(t testing.TB) *decision.Engine {
	t.Helper()
	engineOnce.Do(func() {
		// A generous evaluation timeout: under -race on a loaded CI machine
		// the whole library can take longer than the production 100 ms,
		// and these tests are not about the timeout (failclosed_test is).
		engine, engineErr = decision.New(context.Background(), decision.WithPolicyFS(testPolicies(t)), decision.WithEvalTimeout(10*time.Second))
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

func testAuth(t testing.TB) Authenticator {
	t.Helper()
	keys := []identity.AgentKey{{ID: adminBot, KeySHA256: identity.HashKey(adminBotKey)}, {ID: strangerBot, KeySHA256: identity.HashKey(strangerBotKey)}}
	for id, k := range identity.DevKeys() {
		keys = append(keys, identity.AgentKey{ID: id, KeySHA256: identity.HashKey(k)})
	}
	ks, err := identity.NewKeyStore(keys)
	if err != nil {
		t.Fatal(err)
	}
	a, err := identity.New(identity.WithStaticKeys(ks))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// harness is a whole Bollard in process: the Okta simulator behind httptest,
// the real forwarder, OPA with the shipped policies, the gateway on a real
// loopback gRPC listener.
type harness struct {
	sim    *oktasim.Sim
	conn   *grpc.ClientConn
	client bollardv1.GatewayServiceClient
	server *Server
}

type harnessOption struct {
	decider   Decider
	forwarder Forwarder
	now       time.Time
	fopts     []forward.Option
	simOpts   []oktasim.Option
	gwOpts    []Option
	grpcOpts  []grpc.ServerOption
	// credential, when set, replaces the SSWS token for the simulator at url.
	credential func(t testing.TB, url string) forward.Credential
}

func newHarness(t testing.TB, opts ...func(*harnessOption)) *harness {
	t.Helper()
	ho := harnessOption{now: businessHours}
	for _, o := range opts {
		o(&ho)
	}
	sim := oktasim.New(append([]oktasim.Option{oktasim.WithAPIToken("sim-token")}, ho.simOpts...)...)
	okta := httptest.NewServer(sim.Handler())
	t.Cleanup(okta.Close)
	fwd := ho.forwarder
	if fwd == nil {
		cred := forward.WithAPIToken("sim-token")
		if ho.credential != nil {
			cred = forward.WithCredential(ho.credential(t, okta.URL))
		}
		c, err := forward.New(okta.URL, append([]forward.Option{cred}, ho.fopts...)...)
		if err != nil {
			t.Fatal(err)
		}
		fwd = c
	}
	dec := ho.decider
	if dec == nil {
		dec = sharedEngine(t)
	}
	// The real target lookups, as the sidecar wires them: the shipped
	// protected-resource rule denies destructive user actions without them.
	base := []Option{WithClock(func() time.Time { return ho.now }), WithConfirmStore(confirm.New()), WithTargetResolver(target.New(fwd))}
	srv, err := New(testAuth(t), dec, fwd, append(base, ho.gwOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(append(srv.ServerOptions(), ho.grpcOpts...)...)
	if err := srv.Register(g); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &harness{sim: sim, conn: conn, client: bollardv1.NewGatewayServiceClient(conn), server: srv}
}

// actionRequests are the requests Okta saw, less Bollard's own lookups
// (what a call changes, read before deciding it), which say so in their
// User-Agent.
func (h *harness) actionRequests() []oktasim.Request {
	var out []oktasim.Request
	for _, r := range h.sim.Requests() {
		if strings.HasSuffix(r.UserAgent, " lookup") {
			continue
		}
		out = append(out, r)
	}
	return out
}

// lookups are the requests Okta saw that were Bollard's own lookups.
func (h *harness) lookups() []oktasim.Request {
	var out []oktasim.Request
	for _, r := range h.sim.Requests() {
		if strings.HasSuffix(r.UserAgent, " lookup") {
			out = append(out, r)
		}
	}
	return out
}

func as(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
}

func devKey(agent string) string { return identity.DevKeys()[agent] }
