package mcpfront

import (
	"context"
	"reflect"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// w3c reads and writes W3C trace context, whatever the process's global
// propagator is: the MCP spec carries it in traceparent.
var w3c = propagation.TraceContext{}

// traced makes one server span of each MCP request, named and attributed
// as OpenTelemetry's MCP conventions say, continuing the client's trace:
// the traceparent of the request's _meta if it has one, else the HTTP
// request's. The pipeline's bollard.decide span is its child.
func (s *Server) traced(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		ctx = parentOf(ctx, req)
		name, attrs := method, []attribute.KeyValue{attribute.String("mcp.method.name", method)}
		if call, ok := req.(*mcp.CallToolRequest); ok && call.Params != nil {
			name += " " + call.Params.Name
			attrs = append(attrs, attribute.String("gen_ai.tool.name", call.Params.Name), attribute.String("gen_ai.operation.name", "execute_tool"))
		}
		if ss, ok := req.GetSession().(*mcp.ServerSession); ok && ss.ID() != "" {
			attrs = append(attrs, attribute.String("mcp.session.id", ss.ID()))
		}
		ctx, span := s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		defer span.End()
		res, err := next(ctx, method, req)
		if err != nil {
			span.SetStatus(otelcodes.Error, "protocol error")
		} else if r, ok := res.(*mcp.CallToolResult); ok && r.IsError {
			span.SetAttributes(attribute.String("error.type", "tool_error"))
		}
		return res, err
	}
}

func parentOf(ctx context.Context, req mcp.Request) context.Context {
	// Params may be a typed nil (tools/list without params).
	if p := req.GetParams(); p != nil && !reflect.ValueOf(p).IsNil() {
		if meta := p.GetMeta(); meta != nil {
			if tp, ok := meta["traceparent"].(string); ok {
				carrier := propagation.MapCarrier{"traceparent": tp}
				if ts, ok := meta["tracestate"].(string); ok {
					carrier["tracestate"] = ts
				}
				return w3c.Extract(ctx, carrier)
			}
		}
	}
	if ex := req.GetExtra(); ex != nil && ex.Header != nil {
		return w3c.Extract(ctx, propagation.HeaderCarrier(ex.Header))
	}
	return ctx
}
