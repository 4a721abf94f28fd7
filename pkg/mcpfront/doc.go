// Package mcpfront is Bollard's Model Context Protocol front door: an MCP
// server over the Streamable HTTP transport whose tools are the catalog's
// actions. It owns the protocol only. Every tools/list is answered from the
// live policy through the gateway's ListActions, and every tools/call runs
// the gateway's one pipeline (identity, decision, confirmation, budget,
// audit, forward, shape), so an MCP agent gets what a gRPC agent would and
// leaves the same records, spans and metrics. When policy asks for
// confirmation, the person is asked through MCP elicitation and only their
// yes redeems the token the pipeline issued; the agent never sees it. Their
// answer is an audit record, written first, and a token they did not use
// is withdrawn at once.
// Refusals are tool results with isError set, carrying the gRPC ErrorInfo's
// reason, metadata and decision id from the gateway's one error table.
package mcpfront
