package mcpfront_test

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/mcpfront"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// Over MCP a call that policy marks for a person's approval is a tool
// error APPROVAL_PENDING with the approval's id; once a person approved,
// the same tool call with approval_id runs it, once. Every tool takes the
// argument.
func TestApprovalOverMCP(t *testing.T) {
	h := newHarness(t)
	cs := h.connect(t, "helpdesk-bot", "", nil)
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		props, _ := tool.InputSchema.(map[string]any)["properties"].(map[string]any)
		if _, ok := props[mcpfront.ApprovalArgument]; !ok {
			t.Errorf("tool %s takes no %s", tool.Name, mcpfront.ApprovalArgument)
		}
	}
	suspend := func(args map[string]any) structured {
		t.Helper()
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "user_lifecycle_suspend", Arguments: args})
		if err != nil {
			t.Fatal(err)
		}
		return decode(t, res)
	}
	s := suspend(map[string]any{"userId": oktasim.SeedUserCarol})
	if s.Error == nil || s.Error.Reason != "APPROVAL_PENDING" || s.Error.Metadata["approval_id"] == "" {
		t.Fatalf("suspending an admin user: %+v, want APPROVAL_PENDING", s.Error)
	}
	id := s.Error.Metadata["approval_id"]
	person := approval.Person{Subject: "00uSEC", Email: "sec@example.com", Groups: []string{"security-approvers"}}
	if _, err := h.approvals.Vote(id, person, true, ""); err != nil {
		t.Fatal(err)
	}
	if s := suspend(map[string]any{"userId": oktasim.SeedUserCarol, mcpfront.ApprovalArgument: id}); s.Error != nil {
		t.Fatalf("the approved call: %+v", s.Error)
	}
	if s := suspend(map[string]any{"userId": oktasim.SeedUserCarol, mcpfront.ApprovalArgument: id}); s.Error == nil || s.Error.Reason != "APPROVAL_INVALID" {
		t.Fatalf("a replay: %+v, want APPROVAL_INVALID", s.Error)
	}
	if s := suspend(map[string]any{"userId": oktasim.SeedUserCarol, mcpfront.ApprovalArgument: 7}); s.Error == nil || s.Error.Reason != "INVALID_PARAMETERS" {
		t.Fatalf("an approval_id that is not a string: %+v, want INVALID_PARAMETERS", s.Error)
	}
	n := 0
	for _, r := range h.sim.Requests() {
		if r.Method == "POST" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d suspensions reached Okta, want 1", n)
	}
}
