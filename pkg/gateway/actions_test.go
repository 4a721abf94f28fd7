package gateway

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"

	oktav1 "github.com/bollard-dev/bollard/api/proto/bollard/okta/v1"
	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	sim "github.com/bollard-dev/bollard/pkg/oktasim"
)

// validParams is one valid request per catalog action against the
// simulator's seed org. TestEveryActionHasValidParams keeps it complete.
var validParams = map[string]map[string]any{
	"users.list":    {"limit": 2, "search": `status eq "ACTIVE"`},
	"users.create":  {"activate": false, "body": map[string]any{"profile": map[string]any{"firstName": "Nia", "lastName": "New", "email": "nia.new@example.com", "login": "nia.new@example.com"}}},
	"users.get":     {"userId": sim.SeedLoginAlice},
	"users.update":  {"userId": sim.SeedUserAlice, "body": map[string]any{"profile": map[string]any{"title": "Staff Engineer"}}},
	"users.replace": {"userId": sim.SeedUserCarol, "body": map[string]any{"profile": map[string]any{"firstName": "Carol", "lastName": "Chen", "email": sim.SeedLoginCarol, "login": sim.SeedLoginCarol}}},
	"users.delete":  {"userId": sim.SeedUserHeidi},

	"user_lifecycle.activate":   {"userId": sim.SeedUserDave, "sendEmail": false},
	"user_lifecycle.deactivate": {"userId": sim.SeedUserBob},
	"user_lifecycle.reactivate": {"userId": sim.SeedUserErin, "sendEmail": false},
	"user_lifecycle.suspend":    {"userId": sim.SeedUserAlice}, // Carol holds an admin role: her suspension needs a person (approval_test)
	"user_lifecycle.unsuspend":  {"userId": sim.SeedUserFrank},
	"user_lifecycle.unlock":     {"userId": sim.SeedUserGrace},

	"groups.list":          {"q": "Eng", "limit": 10},
	"groups.create":        {"body": map[string]any{"profile": map[string]any{"name": "On-call", "description": "Paged at night"}}},
	"groups.get":           {"groupId": sim.SeedGroupEngineering},
	"groups.replace":       {"groupId": sim.SeedGroupSupport, "body": map[string]any{"profile": map[string]any{"name": "Support Tier 2", "description": "Escalations"}}},
	"groups.delete":        {"groupId": sim.SeedGroupSupport},
	"groups.list_members":  {"groupId": sim.SeedGroupEngineering, "limit": 1},
	"groups.add_member":    {"groupId": sim.SeedGroupSupport, "userId": sim.SeedUserAlice},
	"groups.remove_member": {"groupId": sim.SeedGroupEngineering, "userId": sim.SeedUserAlice},

	"apps.list":       {"limit": 2},
	"apps.create":     {"activate": false, "body": map[string]any{"name": "bookmark", "label": "Runbooks", "signOnMode": "BOOKMARK", "settings": map[string]any{"app": map[string]any{"url": "https://runbooks.example.com"}}}},
	"apps.get":        {"appId": sim.SeedAppGitHub},
	"apps.replace":    {"appId": sim.SeedAppLegacyWiki, "body": map[string]any{"name": "bookmark", "label": "Old Wiki", "signOnMode": "BOOKMARK", "settings": map[string]any{"app": map[string]any{"url": "https://wiki.example.com"}}}},
	"apps.delete":     {"appId": sim.SeedAppLegacyWiki},
	"apps.activate":   {"appId": sim.SeedAppLegacyWiki},
	"apps.deactivate": {"appId": sim.SeedAppGitHub},

	"app_assignments.list":     {"appId": sim.SeedAppGitHub, "limit": 5},
	"app_assignments.assign":   {"appId": sim.SeedAppPortal, "body": map[string]any{"id": sim.SeedUserIvan, "scope": "USER"}},
	"app_assignments.get":      {"appId": sim.SeedAppGitHub, "userId": sim.SeedUserAlice},
	"app_assignments.update":   {"appId": sim.SeedAppGitHub, "userId": sim.SeedUserAlice, "body": map[string]any{"profile": map[string]any{"role": "maintainer"}}},
	"app_assignments.unassign": {"appId": sim.SeedAppGitHub, "userId": sim.SeedUserAlice},

	"sessions.get":     {"sessionId": sim.SeedSessionAlice},
	"sessions.refresh": {"sessionId": sim.SeedSessionAlice},
	"sessions.revoke":  {"sessionId": sim.SeedSessionBob},

	"policies.list":       {"type": "OKTA_SIGN_ON"},
	"policies.create":     {"activate": false, "body": map[string]any{"type": "OKTA_SIGN_ON", "name": "Vendors", "description": "Sign-on for vendors"}},
	"policies.get":        {"policyId": sim.SeedPolicySignOnContractors},
	"policies.replace":    {"policyId": sim.SeedPolicySignOnContractors, "body": map[string]any{"type": "OKTA_SIGN_ON", "name": "Contractors (strict)"}},
	"policies.delete":     {"policyId": sim.SeedPolicySignOnContractors},
	"policies.activate":   {"policyId": sim.SeedPolicyAccessInternal},
	"policies.deactivate": {"policyId": sim.SeedPolicySignOnContractors},
	"policies.list_rules": {"policyId": sim.SeedPolicySignOnContractors},

	"factors.list":     {"userId": sim.SeedUserAlice},
	"factors.enroll":   {"userId": sim.SeedUserCarol, "body": map[string]any{"factorType": "token:software:totp", "provider": "GOOGLE"}},
	"factors.get":      {"userId": sim.SeedUserAlice, "factorId": sim.SeedFactorAliceFastPass},
	"factors.unenroll": {"userId": sim.SeedUserAlice, "factorId": sim.SeedFactorAliceSMS},

	"logs.list": {"limit": 5, "sortOrder": "DESCENDING"},
}

func TestEveryActionHasValidParams(t *testing.T) {
	for _, a := range catalog.Actions() {
		p, ok := validParams[a.Name]
		if !ok {
			t.Errorf("%s: no valid params in the table", a.Name)
			continue
		}
		if _, err := a.Bind(jsonish(t, p)); err != nil {
			t.Errorf("%s: %v", a.Name, err)
		}
	}
	if len(validParams) != len(catalog.Actions()) {
		t.Errorf("table has %d entries, catalog %d actions", len(validParams), len(catalog.Actions()))
	}
}

// jsonish makes the table look like what arrives over gRPC: numbers as float64.
func jsonish(t testing.TB, m map[string]any) map[string]any {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s.AsMap()
}

// callFunc performs one call with an optional confirmation token.
type callFunc func(ctx context.Context, a *catalog.Action, p map[string]any, confirmation string) (*bollardv1.ExecuteResponse, error)

// confirmed performs the call and, when policy asks for a confirmation,
// performs it again with the token, as an agent would.
func confirmed(t *testing.T, ctx context.Context, call callFunc, a *catalog.Action, p map[string]any) *bollardv1.ExecuteResponse {
	t.Helper()
	resp, err := call(ctx, a, p, "")
	if a.Destructive {
		ei := wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationRequired)
		resp, err = call(ctx, a, p, ei.Metadata["confirmation_token"])
	}
	if err != nil {
		t.Fatalf("%s: %v", a.Name, status.Convert(err).Proto())
	}
	return resp
}

func checkOktaAnswer(t *testing.T, a *catalog.Action, resp *bollardv1.ExecuteResponse) {
	t.Helper()
	st := resp.GetOkta().GetHttpStatus()
	if st < 200 || st > 299 {
		t.Errorf("okta status %d", st)
	}
	if resp.DecisionId == "" || resp.GetOkta().GetRequestId() == "" {
		t.Errorf("missing decision or request id: %v", resp)
	}
	if st != 204 && resp.GetResult().GetKind() == nil {
		t.Errorf("no result for status %d", st)
	}
	if _, isNull := resp.GetResult().GetKind().(*structpb.Value_NullValue); st == 204 && !isNull {
		t.Errorf("204 with a result %v", resp.GetResult())
	}
	if a.Method == "GET" && a.Paginated() {
		if _, ok := resp.GetResult().GetKind().(*structpb.Value_ListValue); !ok {
			t.Errorf("list action answered %T", resp.GetResult().GetKind())
		}
	}
}

func TestEveryActionThroughExecute(t *testing.T) {
	execute := func(h *harness) callFunc { return executeCaller(t, h) }
	for _, a := range catalog.Actions() {
		t.Run(a.Name, func(t *testing.T) {
			h := newHarness(t)
			resp := confirmed(t, as(t.Context(), adminBotKey), execute(h), a, validParams[a.Name])
			checkOktaAnswer(t, a, resp)
			reqs := h.actionRequests()
			if len(reqs) != 1 || reqs[0].Method != a.Method {
				t.Errorf("okta saw %v, want one %s", reqs, a.Method)
			}
		})
	}
}

// typedCaller calls an action through its typed RPC, as an agent using
// the generated stubs would, and returns the answer as an ExecuteResponse.
func typedCaller(t *testing.T, h *harness) callFunc {
	return func(ctx context.Context, a *catalog.Action, p map[string]any, confirmation string) (*bollardv1.ExecuteResponse, error) {
		area, _ := catalog.LookupArea(a.Area)
		svc := protoreflect.FullName(catalog.TypedPackage + "." + area.Service)
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(svc)
		if err != nil {
			return nil, err
		}
		md := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(a.RPC))
		in, _ := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		out, _ := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
		req := typedRequest(t, in, p, confirmation)
		resp := out.New().Interface()
		if err := h.conn.Invoke(ctx, fmt.Sprintf("/%s/%s", svc, a.RPC), req, resp); err != nil {
			return nil, err
		}
		raw, _ := proto.Marshal(resp)
		var er bollardv1.ExecuteResponse
		if err := proto.Unmarshal(raw, &er); err != nil {
			return nil, err
		}
		return &er, nil
	}
}

// executeCaller calls an action through Execute.
func executeCaller(t *testing.T, h *harness) callFunc {
	return func(ctx context.Context, a *catalog.Action, p map[string]any, confirmation string) (*bollardv1.ExecuteResponse, error) {
		return h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: a.Name, Params: params(t, p), Confirmation: confirmation})
	}
}

func TestEveryActionThroughTypedRPC(t *testing.T) {
	typed := func(h *harness) callFunc { return typedCaller(t, h) }
	for _, a := range catalog.Actions() {
		t.Run(a.Name, func(t *testing.T) {
			h := newHarness(t)
			resp := confirmed(t, as(t.Context(), adminBotKey), typed(h), a, validParams[a.Name])
			checkOktaAnswer(t, a, resp)
			if reqs := h.actionRequests(); len(reqs) != 1 {
				t.Errorf("okta saw %d requests, want 1", len(reqs))
			}
		})
	}
}

// typedRequest fills a typed request from catalog params: the reverse of
// typedParams, written independently so the test checks the server's mapping.
func typedRequest(t *testing.T, mt protoreflect.MessageType, p map[string]any, confirmation string) proto.Message {
	t.Helper()
	m := mt.New()
	fields := m.Descriptor().Fields()
	for k, v := range p {
		fd := fields.ByJSONName(k)
		if fd == nil {
			t.Fatalf("%s has no field for %s", mt.Descriptor().FullName(), k)
		}
		switch v := v.(type) {
		case string:
			m.Set(fd, protoreflect.ValueOfString(v))
		case int:
			m.Set(fd, protoreflect.ValueOfInt64(int64(v)))
		case bool:
			m.Set(fd, protoreflect.ValueOfBool(v))
		case map[string]any:
			st, err := structpb.NewStruct(v)
			if err != nil {
				t.Fatal(err)
			}
			m.Set(fd, protoreflect.ValueOfMessage(st.ProtoReflect()))
		default:
			t.Fatalf("param %s has type %T", k, v)
		}
	}
	if confirmation != "" {
		m.Set(fields.ByName("confirmation"), protoreflect.ValueOfString(confirmation))
	}
	return m.Interface()
}

// TestGeneratedStubs calls the typed services through the generated client
// code an agent would use.
func TestGeneratedStubs(t *testing.T) {
	h := newHarness(t)
	ctx := as(t.Context(), devKey("helpdesk-bot"))
	users := oktav1.NewUsersServiceClient(h.conn)
	got, err := users.GetUser(ctx, &oktav1.GetUserRequest{UserId: sim.SeedUserAlice})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetResult().GetStructValue().GetFields()["status"].GetStringValue() != "ACTIVE" {
		t.Errorf("GetUser = %v", got.GetResult())
	}
	lifecycle := oktav1.NewUserLifecycleServiceClient(h.conn)
	_, err = lifecycle.DeactivateUser(ctx, &oktav1.DeactivateUserRequest{UserId: sim.SeedUserAlice})
	token := wantStatus(t, err, codes.FailedPrecondition, ReasonConfirmationRequired).Metadata["confirmation_token"]
	if _, err := lifecycle.DeactivateUser(ctx, &oktav1.DeactivateUserRequest{UserId: sim.SeedUserAlice, Confirmation: token}); err != nil {
		t.Fatal(err)
	}
	// The typed path is policed exactly like Execute.
	_, err = oktav1.NewAppsServiceClient(h.conn).DeleteApp(ctx, &oktav1.DeleteAppRequest{AppId: sim.SeedAppLegacyWiki})
	wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied)
	limit := int64(500)
	_, err = users.ListUsers(ctx, &oktav1.ListUsersRequest{Limit: &limit})
	wantStatus(t, err, codes.InvalidArgument, ReasonInvalidParams)
}
