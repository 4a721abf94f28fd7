package gateway

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

func params(t testing.TB, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func errorInfo(t testing.TB, err error) *errdetails.ErrorInfo {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei
		}
	}
	t.Fatalf("no ErrorInfo in %v", err)
	return nil
}

func wantStatus(t testing.TB, err error, code codes.Code, reason string) *errdetails.ErrorInfo {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("code = %v (%v), want %v", status.Code(err), err, code)
	}
	ei := errorInfo(t, err)
	if ei.Reason != reason || ei.Domain != Domain {
		t.Fatalf("reason = %s/%s, want %s", ei.Domain, ei.Reason, reason)
	}
	return ei
}

func TestExecuteAllowedRead(t *testing.T) {
	h := newHarness(t)
	resp, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
		Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if id := resp.GetResult().GetStructValue().GetFields()["id"].GetStringValue(); id != oktasim.SeedUserAlice {
		t.Errorf("result id = %q", id)
	}
	if resp.DecisionId == "" || resp.Okta.GetHttpStatus() != 200 || resp.Okta.GetRequestId() == "" || resp.Okta.GetRateLimit().GetLimit() == 0 {
		t.Errorf("call info = %v, decision %q", resp.Okta, resp.DecisionId)
	}
}

func TestExecuteDeniedWriteForReadOnlyAgent(t *testing.T) {
	h := newHarness(t)
	_, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
		Action: "user_lifecycle.suspend", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice}),
	})
	ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied)
	if ei.Metadata["deny_codes"] != "not_granted" || ei.Metadata["decision_id"] == "" || ei.Metadata["policy_revision"] == "" {
		t.Errorf("metadata = %v", ei.Metadata)
	}
	if got := h.actionRequests(); len(got) != 0 {
		t.Errorf("a denied call reached Okta: %v", got)
	}
}

func TestExecuteDeniedOutsideBusinessHours(t *testing.T) {
	saturday := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	h := newHarness(t, func(o *harnessOption) { o.now = saturday })
	_, err := h.client.Execute(as(t.Context(), devKey("provisioner-bot")), &bollardv1.ExecuteRequest{
		Action: "groups.remove_member", Params: params(t, map[string]any{"groupId": oktasim.SeedGroupEngineering, "userId": oktasim.SeedUserAlice}),
	})
	ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied)
	if ei.Metadata["deny_codes"] != "outside_business_hours" {
		t.Errorf("deny codes = %q", ei.Metadata["deny_codes"])
	}
}

func TestConfirmationFlow(t *testing.T) {
	h := newHarness(t)
	ctx := as(t.Context(), devKey("helpdesk-bot"))
	req := &bollardv1.ExecuteRequest{Action: "user_lifecycle.deactivate", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})}

	_, err := h.client.Execute(ctx, req)
	ei := wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationRequired)
	token := ei.Metadata["confirmation_token"]
	if token == "" || ei.Metadata["expires_at"] == "" {
		t.Fatalf("no token in %v", ei.Metadata)
	}
	if n := len(h.actionRequests()); n != 0 {
		t.Fatalf("an unconfirmed destructive call reached Okta (%d requests)", n)
	}

	// The token is bound to the exact parameters.
	other := &bollardv1.ExecuteRequest{Action: req.Action, Params: params(t, map[string]any{"userId": oktasim.SeedUserBob}), Confirmation: token}
	_, err = h.client.Execute(ctx, other)
	if ei := wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationInvalid); ei.Metadata["detail"] != "mismatch" {
		t.Errorf("detail = %q, want mismatch", ei.Metadata["detail"])
	}

	// That attempt consumed the token; get a new one and use it.
	_, err = h.client.Execute(ctx, req)
	token = wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationRequired).Metadata["confirmation_token"]
	req.Confirmation = token
	resp, err := h.client.Execute(ctx, req)
	if err != nil {
		t.Fatalf("confirmed call: %v", err)
	}
	if resp.Okta.GetHttpStatus() != 200 {
		t.Errorf("okta status = %d", resp.Okta.GetHttpStatus())
	}
	if got, _ := h.sim.UserStatus(oktasim.SeedUserAlice); got != "DEPROVISIONED" {
		t.Errorf("Alice is %s, want DEPROVISIONED", got)
	}

	// Replay is refused.
	_, err = h.client.Execute(ctx, req)
	if ei := wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationInvalid); ei.Metadata["detail"] != "unknown_or_used" {
		t.Errorf("detail = %q", ei.Metadata["detail"])
	}
	// Another agent cannot use a token issued to this one.
	_, err = h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: params(t, map[string]any{"userId": oktasim.SeedUserBob})})
	token = wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationRequired).Metadata["confirmation_token"]
	_, err = h.client.Execute(as(t.Context(), adminBotKey), &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: params(t, map[string]any{"userId": oktasim.SeedUserBob}), Confirmation: token})
	if ei := wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationInvalid); ei.Metadata["detail"] != "mismatch" {
		t.Errorf("detail = %q", ei.Metadata["detail"])
	}
}

func TestConfirmationExpires(t *testing.T) {
	now := businessHours
	clock := func() time.Time { return now }
	h := newHarness(t)
	h.server.confirm = confirm.New(confirm.WithClock(clock))
	ctx := as(t.Context(), devKey("helpdesk-bot"))
	req := &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})}
	_, err := h.client.Execute(ctx, req)
	req.Confirmation = wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationRequired).Metadata["confirmation_token"]
	now = now.Add(6 * time.Minute)
	_, err = h.client.Execute(ctx, req)
	if ei := wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationInvalid); ei.Metadata["detail"] != "expired" {
		t.Errorf("detail = %q", ei.Metadata["detail"])
	}
}

func TestIdentityFailures(t *testing.T) {
	h := newHarness(t)
	req := &bollardv1.ExecuteRequest{Action: "users.list"}
	tests := []struct {
		name string
		ctx  context.Context
	}{
		{"no credential", t.Context()},
		{"wrong key", as(t.Context(), "bk_dev_reader-bot_WRONG")},
		{"not bearer", metadata.AppendToOutgoingContext(t.Context(), "authorization", "Basic abc")},
		{"two credentials", metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer a", "authorization", "Bearer b")},
		{"caller names itself", metadata.AppendToOutgoingContext(t.Context(), "x-agent-id", "admin-bot")},
		{"garbage jwt", as(t.Context(), "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbi1ib3QifQ.")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for name, call := range map[string]func() error{
				"Execute":     func() error { _, err := h.client.Execute(tc.ctx, req); return err },
				"Check":       func() error { _, err := h.client.Check(tc.ctx, req); return err },
				"ListActions": func() error { _, err := h.client.ListActions(tc.ctx, &bollardv1.ListActionsRequest{}); return err },
			} {
				err := call()
				if status.Code(err) != codes.Unauthenticated || errorInfo(t, err).Reason != ReasonUnauthenticated {
					t.Errorf("%s: %v, want UNAUTHENTICATED", name, err)
				}
				if strings.Contains(status.Convert(err).Message(), "bk_") {
					t.Errorf("%s: status leaks the credential: %v", name, err)
				}
			}
		})
	}
	if n := len(h.sim.Requests()); n != 0 {
		t.Errorf("unauthenticated calls reached Okta: %d", n)
	}
}

func TestInvalidArguments(t *testing.T) {
	h := newHarness(t)
	ctx := as(t.Context(), adminBotKey)
	tests := []struct {
		name   string
		req    *bollardv1.ExecuteRequest
		reason string
		fields []string
	}{
		{"unknown action", &bollardv1.ExecuteRequest{Action: "users.nuke"}, ReasonUnknownAction, []string{"action"}},
		{"unknown parameter", &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": "00u1", "admin": true})}, ReasonInvalidParams, []string{"params.admin"}},
		{"missing parameter", &bollardv1.ExecuteRequest{Action: "groups.add_member", Params: params(t, map[string]any{"groupId": "00g1"})}, ReasonInvalidParams, []string{"params.userId"}},
		{"path traversal", &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": "../groups"})}, ReasonInvalidParams, []string{"params.userId"}},
		{"two problems", &bollardv1.ExecuteRequest{Action: "users.list", Params: params(t, map[string]any{"limit": 0, "sortOrder": 1})}, ReasonInvalidParams, []string{"params.sortOrder", "params.limit"}},
		{"huge action name", &bollardv1.ExecuteRequest{Action: strings.Repeat("a", 500)}, ReasonRequestTooLarge, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, rpc := range []string{"Execute", "Check"} {
				var err error
				if rpc == "Execute" {
					_, err = h.client.Execute(ctx, tc.req)
				} else {
					_, err = h.client.Check(ctx, tc.req)
				}
				wantStatus(t, err, codes.InvalidArgument, tc.reason)
				var got []string
				for _, d := range status.Convert(err).Details() {
					if br, ok := d.(*errdetails.BadRequest); ok {
						for _, v := range br.FieldViolations {
							got = append(got, v.Field)
						}
					}
				}
				if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
					t.Errorf("%s: field violations %v, want %v", rpc, got, tc.fields)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		agent, action  string
		params         map[string]any
		allow, confirm bool
		codes          string
	}{
		{"reader-bot", "users.list", nil, true, false, ""},
		{"reader-bot", "users.delete", map[string]any{"userId": oktasim.SeedUserBob}, false, true, "not_granted"},
		{"helpdesk-bot", "user_lifecycle.deactivate", map[string]any{"userId": oktasim.SeedUserBob}, true, true, ""},
		// Listed, in a listed group, two listed roles: the agent sees the code
		// once, and nothing of the causes.
		{"helpdesk-bot", "user_lifecycle.deactivate", map[string]any{"userId": oktasim.SeedUserAdmin}, false, true, "protected_user"},
		{"helpdesk-bot", "user_lifecycle.deactivate", map[string]any{"userId": "00uNOSUCHUSER0000000"}, false, true, "target_unresolved"},
		{"helpdesk-bot", "apps.list", nil, false, false, "not_granted"},
	}
	for _, tc := range tests {
		t.Run(tc.agent+"/"+tc.action, func(t *testing.T) {
			resp, err := h.client.Check(as(t.Context(), devKey(tc.agent)), &bollardv1.ExecuteRequest{Action: tc.action, Params: params(t, tc.params)})
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, r := range resp.Reasons {
				codes = append(codes, r.Code)
				if r.Message == "" {
					t.Errorf("reason %s has no message", r.Code)
				}
			}
			if resp.Allow != tc.allow || resp.GetObligations().GetRequireConfirmation() != tc.confirm || strings.Join(codes, ",") != tc.codes {
				t.Errorf("check = %v", resp)
			}
			if resp.DecisionId == "" || resp.PolicyRevision == "" {
				t.Errorf("no decision id or revision: %v", resp)
			}
		})
	}
	// Check never performs the action; it may only read the target's
	// groups and roles, which the protected-user rule decides on.
	for _, r := range h.sim.Requests() {
		if r.Method != "GET" || !(strings.HasSuffix(r.Path, "/groups") || strings.HasSuffix(r.Path, "/roles")) {
			t.Errorf("Check reached Okta: %s %s", r.Method, r.Path)
		}
	}
}

func TestListActions(t *testing.T) {
	h := newHarness(t)
	resp, err := h.client.ListActions(as(t.Context(), devKey("reader-bot")), &bollardv1.ListActionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range resp.Actions {
		if a.Access != bollardv1.Access_ACCESS_READ || !a.Allowed {
			t.Errorf("reader-bot offered %s (%v)", a.Name, a.Access)
		}
	}
	if len(resp.Actions) != 16 {
		t.Errorf("reader-bot may use %d actions, want the 16 reads", len(resp.Actions))
	}
	all, err := h.client.ListActions(as(t.Context(), devKey("helpdesk-bot")), &bollardv1.ListActionsRequest{IncludeDenied: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Actions) != 48 {
		t.Fatalf("include_denied lists %d actions, want 48", len(all.Actions))
	}
	byName := map[string]*bollardv1.ActionInfo{}
	for _, a := range all.Actions {
		byName[a.Name] = a
	}
	d := byName["user_lifecycle.deactivate"]
	if !d.Allowed || !d.RequireConfirmation || !d.Destructive || d.Scope != "okta.users.manage" || d.Rpc != "bollard.okta.v1.UserLifecycleService/DeactivateUser" || len(d.Params) != 2 {
		t.Errorf("deactivate = %v", d)
	}
	if a := byName["apps.delete"]; a.Allowed || len(a.DenyReasons) == 0 || a.DenyReasons[0].Code != "not_granted" {
		t.Errorf("apps.delete = %v", a)
	}
}

func TestOktaErrorsMapToStatuses(t *testing.T) {
	tests := []struct {
		name   string
		fault  oktasim.Fault
		code   codes.Code
		reason string
	}{
		{"bad request", oktasim.Fault{Status: 400, ErrorCode: "E0000001"}, codes.InvalidArgument, ReasonOktaBadRequest},
		{"not found", oktasim.Fault{Status: 404, ErrorCode: "E0000007"}, codes.NotFound, ReasonOktaNotFound},
		{"rate limited", oktasim.Fault{Status: 429, ErrorCode: "E0000047"}, codes.ResourceExhausted, ReasonOktaRateLimited},
		{"token invalid", oktasim.Fault{Status: 401, ErrorCode: "E0000011"}, codes.FailedPrecondition, ReasonOktaCredentialRejected},
		{"authentication failed", oktasim.Fault{Status: 401, ErrorCode: "E0000004"}, codes.FailedPrecondition, ReasonOktaCredentialRejected},
		{"method not supported", oktasim.Fault{Status: 405, ErrorCode: "E0000022"}, codes.Unimplemented, ReasonOktaUnsupported},
		{"token lacks permission", oktasim.Fault{Status: 403, ErrorCode: "E0000006"}, codes.FailedPrecondition, ReasonOktaCredentialRejected},
		{"server error", oktasim.Fault{Status: 500, ErrorCode: "E0000009"}, codes.Unavailable, ReasonOktaUnavailable},
		{"unavailable", oktasim.Fault{Status: 503}, codes.Unavailable, ReasonOktaUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			// Persistent faults: a read hitting 503 is retried, and must fail for good.
			tc.fault.Method, tc.fault.PathPrefix, tc.fault.Count = "GET", "/api/v1/users", 10
			h.sim.InjectFault(tc.fault)
			_, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})})
			ei := wantStatus(t, err, tc.code, tc.reason)
			if tc.fault.ErrorCode != "" && ei.Metadata["okta_error_code"] != tc.fault.ErrorCode {
				t.Errorf("okta code = %q", ei.Metadata["okta_error_code"])
			}
			if tc.code == codes.ResourceExhausted {
				var ri *errdetails.RetryInfo
				for _, d := range status.Convert(err).Details() {
					if r, ok := d.(*errdetails.RetryInfo); ok {
						ri = r
					}
				}
				if ri == nil || ri.RetryDelay.AsDuration() <= 0 {
					t.Errorf("no RetryInfo in %v", status.Convert(err).Details())
				}
			}
			if strings.Contains(status.Convert(err).Message(), "sim-token") {
				t.Error("status leaks the Okta token")
			}
		})
	}
}

func TestOktaTimeoutIsUnavailable(t *testing.T) {
	h := newHarness(t, func(o *harnessOption) { o.fopts = append(o.fopts, forward.WithTimeout(100*time.Millisecond)) })
	h.sim.InjectFault(oktasim.Fault{Method: "GET", PathPrefix: "/api/v1/users", Delay: 2 * time.Second, Count: 1})
	_, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})})
	wantStatus(t, err, codes.Unavailable, ReasonOktaUnavailable)
}

func TestOktaLifecycleRuleIsFailedPrecondition(t *testing.T) {
	h := newHarness(t)
	ctx := as(t.Context(), adminBotKey)
	req := &bollardv1.ExecuteRequest{Action: "apps.delete", Params: params(t, map[string]any{"appId": oktasim.SeedAppGitHub})}
	_, err := h.client.Execute(ctx, req)
	req.Confirmation = wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationRequired).Metadata["confirmation_token"]
	_, err = h.client.Execute(ctx, req)
	if status.Code(err) == codes.OK || errors.Is(err, context.Canceled) {
		t.Fatal("deleting an ACTIVE app succeeded")
	}
	ei := errorInfo(t, err)
	if !strings.HasPrefix(ei.Reason, "OKTA_") || ei.Metadata["okta_error_code"] == "" {
		t.Errorf("error info = %v", ei)
	}
}

type panickingDecider struct{}

func (panickingDecider) Decide(context.Context, decision.Input) decision.Decision { panic("boom") }

func TestPanicIsInternalAndServerSurvives(t *testing.T) {
	h := newHarness(t, func(o *harnessOption) { o.decider = panickingDecider{} })
	req := &bollardv1.ExecuteRequest{Action: "users.list"}
	for range 2 {
		_, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), req)
		if status.Code(err) != codes.Internal || strings.Contains(status.Convert(err).Message(), "boom") {
			t.Fatalf("err = %v, want a bare INTERNAL", err)
		}
	}
}

// TestAgentBudgetHoldsUnderParallelCalls: one runaway agent gets its budget
// and no more; the refusal names Bollard's budget, not Okta; other agents
// are unaffected.
func TestAgentBudgetHoldsUnderParallelCalls(t *testing.T) {
	h := newHarness(t)
	h.server.budget = budget.New(0, map[string]int{"reader-bot": 5})
	req := &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})}
	var wg sync.WaitGroup
	var mu sync.Mutex
	okCalls, refused := 0, 0
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), req)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				okCalls++
			case status.Code(err) == codes.ResourceExhausted && errorInfo(t, err).Reason == ReasonAgentBudgetExceeded:
				refused++
			default:
				t.Errorf("unexpected %v", err)
			}
		}()
	}
	wg.Wait()
	if okCalls != 5 || refused != 15 || len(h.sim.Requests()) != 5 {
		t.Errorf("%d allowed, %d refused, %d reached Okta; want 5, 15, 5", okCalls, refused, len(h.sim.Requests()))
	}
	if _, err := h.client.Execute(as(t.Context(), devKey("helpdesk-bot")), req); err != nil {
		t.Errorf("another agent was refused: %v", err)
	}
}

// TestListActionsShowsWhatConditionsAllow: an action the policy allows on
// conditions is listed as usable, with them: helpdesk-bot reads the System
// Log only 24 hours back, so logs.list is listed with a constraint on
// since, and a call without since is sent with the earliest one allowed.
func TestListActionsShowsWhatConditionsAllow(t *testing.T) {
	h := newHarness(t)
	ctx := as(t.Context(), devKey("helpdesk-bot"))
	resp, err := h.client.ListActions(ctx, &bollardv1.ListActionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	earliest := businessHours.Add(-24 * time.Hour).Format(time.RFC3339)
	var logs *bollardv1.ActionInfo
	for _, a := range resp.Actions {
		if a.Name == "logs.list" {
			logs = a
		}
	}
	if logs == nil || !logs.Allowed || len(logs.Constraints) != 1 {
		t.Fatalf("logs.list = %v, want listed with one constraint", logs)
	}
	if c := logs.Constraints[0]; c.Param != "since" || c.Min != earliest || c.DefaultValue != earliest || !strings.Contains(c.Description, "24 hours") {
		t.Errorf("constraint = %v, want since >= %s", c, earliest)
	}
	// Without since, the earliest allowed is sent.
	if _, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "logs.list", Params: params(t, map[string]any{"limit": 5})}); err != nil {
		t.Fatal(err)
	}
	reqs := h.actionRequests()
	if len(reqs) != 1 || !strings.Contains(reqs[0].RawQuery, "since="+url.QueryEscape(earliest)) {
		t.Errorf("Okta saw %v, want since=%s", reqs, earliest)
	}
	// A since further back is refused, and a later one goes as sent.
	_, err = h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "logs.list", Params: params(t, map[string]any{"since": "2026-11-01T00:00:00Z"})})
	if ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied); ei.Metadata["deny_codes"] != "log_window" {
		t.Errorf("deny codes = %q", ei.Metadata["deny_codes"])
	}
	later := businessHours.Add(-time.Hour).Format(time.RFC3339)
	if _, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "logs.list", Params: params(t, map[string]any{"since": later})}); err != nil {
		t.Fatal(err)
	}
	if reqs := h.actionRequests(); len(reqs) != 2 || !strings.Contains(reqs[1].RawQuery, "since="+url.QueryEscape(later)) {
		t.Errorf("Okta saw %v, want since=%s", reqs, later)
	}
	// The listed effects say what an action changes.
	all, err := h.client.ListActions(ctx, &bollardv1.ListActionsRequest{IncludeDenied: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all.Actions {
		if a.Name == "groups.add_member" && (len(a.Effects) != 2 || a.Effects[0].Kind != "group" || a.Effects[1].Name != "userId") {
			t.Errorf("groups.add_member effects = %v", a.Effects)
		}
	}
}

// The confirmed call's records name the call that required the
// confirmation (detail.confirmation_of), so that the audit log links the
// two: the agent's first call, its token's use, and what reached Okta.
func TestConfirmedCallNamesTheCallItConfirms(t *testing.T) {
	logger, records := auditFile(t)
	h := newHarness(t, withGateway(WithAuditor(logger)))
	ctx := as(t.Context(), devKey("helpdesk-bot"))
	req := &bollardv1.ExecuteRequest{Action: "user_lifecycle.deactivate", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})}
	_, err := h.client.Execute(ctx, req)
	ei := wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationRequired)
	first := ei.Metadata["decision_id"]
	req.Confirmation = ei.Metadata["confirmation_token"]
	if first == "" || req.Confirmation == "" {
		t.Fatalf("no decision id or token in %v", ei.Metadata)
	}
	if _, err := h.client.Execute(ctx, req); err != nil {
		t.Fatalf("confirmed call: %v", err)
	}
	linked := 0
	for _, r := range records() { // each call's last record: its outcome's, for the confirmed call

		d, _ := r["detail"].(map[string]any)
		switch {
		case r["decision_id"] == first && d["confirmation_of"] != nil:
			t.Errorf("the call that required the confirmation names one: %v", r)
		case r["decision_id"] != first && r["confirmation_used"] == true:
			if d["confirmation_of"] != first {
				t.Errorf("the confirmed call's %s record: detail %v, want confirmation_of %s", r["kind"], d, first)
			}
			linked++
		}
	}
	if linked != 1 {
		t.Errorf("%d confirmed calls name the call they confirm, want 1", linked)
	}
}
