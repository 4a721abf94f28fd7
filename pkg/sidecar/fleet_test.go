package sidecar

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// fleetPolicy allows everything at any hour, asks for confirmation of a
// deactivation, and denies a destructive call once the agent has made 5
// in the hour: the rules whose counting the fleet shares, without the
// shipped library's business hours.
const fleetPolicy = `package bollard.authz

import rego.v1

over if {
	input.action.destructive
	input.context.counts.destructive.hour >= 5
}

deny := [{"code": "impact_limit", "message": "the agent reached its limit of destructive calls"}] if over else := []

decision := {
	"allow": count(deny) == 0,
	"deny": deny,
	"obligations": {"require_confirmation": input.action.name == "user_lifecycle.deactivate"},
}
`

// sidecarFleet is three sidecars of one agent, as three pods would run
// them: one Okta org, one Redis, each its own process state, listener and
// audit file.
type sidecarFleet struct {
	sim     *oktasim.Sim
	clients []bollardv1.GatewayServiceClient
	hooks   []string // each replica's event hook URL
	audits  []string
}

const (
	fleetWriterKey  = "bk_fleet_writer"  // writer-bot: deletes, no budget
	fleetReaderKey  = "bk_fleet_reader"  // reader-bot: a budget of 6 a minute
	fleetConfirmKey = "bk_fleet_confirm" // confirm-bot: deactivations, confirmed
)

func startFleet(t *testing.T, srv *redistest.Server) *sidecarFleet {
	t.Helper()
	sim := oktasim.New(oktasim.WithAPIToken("t"), oktasim.WithExtraUsers(40))
	okta := httptest.NewServer(sim.Handler())
	t.Cleanup(okta.Close)
	t.Setenv("BOLLARD_TEST_OKTA_TOKEN", "t")
	dir := t.TempDir()
	keys, policy := filepath.Join(dir, "keys.yaml"), filepath.Join(dir, "policy")
	if err := os.Mkdir(policy, 0o700); err != nil {
		t.Fatal(err)
	}
	for path, body := range map[string]string{
		keys: fmt.Sprintf("agents:\n  - id: writer-bot\n    key_sha256: %s\n  - id: reader-bot\n    key_sha256: %s\n  - id: confirm-bot\n    key_sha256: %s\n",
			identity.HashKey(fleetWriterKey), identity.HashKey(fleetReaderKey), identity.HashKey(fleetConfirmKey)),
		filepath.Join(policy, "authz.rego"):  fleetPolicy,
		filepath.Join(policy, "events.rego"): "package bollard.events\n\ndecision := {\"allow\": true, \"deny\": [], \"obligations\": {\"require_confirmation\": false}}\n",
		filepath.Join(dir, "hook-secret"):    "hook-secret\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := &sidecarFleet{sim: sim}
	// Evaluations and lookups get room (1s, 10s): under the race detector
	// on a busy CI machine the default 100 ms evaluation bound turned a
	// racing call into a (fail-closed) denial, which is not what this test
	// is about.
	for i := range 3 {
		auditFile := filepath.Join(dir, fmt.Sprintf("audit-%d.log", i))
		cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, api_token_env: BOLLARD_TEST_OKTA_TOKEN}
identity: {keys_file: %q}
policy: {dir: %q, eval_timeout: 1s, target: {timeout: 10s}}
limits: {agents: {reader-bot: 6}}
audit: {stdout: false, file: %q}
hooks: {listen: "127.0.0.1:0", secret_file: %q}
state:
  backend: redis
  redis: {address: %q, key_prefix: "fleet:", read_timeout: 200ms, write_timeout: 200ms, dial_timeout: 200ms}
`, okta.URL, keys, policy, auditFile, filepath.Join(dir, "hook-secret"), srv.Addr()))
		if err != nil {
			t.Fatal(err)
		}
		addrs := start(t, cfg)
		conn, err := grpc.NewClient(addrs.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		f.clients = append(f.clients, bollardv1.NewGatewayServiceClient(conn))
		f.hooks = append(f.hooks, "http://"+addrs.Hooks.String()+"/okta/event-hooks")
		f.audits = append(f.audits, auditFile)
	}
	return f
}

func as(key string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+key)
}

func params(t *testing.T, m map[string]any) *structpb.Struct {
	p, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// reasonOf is a failed call's ErrorInfo reason and metadata.
func reasonOf(err error) (string, map[string]string) {
	for _, d := range status.Convert(err).Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason(), info.GetMetadata()
		}
	}
	return "", nil
}

// oktaCalls counts the requests that reached the simulator with this
// method and path prefix (Bollard's own lookups excluded).
func (f *sidecarFleet) oktaCalls(method, prefix string) int {
	n := 0
	for _, r := range f.sim.Requests() {
		if r.Method == method && strings.HasPrefix(r.Path, prefix) && !strings.HasSuffix(r.UserAgent, " lookup") {
			n++
		}
	}
	return n
}

// TestThreeSidecarsShareOneStore is issue 16's fleet: three sidecars with
// state.backend redis and one redis-server. An impact limit of 5 holds for
// 15 concurrent destructive calls spread over the replicas; a budget holds
// fleet-wide; a confirmation token minted on replica A is single use
// across A, B and C; with Redis killed, destructive calls are refused and
// reads go on; an event delivered to A (and again to B, as Okta retries)
// reaches watchers on B and C once each; after Redis's restart the fleet
// counts again; and every call that reached Okta is on some replica's
// audit record, intent and outcome.
func TestThreeSidecarsShareOneStore(t *testing.T) {
	srv := redistest.Start(t)
	f := startFleet(t, srv)
	a, b, c := f.clients[0], f.clients[1], f.clients[2]

	t.Run("impact limit of 5 across the fleet", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		results := map[string]int{}
		for i := range 15 {
			wg.Go(func() {
				_, err := f.clients[i%3].Execute(as(fleetWriterKey), &bollardv1.ExecuteRequest{
					Action: "users.delete", Params: params(t, map[string]any{"userId": oktasim.ExtraUserID(i)})})
				reason, md := reasonOf(err)
				key := "ok"
				if err != nil {
					key = reason + ":" + md["deny_codes"]
				}
				mu.Lock()
				results[key]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if results["ok"] != 5 || results["POLICY_DENIED:impact_limit"] != 10 {
			t.Errorf("15 deletes over three replicas: %v, want 5 ok and 10 impact_limit", results)
		}
		if n := f.oktaCalls("DELETE", "/api/v1/users/"); n != 5 {
			t.Errorf("%d deletes reached Okta, want 5", n)
		}
	})

	t.Run("budget of 6 a minute across the fleet", func(t *testing.T) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, exceeded := 0, 0
		for i := range 18 {
			wg.Go(func() {
				_, err := f.clients[i%3].Execute(as(fleetReaderKey), &bollardv1.ExecuteRequest{
					Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})})
				reason, _ := reasonOf(err)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case reason == "AGENT_BUDGET_EXCEEDED":
					exceeded++
				default:
					t.Errorf("read: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 6 || exceeded != 12 {
			t.Errorf("18 reads over three replicas with a budget of 6: %d ok, %d over budget", ok, exceeded)
		}
	})

	t.Run("a token minted on A is used once across A, B and C", func(t *testing.T) {
		req := &bollardv1.ExecuteRequest{Action: "user_lifecycle.deactivate", Params: params(t, map[string]any{"userId": oktasim.SeedUserBob})}
		_, err := a.Execute(as(fleetConfirmKey), req)
		reason, md := reasonOf(err)
		if reason != "CONFIRMATION_REQUIRED" || md["confirmation_token"] == "" {
			t.Fatalf("first call: %v", err)
		}
		req.Confirmation = md["confirmation_token"]
		var wg sync.WaitGroup
		var mu sync.Mutex
		results := map[string]int{}
		for i := range 9 {
			wg.Go(func() {
				_, err := f.clients[i%3].Execute(as(fleetConfirmKey), req)
				reason, md := reasonOf(err)
				if err == nil {
					reason = "ok"
				} else if md["deny_codes"] != "" {
					reason += ":" + md["deny_codes"]
				}
				mu.Lock()
				results[reason]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if results["ok"] != 1 || results["CONFIRMATION_INVALID"] != 8 {
			t.Errorf("nine uses of one token over three replicas: %v, want exactly one ok", results)
		}
	})

	t.Run("an event delivered to A reaches watchers on B and C once each", func(t *testing.T) {
		// The same event twice (Okta retries, here to another replica),
		// then a marker; the watchers, on B and C, resume from before them
		// (a cursor of their own, so the first answer is a gap) and get the
		// event once, then the marker, nothing in between.
		f.deliver(t, 0, "fleet-event-1")
		f.deliver(t, 1, "fleet-event-1")
		f.deliver(t, 0, "fleet-event-2")
		ctx, cancel := context.WithTimeout(as(fleetConfirmKey), 20*time.Second)
		defer cancel()
		var streams []grpc.ServerStreamingClient[bollardv1.WatchEventsResponse]
		for _, cl := range []bollardv1.GatewayServiceClient{b, c} {
			st, err := cl.WatchEvents(ctx, &bollardv1.WatchEventsRequest{EventTypes: []string{"user.lifecycle.create"}, ResumeAfter: 1})
			if err != nil {
				t.Fatal(err)
			}
			streams = append(streams, st)
		}
		for i, st := range streams {
			var got []string
			for len(got) < 2 {
				m, err := st.Recv()
				if err != nil {
					t.Fatalf("watcher %d: %v after %v", i, err, got)
				}
				if e := m.GetEvent(); e != nil {
					got = append(got, e.GetUuid())
				}
			}
			if got[0] != "fleet-event-1" || got[1] != "fleet-event-2" {
				t.Errorf("watcher on replica %d got %v, want the event once, then the marker", i+1, got)
			}
		}
	})

	t.Run("redis killed: destructive calls refused, reads go on; restarted: counting resumes", func(t *testing.T) {
		// confirm-bot, whose one destructive call so far is counted on one
		// replica: after the restart the store's counts are empty but each
		// replica's own (which the first stage reads) are not, and
		// writer-bot's could already be at the limit on one replica.
		srv.Stop()
		_, err := b.Execute(as(fleetConfirmKey), &bollardv1.ExecuteRequest{
			Action: "users.delete", Params: params(t, map[string]any{"userId": oktasim.ExtraUserID(30)})})
		if reason, _ := reasonOf(err); reason != "STATE_UNAVAILABLE" {
			t.Errorf("a delete with Redis down: %v, want STATE_UNAVAILABLE", err)
		}
		// writer-bot has no budget: its reads need no store.
		if _, err := c.Execute(as(fleetWriterKey), &bollardv1.ExecuteRequest{
			Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})}); err != nil {
			t.Errorf("a read with Redis down: %v", err)
		}
		srv.Restart() // empty: the hour's counts start again
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, err := c.Execute(as(fleetConfirmKey), &bollardv1.ExecuteRequest{
				Action: "users.delete", Params: params(t, map[string]any{"userId": oktasim.ExtraUserID(31)})})
			if err == nil {
				break
			}
			if reason, _ := reasonOf(err); reason != "STATE_UNAVAILABLE" || time.Now().After(deadline) {
				t.Fatalf("a delete after Redis came back: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("every call that reached Okta is on record", func(t *testing.T) {
		intents, outcomes := 0, 0
		for _, file := range f.audits {
			p, err := audit.PairIntents([]string{file}, 0)
			if err != nil {
				t.Fatal(err)
			}
			if lost := p.Lost(); len(lost) > 0 {
				t.Errorf("%s: intents without an outcome: %v", file, lost)
			}
			intents += p.Intents
			outcomes += p.Outcomes
		}
		okta := f.oktaCalls("DELETE", "/api/v1/users/") + f.oktaCalls("GET", "/api/v1/users/") + f.oktaCalls("POST", "/api/v1/users/")
		if intents != okta || outcomes != okta {
			t.Errorf("%d calls reached Okta, %d intents and %d outcomes on record", okta, intents, outcomes)
		}
	})
}

// deliver posts one Okta event hook delivery of event uuid to replica i.
func (f *sidecarFleet) deliver(t *testing.T, i int, uuid string) {
	t.Helper()
	body := fmt.Sprintf(`{"eventType":"com.okta.event_hook","eventId":"d-%s","data":{"events":[`+
		`{"uuid":%q,"eventType":"user.lifecycle.create","published":"2026-11-30T15:00:29.412Z",`+
		`"actor":{"id":"0oa1","type":"PublicClientApp"},"target":[{"id":"00u1","type":"User"}]}]}}`, uuid, uuid)
	req, err := http.NewRequest(http.MethodPost, f.hooks[i], strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "hook-secret")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delivery of %s to replica %d: %d", uuid, i, resp.StatusCode)
	}
}
