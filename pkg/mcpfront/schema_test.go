package mcpfront_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/mcpfront"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestInputSchemasAgreeWithTheCatalog holds every tool's input schema to
// catalog.Bind, which validates the calls: what one accepts, the other
// accepts.
func TestInputSchemasAgreeWithTheCatalog(t *testing.T) {
	h := newHarness(t)
	cs := h.connect(t, "reader-bot", "", nil)
	// reader-bot's tools: the reads of every area.
	schemas := map[string]*jsonschema.Schema{}
	list, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range list.Tools {
		raw, _ := json.Marshal(tl.InputSchema)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(tl.Name+".json", doc); err != nil {
			t.Fatal(err)
		}
		if schemas[tl.Name], err = c.Compile(tl.Name + ".json"); err != nil {
			t.Fatalf("%s: %v", tl.Name, err)
		}
	}
	for name, tc := range map[string]struct {
		tool string
		args string
		good bool
	}{
		"list":           {tool: "users_list", args: `{"limit": 3, "q": "a", "sortOrder": "asc"}`, good: true},
		"get":            {tool: "users_get", args: `{"userId": "alice.anderson@example.com"}`, good: true},
		"log window":     {tool: "logs_list", args: `{"since": "2026-11-25T14:00:00Z", "limit": 10}`, good: true},
		"no id":          {tool: "users_get", args: `{}`},
		"limit text":     {tool: "users_list", args: `{"limit": "3"}`},
		"limit half":     {tool: "users_list", args: `{"limit": 2.5}`},
		"limit big":      {tool: "users_list", args: `{"limit": 201}`},
		"enum":           {tool: "users_list", args: `{"sortOrder": "up"}`},
		"unknown":        {tool: "groups_list", args: `{"x": 1}`},
		"id path":        {tool: "groups_get", args: `{"groupId": "a/b"}`},
		"empty":          {tool: "groups_get", args: `{"groupId": ""}`},
		"since not time": {tool: "logs_list", args: `{"since": "yesterday"}`},
	} {
		t.Run(name, func(t *testing.T) {
			var args map[string]any
			if err := json.Unmarshal([]byte(tc.args), &args); err != nil {
				t.Fatal(err)
			}
			s, ok := schemas[tc.tool]
			if !ok {
				t.Fatalf("%s not listed for reader-bot", tc.tool)
			}
			schemaOK := s.Validate(args) == nil
			a, _ := mcpfront.ActionOf(tc.tool)
			_, bindErr := a.Bind(args)
			if schemaOK != tc.good || (bindErr == nil) != tc.good {
				t.Errorf("schema accepts: %v, catalog accepts: %v (%v), want %v", schemaOK, bindErr == nil, bindErr, tc.good)
			}
		})
	}
}

// TestSpanContinuesTheClientsTrace sends a W3C traceparent with every
// request: the tool call's span is in the client's trace.
func TestSpanContinuesTheClientsTrace(t *testing.T) {
	h := newHarness(t)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	client := mcp.NewClient(&mcp.Implementation{Name: "traced", Version: "v0"}, nil)
	tr := &mcp.StreamableClientTransport{Endpoint: h.url, HTTPClient: &http.Client{Transport: bearer{key: identity.DevKeys()["reader-bot"],
		next: traceparent{"00-" + traceID + "-00f067aa0ba902b7-01", http.DefaultTransport}}}}
	cs, err := client.Connect(t.Context(), tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "users_get", Arguments: map[string]any{"userId": oktasim.SeedUserAlice}}); err != nil {
		t.Fatal(err)
	}
	for _, sp := range h.spans.GetSpans() {
		if sp.Name == "tools/call users_get" {
			if got := sp.SpanContext.TraceID().String(); got != traceID || sp.Parent.SpanID().String() != "00f067aa0ba902b7" {
				t.Errorf("span in trace %s, parent %s", got, sp.Parent.SpanID())
			}
			return
		}
	}
	t.Error("no tools/call span")
}

type traceparent struct {
	value string
	next  http.RoundTripper
}

func (tp traceparent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("traceparent", tp.value)
	return tp.next.RoundTrip(r)
}
