package mcpfront

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// defaultMaxLen is the catalog's bound on a string parameter declared
// without one (catalog.Param.checkString).
const defaultMaxLen = 64

// tool describes an action as an MCP tool: its input schema from the
// catalog's parameters, the envelope of its result, and hints.
func tool(a *catalog.Action) *mcp.Tool {
	readOnly := a.Access == catalog.Read
	destructive, openWorld := a.Destructive, true
	t := &mcp.Tool{
		Name:         ToolName(a.Name),
		Title:        a.Name,
		Description:  description(a),
		InputSchema:  inputSchema(a),
		OutputSchema: outputSchema(a),
		Annotations: &mcp.ToolAnnotations{
			Title:        a.Name,
			ReadOnlyHint: readOnly,
			// The hint is meaningful only for tools that change the org.
			DestructiveHint: &destructive,
			IdempotentHint:  idempotent(a.Method),
			OpenWorldHint:   &openWorld,
		},
	}
	return t
}

// idempotent is what HTTP says of the action's method at Okta.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodHead:
		return true
	}
	return false
}

func description(a *catalog.Action) string {
	var b strings.Builder
	b.WriteString(a.Description)
	if !strings.HasSuffix(a.Description, ".") {
		b.WriteByte('.')
	}
	fmt.Fprintf(&b, " Okta %s %s (action %s).", a.Method, a.Path, a.Name)
	if a.Paginated() {
		b.WriteString(" Returns one page; pass the result's next_cursor as after for the next.")
	}
	if a.Destructive {
		b.WriteString(" Destructive: policy may ask a person to confirm it.")
	}
	return b.String()
}

// inputSchema is the JSON Schema of the action's parameters, from the same
// declarations catalog.Bind validates a call against.
func inputSchema(a *catalog.Action) map[string]any {
	props := map[string]any{}
	required := []string{}
	for _, p := range a.Params {
		props[p.Name] = paramSchema(p)
		if p.Required {
			required = append(required, p.Name)
		}
	}
	props[ApprovalArgument] = map[string]any{
		"type": "string", "minLength": 1, "maxLength": maxApprovalIDLen,
		"description": "Only to run a call a person approved: the approval_id of the APPROVAL_PENDING error this same call got. Leave it out otherwise.",
	}
	return map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}
}

// ApprovalArgument is the argument every tool takes beside the action's
// parameters: the approval a person gave the call (docs/approvals.md).
// Catalog parameters are lowerCamelCase, so it never names one.
const ApprovalArgument = "approval_id"

const maxApprovalIDLen = 128

func paramSchema(p catalog.Param) map[string]any {
	desc := p.Description
	switch p.In {
	case catalog.InPath:
		desc += " (in the path)"
	case catalog.InBody:
		desc += " (the request body, as Okta's API takes it)"
	}
	s := map[string]any{"description": desc}
	maxLen := p.MaxLen
	if maxLen == 0 {
		maxLen = defaultMaxLen
	}
	str := func() { s["type"], s["minLength"], s["maxLength"] = "string", 1, maxLen }
	switch p.Kind {
	case catalog.KindID:
		str()
		s["pattern"] = "^[A-Za-z0-9_-]+$"
	case catalog.KindUserRef:
		str()
		s["pattern"] = "^[A-Za-z0-9_.@+'-]+$"
	case catalog.KindString, catalog.KindCursor:
		str()
	case catalog.KindTime:
		str()
		s["format"] = "date-time"
	case catalog.KindEnum:
		s["type"], s["enum"] = "string", p.Enum
	case catalog.KindInt:
		s["type"], s["minimum"], s["maximum"] = "integer", p.Min, p.Max
	case catalog.KindBool:
		s["type"] = "boolean"
	case catalog.KindObject:
		s["type"] = "object"
	}
	return s
}

// outputSchema is the envelope every result of the tool has, an answer or
// a refusal (clients check structuredContent against it either way).
// Okta's objects are passed through as Okta sends them, so the catalog
// describes only their outer shape.
func outputSchema(a *catalog.Action) map[string]any {
	result := map[string]any{"description": "Okta's answer, with what policy hides from this agent removed; null when Okta sent no body"}
	if a.Paginated() {
		result["type"] = "array"
	}
	props := map[string]any{
		"result":        result,
		"decision_id":   map[string]any{"type": "string", "description": "the call's id, as in the audit log"},
		"audit_pending": map[string]any{"type": "boolean", "description": "the call was carried out but its audit record waits in the spool"},
		"error":         errorSchema,
	}
	if a.Paginated() {
		props["next_cursor"] = map[string]any{"type": "string", "description": "pass as after for the next page; empty on the last page"}
	}
	return map[string]any{"type": "object", "properties": props, "required": []string{"decision_id"}}
}

// errorSchema is a refusal's or a failure's part of the envelope: the
// fields of the ErrorInfo gRPC would carry.
var errorSchema = map[string]any{
	"type":     "object",
	"required": []string{"code", "message"},
	"properties": map[string]any{
		"code":     map[string]any{"type": "string", "description": "the gRPC status code name, e.g. PermissionDenied"},
		"reason":   map[string]any{"type": "string", "description": "the stable ErrorInfo reason, e.g. POLICY_DENIED"},
		"message":  map[string]any{"type": "string"},
		"metadata": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
		"field_violations": map[string]any{"type": "array", "items": map[string]any{
			"type": "object", "properties": map[string]any{"field": map[string]any{"type": "string"}, "description": map[string]any{"type": "string"}},
		}},
		"retry_after_ms": map[string]any{"type": "integer"},
	},
}
