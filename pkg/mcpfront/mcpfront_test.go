package mcpfront_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/gateway"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/mcpfront"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

func TestToolNamesAreUniqueInvertibleAndValid(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	seen := map[string]string{}
	for _, a := range catalog.Actions() {
		name := mcpfront.ToolName(a.Name)
		if !valid.MatchString(name) {
			t.Errorf("%s: tool name %q is not valid for every client", a.Name, name)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("%s and %s share the tool name %q", a.Name, other, name)
		}
		seen[name] = a.Name
		if back, ok := mcpfront.ActionOf(name); !ok || back.Name != a.Name {
			t.Errorf("tool %q maps back to %v, want %s", name, back, a.Name)
		}
	}
	if got := mcpfront.ToolName("user_lifecycle.deactivate"); got != "user_lifecycle_deactivate" {
		t.Errorf("ToolName = %q", got)
	}
	if _, ok := mcpfront.ActionOf("users.get"); ok {
		t.Error("a catalog name is not a tool name")
	}
}

// structured is a tool result's structuredContent.
type structured struct {
	Result       json.RawMessage `json:"result"`
	DecisionID   string          `json:"decision_id"`
	NextCursor   *string         `json:"next_cursor"`
	AuditPending bool            `json:"audit_pending"`
	Error        *struct {
		Code            string                                `json:"code"`
		Reason          string                                `json:"reason"`
		Message         string                                `json:"message"`
		Metadata        map[string]string                     `json:"metadata"`
		FieldViolations []struct{ Field, Description string } `json:"field_violations"`
	} `json:"error"`
}

func decode(t *testing.T, res *mcp.CallToolResult) structured {
	t.Helper()
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	var s structured
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("structuredContent %s: %v", raw, err)
	}
	// The text block is the same JSON, for clients that read only text.
	if len(res.Content) != 1 {
		t.Fatalf("content: %d blocks", len(res.Content))
	}
	text, ok := res.Content[0].(*mcp.TextContent)
	if !ok || !json.Valid([]byte(text.Text)) {
		t.Fatalf("content is not the JSON text: %#v", res.Content[0])
	}
	var fromText, fromStructured any
	_ = json.Unmarshal([]byte(text.Text), &fromText)
	_ = json.Unmarshal(raw, &fromStructured)
	if !reflect.DeepEqual(fromText, fromStructured) {
		t.Errorf("text %s differs from structuredContent %s", text.Text, raw)
	}
	return s
}

func TestToolsListIsListActionsAllowedSet(t *testing.T) {
	h := newHarness(t)
	for agent, key := range identity.DevKeys() {
		t.Run(agent, func(t *testing.T) {
			ctx := metadata.NewIncomingContext(t.Context(), metadata.Pairs("authorization", "Bearer "+key))
			resp, err := h.gw.ListActions(ctx, &bollardv1.ListActionsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, a := range resp.GetActions() {
				if a.GetAllowed() {
					want = append(want, mcpfront.ToolName(a.GetName()))
				}
			}
			cs := h.connect(t, agent, "", nil)
			list, err := cs.ListTools(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tl := range list.Tools {
				got = append(got, tl.Name)
				a, _ := mcpfront.ActionOf(tl.Name)
				ann := tl.Annotations
				if ann == nil || ann.ReadOnlyHint != (a.Access == catalog.Read) || ann.DestructiveHint == nil || *ann.DestructiveHint != a.Destructive ||
					ann.OpenWorldHint == nil || !*ann.OpenWorldHint || (a.Access == catalog.Read && !ann.IdempotentHint) {
					t.Errorf("%s: annotations %+v", tl.Name, ann)
				}
				if tl.OutputSchema == nil || tl.InputSchema == nil {
					t.Errorf("%s: no schema", tl.Name)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("tools/list:\n got %v\nwant %v", got, want)
			}
		})
	}
	// Listing is on record, as ListActions', and says which front asked.
	n := 0
	for _, r := range h.audit.all() {
		if r.Kind == "list_actions" && r.Front == gateway.FrontMCP {
			n++
		}
	}
	if n != len(identity.DevKeys()) {
		t.Errorf("%d list_actions records from mcp, want %d", n, len(identity.DevKeys()))
	}
}

func TestReadReturnsShapedOktaJSON(t *testing.T) {
	h := newHarness(t)
	cs := h.connect(t, "reader-bot", "", nil)
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "users_get", Arguments: map[string]any{"userId": oktasim.SeedUserAlice}})
	if err != nil {
		t.Fatal(err)
	}
	s := decode(t, res)
	if res.IsError || s.DecisionID == "" {
		t.Fatalf("read failed: %+v", s)
	}
	var user struct {
		ID      string         `json:"id"`
		Profile map[string]any `json:"profile"`
	}
	if err := json.Unmarshal(s.Result, &user); err != nil {
		t.Fatal(err)
	}
	if user.ID != oktasim.SeedUserAlice || user.Profile["login"] == nil {
		t.Errorf("not alice: %s", s.Result)
	}
	// The simulator sends both (null); reader-bot's policy hides them.
	for _, hidden := range []string{"mobilePhone", "secondEmail"} {
		if _, ok := user.Profile[hidden]; ok {
			t.Errorf("profile.%s reached the agent: %s", hidden, s.Result)
		}
	}

	list, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "users_list", Arguments: map[string]any{"limit": 2}})
	if err != nil {
		t.Fatal(err)
	}
	ls := decode(t, list)
	var users []map[string]any
	if err := json.Unmarshal(ls.Result, &users); err != nil || len(users) != 2 || ls.NextCursor == nil || *ls.NextCursor == "" {
		t.Fatalf("a page of 2 with its cursor, got %s cursor %v (%v)", ls.Result, ls.NextCursor, err)
	}
	next, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "users_list", Arguments: map[string]any{"limit": 2, "after": *ls.NextCursor}})
	if err != nil || next.IsError {
		t.Fatalf("next page: %v %+v", err, decode(t, next))
	}

	// Every call is on record as an MCP call, and traced: the MCP span is
	// the parent of the pipeline's.
	var calls int
	for _, r := range h.audit.all() {
		if r.Action == "users.get" && r.Kind == "outcome" {
			calls++
			if r.Front != gateway.FrontMCP || r.DecisionID != s.DecisionID || r.AgentID != "reader-bot" {
				t.Errorf("record %+v", r)
			}
		}
	}
	if calls != 1 {
		t.Errorf("%d outcome records of users.get", calls)
	}
	var toolSpan, decide trace.SpanContext
	spans := h.spans.GetSpans()
	for _, sp := range spans {
		if sp.Name == "tools/call users_get" {
			toolSpan = sp.SpanContext
		}
	}
	for _, sp := range spans {
		if sp.Name == "bollard.decide" && toolSpan.IsValid() && sp.Parent.SpanID() == toolSpan.SpanID() {
			decide = sp.SpanContext
		}
	}
	if !toolSpan.IsValid() || !decide.IsValid() || decide.TraceID() != toolSpan.TraceID() {
		t.Errorf("no tools/call span parenting bollard.decide: %v %v", toolSpan, decide)
	}
}

func TestDenialIsAToolErrorWithReasonAndDecisionID(t *testing.T) {
	h := newHarness(t)
	cs := h.connect(t, "reader-bot", "", nil)
	// Not in reader-bot's list, but a client may call it anyway.
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "users_delete", Arguments: map[string]any{"userId": oktasim.SeedUserBob}})
	if err != nil {
		t.Fatalf("a denial must not be a protocol error: %v", err)
	}
	s := decode(t, res)
	if !res.IsError || s.Error == nil || s.Error.Reason != gateway.ReasonPolicyDenied || s.Error.Code != "PermissionDenied" {
		t.Fatalf("want a POLICY_DENIED tool error, got %+v", s)
	}
	if s.DecisionID == "" || s.Error.Metadata["decision_id"] != s.DecisionID || s.Error.Metadata["deny_codes"] != "not_granted" {
		t.Errorf("metadata %+v, decision %q", s.Error.Metadata, s.DecisionID)
	}
	var rec bool
	for _, r := range h.audit.all() {
		if r.DecisionID == s.DecisionID {
			rec = r.Result == "denied" && r.Front == gateway.FrontMCP
		}
	}
	if !rec {
		t.Error("the denial is not on record as an MCP call")
	}
}

func TestArgumentsAreCheckedAgainstTheSchema(t *testing.T) {
	h := newHarness(t)
	cs := h.connect(t, "reader-bot", "", nil)
	for name, tc := range map[string]struct {
		tool  string
		args  any
		field string // the violation named; "" when the call is good
	}{
		"good":             {tool: "users_list", args: map[string]any{"limit": 3, "q": "a"}},
		"required missing": {tool: "users_get", args: map[string]any{}, field: "params.userId"},
		"wrong type":       {tool: "users_list", args: map[string]any{"limit": "three"}, field: "params.limit"},
		"out of range":     {tool: "users_list", args: map[string]any{"limit": 100000}, field: "params.limit"},
		"not in enum":      {tool: "users_list", args: map[string]any{"sortOrder": "sideways"}, field: "params.sortOrder"},
		"unknown":          {tool: "users_list", args: map[string]any{"nope": true}, field: "params.nope"},
		"bad id":           {tool: "groups_get", args: map[string]any{"groupId": "../x"}, field: "params.groupId"},
		"not an object":    {tool: "users_list", args: []any{1}, field: "arguments"},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: tc.tool, Arguments: tc.args})
			if err != nil {
				t.Fatalf("protocol error: %v", err)
			}
			s := decode(t, res)
			if tc.field == "" {
				if res.IsError {
					t.Fatalf("good arguments refused: %+v", s.Error)
				}
				return
			}
			if !res.IsError || s.Error == nil || s.Error.Reason != gateway.ReasonInvalidParams {
				t.Fatalf("want INVALID_PARAMETERS, got %+v", s)
			}
			if !slices.ContainsFunc(s.Error.FieldViolations, func(v struct{ Field, Description string }) bool { return v.Field == tc.field }) ||
				!strings.Contains(s.Error.Message, strings.TrimPrefix(tc.field, "params.")) {
				t.Errorf("the problem with %s is not named: %+v", tc.field, s.Error)
			}
		})
	}
}

func TestUnauthenticatedIs401(t *testing.T) {
	for name, tc := range map[string]struct {
		issuer, authz string
		want          []string
	}{
		"none":          {want: []string{`Bearer realm="bollard"`}},
		"bad key":       {authz: "Bearer bk_nope", want: []string{`error="invalid_token"`}},
		"not bearer":    {authz: "Basic abc", want: []string{`error="invalid_token"`}},
		"jwt mode says": {issuer: "https://issuer.example", want: []string{`resource_metadata="http://`, `/.well-known/oauth-protected-resource/mcp"`}},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, func(o *harnessOptions) {
				if tc.issuer != "" {
					o.front = append(o.front, mcpfront.WithJWTIssuer(tc.issuer))
				}
			})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for _, w := range tc.want {
				if c := resp.Header.Get("WWW-Authenticate"); !strings.Contains(c, w) {
					t.Errorf("WWW-Authenticate %q lacks %q", c, w)
				}
			}
			if tc.issuer == "" {
				return
			}
			meta, err := http.Get(strings.Replace(h.url, "/mcp", "/.well-known/oauth-protected-resource/mcp", 1))
			if err != nil {
				t.Fatal(err)
			}
			defer meta.Body.Close()
			var m struct {
				Resource             string   `json:"resource"`
				AuthorizationServers []string `json:"authorization_servers"`
			}
			if err := json.NewDecoder(meta.Body).Decode(&m); err != nil || m.Resource != h.url || !slices.Equal(m.AuthorizationServers, []string{tc.issuer}) {
				t.Errorf("metadata %+v (%v)", m, err)
			}
		})
	}
}
