package gateway

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/impact"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// fleet is three sidecars of one agent: one Okta org, one Redis, each
// replica with its own connection to it, its own gRPC server, its own
// confirmation store (an agent redeems a token where it got it).
type fleet struct {
	sim      *oktasim.Sim
	replicas []*harness
}

func newFleet(t *testing.T, srv *redistest.Server, users int, opts ...func(*harnessOption)) *fleet {
	t.Helper()
	sim := oktasim.New(oktasim.WithAPIToken("sim-token"), oktasim.WithExtraUsers(users))
	okta := httptest.NewServer(sim.Handler())
	t.Cleanup(okta.Close)
	f := &fleet{sim: sim}
	cfg := srv.Config() // one prefix for the fleet
	for range 3 {
		fwd, err := forward.New(okta.URL, forward.WithAPIToken("sim-token"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := state.Open(t.Context(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		f.replicas = append(f.replicas, newHarness(t, append([]func(*harnessOption){func(o *harnessOption) { o.forwarder = fwd },
			withGateway(WithImpactCounter(impact.NewShared(st)))}, opts...)...))
	}
	return f
}

// deletes are the users.delete calls that reached Okta (not Bollard's own
// lookups).
func (f *fleet) deletes() int {
	n := 0
	for _, r := range f.sim.Requests() {
		if r.Method == "DELETE" && strings.HasPrefix(r.Path, "/api/v1/users/") && !strings.HasSuffix(r.UserAgent, " lookup") {
			n++
		}
	}
	return n
}

// deleteUser is provisioner-bot deleting a user through replica h, with
// the confirmation the shipped policy asks for.
func deleteUser(ctx context.Context, h *harness, user string) error {
	ctx = as(ctx, devKey("provisioner-bot"))
	req := &bollardv1.ExecuteRequest{Action: "users.delete", Params: structOf(map[string]any{"userId": user})}
	_, err := h.client.Execute(ctx, req)
	if reasonOf(err) != ReasonConfirmationRequired {
		return err
	}
	req.Confirmation = infoOf(err).GetMetadata()["confirmation_token"]
	_, err = h.client.Execute(ctx, req)
	return err
}

// structOf is params for a goroutine, where a test must not stop: the
// parameters are this file's own, always valid.
func structOf(m map[string]any) *structpb.Struct {
	s, _ := structpb.NewStruct(m)
	return s
}

func infoOf(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei
		}
	}
	return nil
}

// The shipped policy limits provisioner-bot to 5 destructive calls an
// hour. 15 racing deletes spread over three replicas sharing one Redis:
// exactly 5 reach Okta, the other 10 are denied with the impact limit.
func TestImpactLimitHoldsAcrossAFleet(t *testing.T) {
	srv := redistest.Start(t)
	f := newFleet(t, srv, 15)
	var wg sync.WaitGroup
	var mu sync.Mutex
	results := map[string]int{}
	for i := range 15 {
		h := f.replicas[i%3]
		wg.Go(func() {
			err := deleteUser(t.Context(), h, oktasim.ExtraUserID(i))
			got := "ok"
			switch {
			case err == nil:
			case status.Code(err) == codes.PermissionDenied && strings.Contains(infoOf(err).GetMetadata()["deny_codes"], "impact_limit"):
				got = "impact_limit"
			default:
				got = err.Error()
			}
			mu.Lock()
			results[got]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if results["ok"] != 5 || results["impact_limit"] != 10 || len(results) != 2 {
		t.Fatalf("results %v, want 5 ok and 10 impact_limit", results)
	}
	if n := f.deletes(); n != 5 {
		t.Fatalf("%d deletes reached Okta, want exactly 5", n)
	}
}

// Redis killed mid-test: a destructive call is refused with
// STATE_UNAVAILABLE and never reaches Okta, reads go on; restarted, the
// counts start again from what was counted after it (the store came back
// empty), and the refused calls were never counted.
func TestImpactWithTheStoreKilledAndRestarted(t *testing.T) {
	srv := redistest.Start(t)
	f := newFleet(t, srv, 10)
	a, b := f.replicas[0], f.replicas[1]
	for i := range 2 {
		if err := deleteUser(t.Context(), a, oktasim.ExtraUserID(i)); err != nil {
			t.Fatal(err)
		}
	}
	srv.Stop()
	for _, h := range []*harness{a, b} {
		err := deleteUser(t.Context(), h, oktasim.ExtraUserID(2))
		if status.Code(err) != codes.Unavailable || reasonOf(err) != ReasonStateUnavailable {
			t.Fatalf("delete with the store down: %v, want UNAVAILABLE/%s", err, ReasonStateUnavailable)
		}
	}
	if _, err := b.client.Execute(as(t.Context(), devKey("provisioner-bot")), &bollardv1.ExecuteRequest{Action: "users.list"}); err != nil {
		t.Fatalf("a read with the store down: %v", err)
	}
	if n := f.deletes(); n != 2 {
		t.Fatalf("%d deletes reached Okta, want the 2 before the store went", n)
	}
	srv.Restart()
	// The limit of 5 counts from the restart: 5 more go, the sixth is
	// denied, through whichever replica.
	for i := range 6 {
		err := deleteUser(t.Context(), f.replicas[i%3], oktasim.ExtraUserID(2+i))
		if i < 5 && err != nil {
			t.Fatalf("delete %d after the restart: %v", i+1, err)
		}
		if i == 5 && !strings.Contains(infoOf(err).GetMetadata()["deny_codes"], "impact_limit") {
			t.Fatalf("sixth delete after the restart: %v, want the impact limit", err)
		}
	}
	if n := f.deletes(); n != 7 {
		t.Errorf("%d deletes reached Okta, want 7", n)
	}
}

// A replica decides a destructive call against what it knows of the
// agent's counts, and the store counts it only if they are still the
// fleet's. Replica B spends the agent's limit of 5; replica A, which has
// seen none of it, decides its delete against 0 and allows it, but the
// count finds 5: decided again, the delete is denied with the impact limit
// and never reaches Okta, and the answer is the final decision's.
func TestImpactDecidedAgainWhenTheFleetsCountsMoved(t *testing.T) {
	srv := redistest.Start(t)
	f := newFleet(t, srv, 10)
	a, b := f.replicas[0], f.replicas[1]
	for i := range 5 {
		if err := deleteUser(t.Context(), b, oktasim.ExtraUserID(i)); err != nil {
			t.Fatal(err)
		}
	}
	if c := a.server.impact.Counts("provisioner-bot"); c != (impact.Counts{}) {
		t.Fatalf("replica A already knows counts %+v; the test needs it not to", c)
	}
	err := deleteUser(t.Context(), a, oktasim.ExtraUserID(5))
	if status.Code(err) != codes.PermissionDenied || infoOf(err).GetMetadata()["deny_codes"] != "impact_limit" {
		t.Fatalf("delete on a replica that had not seen the fleet's 5: %v, want denied with impact_limit", err)
	}
	if n := f.deletes(); n != 5 {
		t.Fatalf("%d deletes reached Okta, want 5", n)
	}
	// A has learnt the counts: its next delete is denied at once.
	if c := a.server.impact.Counts("provisioner-bot"); c.Hour != 5 {
		t.Errorf("replica A's counts after the move %+v, want 5 this hour", c)
	}
}

// countObligations is the shipped policy, except that a destructive call
// needs confirmation once the agent has made one in the hour: a policy
// whose obligations, not only its verdict, follow the counts.
type countObligations struct{ Decider }

func (d countObligations) Decide(ctx context.Context, in decision.Input) decision.Decision {
	out := d.Decider.Decide(ctx, in)
	if in.Action != nil && in.Action.Destructive {
		hour := in.Context["counts"].(map[string]any)["destructive"].(map[string]any)["hour"].(int)
		out.Obligations.RequireConfirmation = hour > 0
	}
	return out
}

// A call decided again with other obligations than it was held to (here a
// confirmation it never gave) does not go: ABORTED, DECISION_CHANGED, for
// the agent to send it again; nothing reaches Okta.
func TestImpactDecisionChangedWithTheCounts(t *testing.T) {
	srv := redistest.Start(t)
	f := newFleet(t, srv, 4, func(o *harnessOption) { o.decider = countObligations{sharedEngine(t)} })
	a, b := f.replicas[0], f.replicas[1]
	del := func(h *harness, user string) error {
		_, err := h.client.Execute(as(t.Context(), devKey("provisioner-bot")),
			&bollardv1.ExecuteRequest{Action: "users.delete", Params: structOf(map[string]any{"userId": user})})
		return err
	}
	if err := del(b, oktasim.ExtraUserID(0)); err != nil {
		t.Fatalf("the agent's first delete, unconfirmed: %v", err)
	}
	err := del(a, oktasim.ExtraUserID(1))
	if status.Code(err) != codes.Aborted || reasonOf(err) != ReasonDecisionChanged {
		t.Fatalf("a delete decided against 0 where the fleet had 1: %v, want ABORTED/%s", err, ReasonDecisionChanged)
	}
	if n := f.deletes(); n != 1 {
		t.Fatalf("%d deletes reached Okta, want 1", n)
	}
	// Sent again, it is decided against the fleet's count and asks for
	// its confirmation.
	if err := del(a, oktasim.ExtraUserID(1)); reasonOf(err) != ReasonConfirmationRequired {
		t.Fatalf("the delete sent again: %v, want %s", err, ReasonConfirmationRequired)
	}
}

// budgetedFleet is n replicas sharing srv for impact counts and budgets:
// admin-bot may make `budget` calls a minute (the store's clock stopped,
// so none refill), and destructive calls count against its impact limits.
func budgetedFleet(t *testing.T, srv *redistest.Server, n, perMinute int) []*harness {
	t.Helper()
	at := time.Unix(1_790_000_000, 0)
	var hs []*harness
	for range n {
		st, err := state.Open(t.Context(), srv.Config(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		b := budget.NewShared(st, budget.New(0, map[string]int{adminBot: perMinute}), budget.WithStoreClock(func() time.Time { return at }))
		hs = append(hs, newHarness(t, withGateway(WithBudget(b), WithImpactCounter(impact.NewShared(st)))))
	}
	return hs
}

// deactivateApp is admin-bot deactivating an app through h, confirmed:
// a destructive call that needs no lookup at Okta.
func deactivateApp(t *testing.T, h *harness) error {
	t.Helper()
	ctx := as(t.Context(), adminBotKey)
	req := &bollardv1.ExecuteRequest{Action: "apps.deactivate", Params: params(t, map[string]any{"appId": oktasim.SeedAppGitHub})}
	_, err := h.client.Execute(ctx, req)
	if reasonOf(err) != ReasonConfirmationRequired {
		t.Fatalf("first attempt: %v, want a confirmation token", err)
	}
	req.Confirmation = infoOf(err).GetMetadata()["confirmation_token"]
	_, err = h.client.Execute(ctx, req)
	return err
}

// scripts is how many scripts the server has run.
func scripts(t *testing.T, c *redis.Client) int {
	t.Helper()
	n := 0
	for _, cmd := range []string{"evalsha", "eval"} {
		info, err := c.InfoMap(t.Context(), "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		stats := info["Commandstats"]["cmdstat_"+cmd]
		calls, _, _ := strings.Cut(strings.TrimPrefix(stats, "calls="), ",")
		if v, err := strconv.Atoi(calls); err == nil {
			n += v
		}
	}
	return n
}

// impactCounted is what the store counted for the agent this hour.
func impactCounted(t *testing.T, c *redis.Client, agent string) int {
	t.Helper()
	keys, err := c.Keys(t.Context(), "*impact:*").Result()
	if err != nil || len(keys) > 1 {
		t.Fatalf("impact keys %v (%v)", keys, err)
	}
	n := 0
	for _, k := range keys {
		for f, v := range c.HGetAll(t.Context(), k).Val() {
			if strings.HasPrefix(f, "m") {
				x, _ := strconv.Atoi(v)
				n += x
			}
		}
	}
	return n
}

// A budgeted agent's destructive call is cleared to go in one script, one
// round trip: its budget spent and its impact counted together, or
// neither. A refusal of the budget counts nothing; counts that moved spend
// nothing.
func TestBudgetAndImpactInOneScript(t *testing.T) {
	srv := redistest.Start(t)
	rc := srv.Client()
	hs := budgetedFleet(t, srv, 2, 3)
	a, b := hs[0], hs[1]

	if err := deactivateApp(t, b); err != nil {
		t.Fatal(err)
	}
	// A has seen none of it: its first count finds the counts moved, is
	// decided again and counted, spending the budget once: with 3 a minute,
	// B's call and A's leave one for a third call.
	if err := deactivateApp(t, a); err != nil {
		t.Fatalf("a call whose counts moved, decided again: %v", err)
	}
	// A's next call, which knows the counts (and finds the scripts loaded),
	// is cleared to go in one script.
	before := scripts(t, rc)
	if err := deactivateApp(t, a); err != nil {
		t.Fatalf("the third call of a budget of 3: %v (the moved attempt spent the budget?)", err)
	}
	if n := scripts(t, rc) - before; n != 1 {
		t.Errorf("a budgeted destructive call ran %d scripts, want 1 (budget and count together)", n)
	}
	if n := impactCounted(t, rc, adminBot); n != 3 {
		t.Fatalf("counted %d, want 3", n)
	}
	// The budget is spent: the next destructive call is refused as the
	// agent's budget and not counted.
	err := deactivateApp(t, b)
	if status.Code(err) != codes.ResourceExhausted || reasonOf(err) != ReasonAgentBudgetExceeded {
		t.Fatalf("a destructive call past the budget: %v, want %s", err, ReasonAgentBudgetExceeded)
	}
	if n := impactCounted(t, rc, adminBot); n != 3 {
		t.Errorf("counted %d after a call the budget refused, want 3", n)
	}
	deactivations := 0
	for _, h := range hs {
		for _, r := range h.sim.Requests() {
			if strings.HasSuffix(r.Path, "/lifecycle/deactivate") {
				deactivations++
			}
		}
	}
	if deactivations != 3 {
		t.Errorf("%d deactivations reached Okta, want 3", deactivations)
	}
}
