package mcpfront

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/codes"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/gateway"
)

// Server is the MCP front: an http.Handler serving the Streamable HTTP
// transport at its path, over the gateway's pipeline.
type Server struct {
	gw      *gateway.Server
	mcp     *mcp.Server
	handler http.Handler
	opts    options
	tracer  trace.Tracer
}

// New returns the MCP front of gw.
func New(gw *gateway.Server, opts ...Option) (*Server, error) {
	o := defaultOptions
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case gw == nil:
		return nil, errors.New("mcpfront: a gateway is required")
	case !strings.HasPrefix(o.path, "/"):
		return nil, errors.New("mcpfront: the path must start with /")
	case o.confirmationTimeout <= 0 || o.sessionTimeout <= 0 || o.maxRequestBytes <= 0:
		return nil, errors.New("mcpfront: timeouts and the request size must be positive")
	}
	tp := o.tracer
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	s := &Server{gw: gw, opts: o, tracer: tp.Tracer("github.com/bollard-dev/bollard/pkg/mcpfront")}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "bollard", Title: "Bollard (Okta, by policy)", Version: o.version}, &mcp.ServerOptions{
		Logger: o.log,
		Instructions: "Tools are Okta Management API actions this agent's policy allows now; each call is decided, " +
			"audited and may need a person's confirmation. Refusals are tool errors with a stable reason.",
		// Tools only, and their list changes with the policy.
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{ListChanged: true}},
	})
	s.mcp.AddReceivingMiddleware(s.traced, s.agentsTools)
	s.addTools()
	streamable := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.mcp }, &mcp.StreamableHTTPOptions{
		Logger: o.log, SessionTimeout: o.sessionTimeout, MaxRequestBodyBytes: o.maxRequestBytes,
	})
	mux := http.NewServeMux()
	mux.Handle(o.path, s.authenticated(streamable))
	if o.issuer != "" {
		// RFC 9728: the well-known path, then the resource's own path; the
		// bare one too, for clients that ask there first.
		mux.HandleFunc("GET /.well-known/oauth-protected-resource"+o.path, s.resourceMetadata)
		mux.HandleFunc("GET /.well-known/oauth-protected-resource", s.resourceMetadata)
	}
	s.handler = mux
	return s, nil
}

// ServeHTTP serves the MCP endpoint (and, in JWT mode, the metadata).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Path is the MCP endpoint's path.
func (s *Server) Path() string { return s.opts.path }

// PolicyChanged tells connected sessions that their tools may have changed
// (notifications/tools/list_changed); each then lists them again, decided
// by the new policy. Call it after every successful policy reload.
func (s *Server) PolicyChanged() { s.addTools() }

// addTools (re)registers every catalog action. The SDK sends one
// list_changed to the sessions for a burst of changes; which of the tools
// an agent sees is decided per tools/list (agentsTools).
func (s *Server) addTools() {
	for _, a := range catalog.Actions() {
		s.mcp.AddTool(tool(a), s.call)
	}
}

// agentsTools answers tools/list with the tools the caller's policy allows
// now, decided (and recorded) by the gateway's ListActions.
func (s *Server) agentsTools(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/list" {
			return next(ctx, method, req)
		}
		allowed, err := s.gw.AllowedActions(ctx, gateway.FrontMCP, authorization(req))
		if err != nil {
			// Nothing to list without a decision: a protocol error, as
			// tools/list has no other.
			return nil, err
		}
		res, err := next(ctx, method, req)
		if err != nil {
			return nil, err
		}
		list, ok := res.(*mcp.ListToolsResult)
		if !ok {
			return res, nil
		}
		names := make(map[string]bool, len(allowed))
		for _, a := range allowed {
			if a.GetAllowed() {
				names[ToolName(a.GetName())] = true
			}
		}
		mine := *list
		mine.Tools = make([]*mcp.Tool, 0, len(names))
		for _, t := range list.Tools {
			if names[t.Name] {
				mine.Tools = append(mine.Tools, t)
			}
		}
		// One agent's list, true only until the policy changes.
		mine.TTLMs, mine.CacheScope = 0, "private"
		return &mine, nil
	}
}

// call runs one tools/call through the gateway's pipeline.
func (s *Server) call(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	a, _ := ActionOf(req.Params.Name) // only catalog tools are registered
	params, err := arguments(req.Params.Arguments)
	if err != nil {
		return errorResult(&gateway.FrontError{Code: codes.InvalidArgument, Reason: gateway.ReasonInvalidParams, Message: err.Error(),
			Violations: []gateway.FieldViolation{{Field: "arguments", Description: err.Error()}}}), nil
	}
	approvalID, err := takeApproval(params)
	if err != nil {
		return errorResult(&gateway.FrontError{Code: codes.InvalidArgument, Reason: gateway.ReasonInvalidParams, Message: err.Error(),
			Violations: []gateway.FieldViolation{{Field: ApprovalArgument, Description: err.Error()}}}), nil
	}
	c := &toolCall{action: a, params: params, authorization: authorization(req), agent: agentOf(req), req: req}
	res, err := s.gw.Call(ctx, gateway.FrontMCP, c.authorization, gateway.FrontRequest{Action: a.Name, Params: params, ApprovalID: approvalID})
	if err == nil {
		return okResult(a, res)
	}
	var fe *gateway.FrontError
	if errors.As(err, &fe) {
		if token, _, ok := fe.Confirmation(); ok {
			return s.confirm(ctx, c, fe, token), nil
		}
	}
	return errorResult(err), nil
}

// toolCall is one tools/call as the confirmation steps need it.
type toolCall struct {
	action        *catalog.Action
	params        map[string]any
	authorization string
	agent         string
	req           *mcp.CallToolRequest
}

// arguments decodes a call's arguments as catalog.Bind takes them (numbers
// as float64); Bind then validates them against the same declarations the
// input schema is made from, and the pipeline records a refusal.
func arguments(raw json.RawMessage) (map[string]any, error) {
	params := map[string]any{}
	if len(raw) == 0 || string(raw) == "null" {
		return params, nil
	}
	if err := json.Unmarshal(raw, &params); err != nil {
		return nil, errors.New("arguments must be a JSON object")
	}
	return params, nil
}

// authorization is the Authorization value the request came with.
func authorization(req mcp.Request) string {
	if ex := req.GetExtra(); ex != nil && ex.Header != nil {
		return ex.Header.Get("Authorization")
	}
	return ""
}

// agentOf is the agent the HTTP layer authenticated (authenticated).
func agentOf(req mcp.Request) string {
	if ex := req.GetExtra(); ex != nil && ex.TokenInfo != nil {
		return ex.TokenInfo.UserID
	}
	return ""
}

// CloseSessions ends every session, so that their event streams end and an
// HTTP server can shut down; clients reconnect to another sidecar or
// later.
func (s *Server) CloseSessions() {
	for ss := range s.mcp.Sessions() {
		_ = ss.Close()
	}
}

// takeApproval removes the approval argument from params and returns it.
func takeApproval(params map[string]any) (string, error) {
	v, ok := params[ApprovalArgument]
	if !ok {
		return "", nil
	}
	delete(params, ApprovalArgument)
	id, ok := v.(string)
	if !ok || id == "" || len(id) > maxApprovalIDLen {
		return "", fmt.Errorf("%s must be the approval_id of an APPROVAL_PENDING error", ApprovalArgument)
	}
	return id, nil
}
