package mcpfront

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc/codes"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/gateway"
)

// envelope is a tool's structuredContent (outputSchema): Okta's answer, or
// the refusal.
type envelope struct {
	Result       json.RawMessage `json:"result,omitempty"`
	DecisionID   string          `json:"decision_id"`
	NextCursor   *string         `json:"next_cursor,omitempty"`
	AuditPending bool            `json:"audit_pending,omitempty"`
	Error        *errorBody      `json:"error,omitempty"`
}

type errorBody struct {
	Code            string            `json:"code"`
	Reason          string            `json:"reason,omitempty"`
	Message         string            `json:"message"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	FieldViolations []fieldViolation  `json:"field_violations,omitempty"`
	RetryAfterMs    int64             `json:"retry_after_ms,omitempty"`
}

type fieldViolation struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// okResult carries Okta's shaped JSON as structuredContent and, for
// clients that read only text, as the same JSON in a text block.
func okResult(a *catalog.Action, r *gateway.FrontResult) (*mcp.CallToolResult, error) {
	env := envelope{Result: r.Body, DecisionID: r.DecisionID, AuditPending: r.AuditPending}
	if len(env.Result) == 0 {
		env.Result = json.RawMessage("null")
	}
	if a.Paginated() {
		env.NextCursor = &r.NextCursor
	}
	return encode(env, false)
}

// errorResult is a refusal or a failure as the agent sees it: the status
// gRPC would have answered with, as an isError result, never a protocol
// error.
func errorResult(err error) *mcp.CallToolResult {
	var fe *gateway.FrontError
	if !errors.As(err, &fe) {
		// The gateway answers with FrontErrors only; anything else is a
		// bug here, told as the gateway tells its own.
		fe = &gateway.FrontError{Code: codes.Internal, Reason: gateway.ReasonInternal, Message: "internal error"}
	}
	body := &errorBody{Code: fe.Code.String(), Reason: fe.Reason, Message: fe.Message, Metadata: fe.Metadata, RetryAfterMs: fe.RetryAfter.Milliseconds()}
	for _, v := range fe.Violations {
		body.FieldViolations = append(body.FieldViolations, fieldViolation(v))
	}
	res, encErr := encode(envelope{DecisionID: fe.DecisionID, Error: body}, true)
	if encErr != nil {
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: fe.Error()}}}
	}
	return res
}

func encode(env envelope, isError bool) (*mcp.CallToolResult, error) {
	raw, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode tool result: %w", err)
	}
	// structuredContent is sent as these very bytes.
	return &mcp.CallToolResult{
		IsError:           isError,
		StructuredContent: json.RawMessage(raw),
		Content:           []mcp.Content{&mcp.TextContent{Text: string(raw)}},
	}, nil
}
