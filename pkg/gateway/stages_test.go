package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/catalog"
	sim "github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/target"
)

// destructiveCalls are calls of every destructive action that needs a
// lookup, on seed users, groups and sessions.
func destructiveCalls() []*bollardv1.ExecuteRequest {
	var out []*bollardv1.ExecuteRequest
	for _, a := range catalog.Actions() {
		call, err := catalog.Bind(a.Name, jsonishParams(validParams[a.Name]))
		if err != nil || !a.Destructive || !target.Needs(call) {
			continue
		}
		p, _ := structpb.NewStruct(call.Params)
		out = append(out, &bollardv1.ExecuteRequest{Action: a.Name, Params: p})
	}
	return out
}

// TestNoOktaRequestBeforeTheGrant: an agent without a grant makes 30
// destructive calls; all are denied, and Okta sees no request at all, not
// even a lookup of what the calls would change.
func TestNoOktaRequestBeforeTheGrant(t *testing.T) {
	h := newHarness(t)
	calls := destructiveCalls()
	if len(calls) < 5 {
		t.Fatalf("only %d destructive calls need lookups", len(calls))
	}
	for i := range 30 {
		for _, key := range []string{strangerBotKey, devKey("reader-bot")} {
			req := calls[i%len(calls)]
			_, err := h.client.Execute(as(t.Context(), key), req)
			if ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied); !strings.Contains(ei.Metadata["deny_codes"], "not_granted") {
				t.Errorf("%s: deny codes %q", req.Action, ei.Metadata["deny_codes"])
			}
			if _, err := h.client.Check(as(t.Context(), key), req); err != nil {
				t.Fatal(err)
			}
		}
	}
	if reqs := h.sim.Requests(); len(reqs) != 0 {
		t.Errorf("denied calls made %d Okta requests, the first %s %s", len(reqs), reqs[0].Method, reqs[0].Path)
	}
}

// TestDenialTellsOnlyTheCode: an agent is told why in codes and fixed
// sentences, never the facts behind them: not whether a login exists, not
// the roles or groups that protect a user, not the operator's notes. Those
// go to the audit record.
func TestDenialTellsOnlyTheCode(t *testing.T) {
	logger, records := auditFile(t)
	h := newHarness(t, withGateway(WithAuditor(logger)))
	deactivate := func(key, user string) error {
		_, err := h.client.Execute(as(t.Context(), key), &bollardv1.ExecuteRequest{Action: "user_lifecycle.deactivate",
			Params: params(t, map[string]any{"userId": user})})
		return err
	}
	// Without a grant, a login that exists and one that does not are
	// refused alike.
	exists := status.Convert(deactivate(strangerBotKey, sim.SeedLoginAdmin))
	missing := status.Convert(deactivate(strangerBotKey, "nobody@example.com"))
	if exists.Message() != missing.Message() || !sameDetails(exists, missing) {
		t.Errorf("an ungranted agent can tell logins apart:\n%v\n%v", exists.Proto(), missing.Proto())
	}
	// Granted, a protected user is refused with the code alone.
	err := deactivate(devKey("helpdesk-bot"), sim.SeedUserAdmin)
	ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied)
	if ei.Metadata["deny_codes"] != "protected_user" {
		t.Errorf("deny codes = %q", ei.Metadata["deny_codes"])
	}
	for _, secret := range []string{"SUPER_ADMIN", "ORG_ADMIN", sim.SeedGroupOktaAdmins, "break-glass", "Okta administrators", "00uADA"} {
		if strings.Contains(status.Convert(err).Message(), secret) || strings.Contains(fmt.Sprint(ei.Metadata), secret) {
			t.Errorf("the agent was told %q: %v", secret, status.Convert(err).Proto())
		}
	}
	check, cerr := h.client.Check(as(t.Context(), devKey("helpdesk-bot")), &bollardv1.ExecuteRequest{Action: "user_lifecycle.deactivate",
		Params: params(t, map[string]any{"userId": sim.SeedUserAdmin})})
	if cerr != nil {
		t.Fatal(cerr)
	}
	if len(check.Reasons) != 1 || check.Reasons[0].Message != publicMessage("protected_user") {
		t.Errorf("Check reasons = %v", check.Reasons)
	}
	// The record has every cause.
	var last map[string]any
	for _, r := range records() {
		if r["agent"].(map[string]any)["id"] == "helpdesk-bot" {
			last = r
		}
	}
	reasons := fmt.Sprint(last["deny_reasons"])
	for _, fact := range []string{"SUPER_ADMIN", "ORG_ADMIN", "break-glass", "Okta administrators"} {
		if !strings.Contains(reasons, fact) {
			t.Errorf("the record lacks %q: %s", fact, reasons)
		}
	}
}

func sameDetails(a, b *status.Status) bool {
	da, db := a.Details(), b.Details()
	if len(da) != len(db) {
		return false
	}
	for i := range da {
		ma, _ := da[i].(proto.Message)
		mb, _ := db[i].(proto.Message)
		ca, cb := proto.Clone(ma), proto.Clone(mb)
		for _, m := range []proto.Message{ca, cb} {
			if ei, ok := m.(interface{ GetMetadata() map[string]string }); ok {
				delete(ei.GetMetadata(), "decision_id")
			}
		}
		if !proto.Equal(ca, cb) {
			return false
		}
	}
	return true
}

// TestLookupsCarryTheDecisionAndSpendTheBudget: the lookups a call needs
// say its decision id to Okta, like the call itself, and are taken from the
// agent's request budget: a budget of three is one Check of a deactivation
// (two lookups) and at most one lookup of the next, which is then refused.
func TestLookupsCarryTheDecisionAndSpendTheBudget(t *testing.T) {
	h := newHarness(t)
	at := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	h.server.budget = budget.New(0, map[string]int{"helpdesk-bot": 3}, budget.WithClock(func() time.Time { return at }))
	req := &bollardv1.ExecuteRequest{Action: "user_lifecycle.deactivate", Params: params(t, map[string]any{"userId": sim.SeedUserBob})}
	resp, err := h.client.Check(as(t.Context(), devKey("helpdesk-bot")), req)
	if err != nil || !resp.Allow {
		t.Fatalf("Check = %v, %v", resp, err)
	}
	lookups := h.lookups()
	if len(lookups) != 2 {
		t.Fatalf("%d lookups, want the user's groups and roles", len(lookups))
	}
	for _, r := range lookups {
		if !strings.Contains(r.UserAgent, "decision/"+resp.DecisionId) {
			t.Errorf("lookup %s without the decision id %s: %q", r.Path, resp.DecisionId, r.UserAgent)
		}
	}
	_, err = h.client.Check(as(t.Context(), devKey("helpdesk-bot")), req)
	wantStatus(t, err, codes.ResourceExhausted, ReasonAgentBudgetExceeded)
	// The second call's two lookups run side by side: one takes the last
	// call of the budget, the other is refused and stops both. Okta sees at
	// most what the budget allowed.
	if n := len(h.lookups()); n < 2 || n > 3 {
		t.Errorf("%d lookups in all, want at most the budget's three", n)
	}
}

// jsonishParams makes table params look like what arrives over gRPC.
func jsonishParams(m map[string]any) map[string]any {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s.AsMap()
}

// TestWithoutLookups: with lookups turned off (policy.target.lookup: false)
// the resolver still names the apps and policies a call changes, which need
// no lookup, and reports every user and group unresolved: changes to them
// are refused without an Okta request, the others go ahead.
func TestWithoutLookups(t *testing.T) {
	h := newHarness(t, withGateway(WithTargetResolver(target.New(nil))))
	ctx := as(t.Context(), adminBotKey)
	_, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "user_lifecycle.unlock", Params: params(t, validParams["user_lifecycle.unlock"])})
	if ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied); ei.Metadata["deny_codes"] != "target_unresolved" {
		t.Errorf("deny codes = %q", ei.Metadata["deny_codes"])
	}
	if n := len(h.sim.Requests()); n != 0 {
		t.Errorf("%d requests reached Okta", n)
	}
	if _, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "apps.activate", Params: params(t, validParams["apps.activate"])}); err != nil {
		t.Errorf("apps.activate: %v", err)
	}
	_, err = h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "apps.activate", Params: params(t, map[string]any{"appId": protectedApp})})
	if ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied); ei.Metadata["deny_codes"] != "protected_app" {
		t.Errorf("deny codes = %q", ei.Metadata["deny_codes"])
	}
}
