// Package mcpbridge relays an MCP session between a local stdio client and a
// running Bollard sidecar's MCP endpoint (Streamable HTTP). Desktop clients
// that can only launch a command speak newline-delimited JSON-RPC on the
// command's stdin and stdout; the bridge carries each message, unchanged, to
// the sidecar and back, adding the agent's bearer credential to every HTTP
// request. It is the logic behind `sidecar mcp-stdio`.
//
// The bridge is a relay, not a second MCP server: it neither answers nor
// rewrites tool calls, so the sidecar alone decides what the agent sees and
// may do. Server-to-client requests (elicitation, asking a person to confirm
// a call) travel back the same way, on the response stream of the call they
// belong to or on the session's standalone stream, which the bridge opens once
// the session is initialized.
//
// The credential goes only where it is meant to: the endpoint must be plain
// http to a literal loopback IP (pkg/loopback) or a unix socket, unless the
// caller allows a remote endpoint, which must then be https.
package mcpbridge
