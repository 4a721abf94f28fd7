package gateway

import (
	"errors"
	"io"
	"testing"
	"testing/fstest"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// collect reads a whole ExecuteAll stream.
func collect(t *testing.T, stream bollardv1.GatewayService_ExecuteAllClient) ([]*bollardv1.ExecuteAllResponse, error) {
	t.Helper()
	var pages []*bollardv1.ExecuteAllResponse
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return pages, nil
		}
		if err != nil {
			return pages, err
		}
		pages = append(pages, msg)
	}
}

func TestExecuteAllFollowsEveryPage(t *testing.T) {
	h := newHarness(t)
	stream, err := h.client.ExecuteAll(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
		Action: "users.list", Params: params(t, map[string]any{"limit": 3}),
	})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := collect(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, p := range pages {
		if int(p.Page) != i+1 || len(p.Items) > 3 || p.DecisionId == "" || p.Okta.GetHttpStatus() != 200 || p.Truncated {
			t.Errorf("page %d = page %d, %d items, %v", i+1, p.Page, len(p.Items), p.Okta)
		}
		for _, it := range p.Items {
			seen[it.GetStructValue().GetFields()["id"].GetStringValue()] = true
		}
	}
	// The seed's twelve users that are not DEPROVISIONED, three a page.
	if len(pages) != 4 || len(seen) != 12 || pages[len(pages)-1].NextCursor != "" {
		t.Errorf("%d pages, %d distinct users, last cursor %q; want 4, 12, empty", len(pages), len(seen), pages[len(pages)-1].NextCursor)
	}
	if n := len(h.sim.Requests()); n != 4 {
		t.Errorf("okta saw %d requests, want one per page", n)
	}
}

// listPolicy allows everything with the given obligations.
func listPolicy(t *testing.T, obligations string) *decision.Engine {
	t.Helper()
	rego := "package bollard.authz\n\ndecision := {\"allow\": true, \"deny\": [], \"obligations\": {\"require_confirmation\": false, " + obligations + "}}\n"
	e, err := decision.New(t.Context(), decision.WithPolicyFS(fstest.MapFS{"authz.rego": {Data: []byte(rego)}}), decision.WithWatch(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestExecuteAllStopsAtThePolicyPageBudget(t *testing.T) {
	h := newHarness(t, func(o *harnessOption) { o.decider = listPolicy(t, `"page_budget": 2`) })
	stream, err := h.client.ExecuteAll(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
		Action: "users.list", Params: params(t, map[string]any{"limit": 3}),
	})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := collect(t, stream)
	if err != nil {
		t.Fatal(err)
	}
	last := pages[len(pages)-1]
	if len(pages) != 2 || !last.Truncated || last.NextCursor == "" {
		t.Fatalf("%d pages, last truncated=%v cursor %q", len(pages), last.Truncated, last.NextCursor)
	}
	// The cursor resumes where the stream stopped.
	resp, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
		Action: "users.list", Params: params(t, map[string]any{"limit": 3, "after": last.NextCursor}),
	})
	if err != nil || len(resp.GetResult().GetListValue().GetValues()) != 3 {
		t.Errorf("resume: %v %v", resp, err)
	}
}

func TestMaxPageSizeObligationCapsTheLimit(t *testing.T) {
	h := newHarness(t, func(o *harnessOption) { o.decider = listPolicy(t, `"max_page_size": 2`) })
	for _, p := range []map[string]any{nil, {"limit": 5}, {"limit": 1}} {
		resp, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{Action: "users.list", Params: params(t, p)})
		if err != nil {
			t.Fatal(err)
		}
		want := 2
		if p["limit"] == 1 {
			want = 1
		}
		if got := len(resp.GetResult().GetListValue().GetValues()); got != want {
			t.Errorf("params %v: %d users, want %d", p, got, want)
		}
	}
}

func TestExecuteAllRefusals(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		key    string
		req    *bollardv1.ExecuteRequest
		code   codes.Code
		reason string
	}{
		{"not a list", devKey("reader-bot"), &bollardv1.ExecuteRequest{Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice})}, codes.InvalidArgument, ReasonNotAList},
		{"a write", adminBotKey, &bollardv1.ExecuteRequest{Action: "groups.create", Params: params(t, map[string]any{"body": map[string]any{}})}, codes.InvalidArgument, ReasonNotAList},
		{"denied", devKey("helpdesk-bot"), &bollardv1.ExecuteRequest{Action: "apps.list"}, codes.PermissionDenied, ReasonPolicyDenied},
		{"unauthenticated", "bk_nobody", &bollardv1.ExecuteRequest{Action: "users.list"}, codes.Unauthenticated, ReasonUnauthenticated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream, err := h.client.ExecuteAll(as(t.Context(), tc.key), tc.req)
			if err == nil {
				_, err = collect(t, stream)
			}
			wantStatus(t, err, tc.code, tc.reason)
		})
	}
	if n := len(h.sim.Requests()); n != 0 {
		t.Errorf("refused streams reached Okta %d times", n)
	}
}

func TestExecuteAllSpendsTheAgentBudgetPerPage(t *testing.T) {
	h := newHarness(t)
	h.server.budget = budget.New(0, map[string]int{"reader-bot": 2})
	stream, err := h.client.ExecuteAll(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
		Action: "users.list", Params: params(t, map[string]any{"limit": 3}),
	})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := collect(t, stream)
	if len(pages) != 2 || status.Code(err) != codes.ResourceExhausted || errorInfo(t, err).Reason != ReasonAgentBudgetExceeded {
		t.Fatalf("%d pages then %v; want 2 pages then the agent budget", len(pages), err)
	}
}
