package mcpfront

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"google.golang.org/grpc/codes"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/gateway"
)

// ReasonConfirmationDeclined is the reason of a call whose confirmation the
// person declined, cancelled or did not answer in time (metadata answer:
// decline, cancel or no_answer). Only the MCP front asks a person, so only
// it has this reason; every other comes from the gateway's error table.
const ReasonConfirmationDeclined = "CONFIRMATION_DECLINED"

// confirmKey names the one input request of a confirmation.
const confirmKey = "confirm"

// protocolMultiRoundTrip is the first MCP version whose servers cannot
// send requests of their own during a call: they answer with input
// requests, and the client calls again with the answers (SEP-2322).
const protocolMultiRoundTrip = "2026-07-28"

// confirm asks the person to confirm a call the policy wants confirmed,
// holding the token the pipeline issued; the agent never sees it. A client
// on an older protocol is asked with elicitation/create during the call; a
// newer one is answered with an input request and calls again (resume).
func (s *Server) confirm(ctx context.Context, c *toolCall, fe *gateway.FrontError, token string) *mcp.CallToolResult {
	caps := c.req.ClientCapabilities()
	if caps == nil || caps.Elicitation == nil || (caps.Elicitation.Form == nil && caps.Elicitation.URL != nil) {
		return errorResult(&gateway.FrontError{Code: codes.FailedPrecondition, Reason: gateway.ReasonConfirmationRequired, DecisionID: fe.DecisionID,
			Message:  "policy requires a person to confirm this call, and this MCP client cannot ask one: use a client that supports elicitation (form mode)",
			Metadata: map[string]string{"decision_id": fe.DecisionID, "detail": "elicitation_unsupported"}})
	}
	ask := &mcp.ElicitParams{Mode: "form", Message: confirmMessage(c.action, c.params), RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{}}}
	if c.req.ProtocolVersion() >= protocolMultiRoundTrip {
		handle := s.pending.put(pending{token: token, agent: c.agent, tool: c.req.Params.Name, decisionID: fe.DecisionID,
			deadline: s.opts.now().Add(s.opts.confirmationTimeout)}, s.opts.now())
		return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{confirmKey: ask}, RequestState: handle}
	}
	askCtx, cancel := context.WithTimeout(ctx, s.opts.confirmationTimeout)
	answer, err := c.req.Session.Elicit(askCtx, ask)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			// The agent went away, as toStatus names it.
			return errorResult(&gateway.FrontError{Code: codes.Canceled, Message: "request canceled", DecisionID: fe.DecisionID})
		}
		s.opts.log.InfoContext(ctx, "mcp confirmation not answered", "decision_id", fe.DecisionID, "agent", c.agent, "error", err)
		return declined(fe.DecisionID, "no_answer")
	}
	return s.answered(ctx, c, fe.DecisionID, token, answer)
}

// resume is the call again of a multi-round-trip client, with the person's
// answer to the input request confirm returned.
func (s *Server) resume(ctx context.Context, c *toolCall) *mcp.CallToolResult {
	p, ok := s.pending.take(c.req.Params.RequestState)
	if !ok || p.agent != c.agent || p.tool != c.req.Params.Name {
		return errorResult(&gateway.FrontError{Code: codes.FailedPrecondition, Reason: gateway.ReasonConfirmationInvalid,
			Message:  "unknown, used or another agent's confirmation request: call the tool again without requestState",
			Metadata: map[string]string{"detail": "unknown_or_used"}})
	}
	if s.opts.now().After(p.deadline) {
		return declined(p.decisionID, "no_answer")
	}
	answer, _ := c.req.Params.InputResponses[confirmKey].(*mcp.ElicitResult)
	if answer == nil {
		return declined(p.decisionID, "no_answer")
	}
	return s.answered(ctx, c, p.decisionID, p.token, answer)
}

// answered runs the call with the token when the person accepted; the
// pipeline redeems it only for the same agent, action and parameters.
func (s *Server) answered(ctx context.Context, c *toolCall, decisionID, token string, answer *mcp.ElicitResult) *mcp.CallToolResult {
	s.opts.log.InfoContext(ctx, "mcp confirmation answered", "decision_id", decisionID, "agent", c.agent,
		"action", c.action.Name, "answer", answer.Action)
	if answer.Action != "accept" {
		return declined(decisionID, answer.Action)
	}
	res, err := s.gw.Call(ctx, gateway.FrontMCP, c.authorization, gateway.FrontRequest{Action: c.action.Name, Params: c.params, Confirmation: token})
	if err != nil {
		return errorResult(err)
	}
	out, err := okResult(c.action, res)
	if err != nil {
		return errorResult(err)
	}
	return out
}

func declined(decisionID, answer string) *mcp.CallToolResult {
	if answer != "decline" && answer != "cancel" {
		answer = "no_answer"
	}
	return errorResult(&gateway.FrontError{Code: codes.PermissionDenied, Reason: ReasonConfirmationDeclined, DecisionID: decisionID,
		Message:  "the person asked to confirm this call did not accept it (" + answer + "); it was not carried out",
		Metadata: map[string]string{"decision_id": decisionID, "answer": answer}})
}

// confirmMessage is what the person is shown: the action, what it acts
// on, and what it changes.
func confirmMessage(a *catalog.Action, params map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "An agent asks to run %s at Okta: %s", a.Name, a.Description)
	var target []string
	for _, name := range a.PathParams() {
		if v, ok := params[name].(string); ok {
			target = append(target, name+" "+v)
		}
	}
	if len(target) > 0 {
		fmt.Fprintf(&b, "\nTarget: %s", strings.Join(target, ", "))
	}
	if len(a.Effects) > 0 {
		effects := make([]string, len(a.Effects))
		for i, e := range a.Effects {
			effects[i] = e.String()
		}
		fmt.Fprintf(&b, "\nChanges: %s", strings.Join(effects, "; "))
	}
	if a.Destructive {
		b.WriteString("\nThis is destructive: it removes access or data.")
	}
	b.WriteString("\nAccept to carry it out, decline to refuse.")
	return b.String()
}

// pending are the confirmations asked of multi-round-trip clients, by the
// handle given as requestState: the client holds the handle, never the
// token.
type pending struct {
	token, agent, tool, decisionID string
	deadline                       time.Time
}

// maxPending bounds the confirmations waiting for an answer; the oldest
// goes first (the pipeline bounds each agent's tokens as well).
const maxPending = 1024

type pendingSet struct {
	mu sync.Mutex
	m  map[string]pending
}

func newPendingSet() *pendingSet { return &pendingSet{m: map[string]pending{}} }

func (ps *pendingSet) put(p pending, now time.Time) string {
	handle := rand.Text()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for h, q := range ps.m {
		if now.After(q.deadline) {
			delete(ps.m, h)
		}
	}
	if len(ps.m) >= maxPending {
		oldest := slices.MinFunc(mapKeys(ps.m), func(a, b string) int { return ps.m[a].deadline.Compare(ps.m[b].deadline) })
		delete(ps.m, oldest)
	}
	ps.m[handle] = p
	return handle
}

// take removes and returns the confirmation of handle: each is answered
// once.
func (ps *pendingSet) take(handle string) (pending, bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, ok := ps.m[handle]
	delete(ps.m, handle)
	return p, ok
}

func mapKeys(m map[string]pending) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
