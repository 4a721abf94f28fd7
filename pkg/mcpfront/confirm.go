package mcpfront

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// confirm asks the person to confirm a call the policy wants confirmed,
// with elicitation/create during the call, holding the token the pipeline
// issued: the agent never sees it. (Sessions are stateful, so the protocol
// is at most 2025-11-25, where a server may ask during a call; the
// stateless 2026-07-28 protocol's input requests are not served.) Whatever
// comes of it is on the audit record (a confirmation record), and a token
// that was not used is withdrawn at once.
func (s *Server) confirm(ctx context.Context, c *toolCall, fe *gateway.FrontError, token string) *mcp.CallToolResult {
	caps := c.req.ClientCapabilities()
	if caps == nil || caps.Elicitation == nil || (caps.Elicitation.Form == nil && caps.Elicitation.URL != nil) {
		return s.refused(ctx, fe, gateway.ConfirmationUnsupported, nil, errorResult(&gateway.FrontError{Code: codes.FailedPrecondition,
			Reason: gateway.ReasonConfirmationRequired, DecisionID: fe.DecisionID,
			Message:  "policy requires a person to confirm this call, and this MCP client cannot ask one: use a client that supports elicitation (form mode)",
			Metadata: map[string]string{"decision_id": fe.DecisionID, "detail": "elicitation_unsupported"}}))
	}
	ask := &mcp.ElicitParams{Mode: "form", Message: confirmMessage(c.action, c.params), RequestedSchema: map[string]any{"type": "object", "properties": map[string]any{}}}
	asked := time.Now()
	askCtx, cancel := context.WithTimeout(ctx, s.opts.confirmationTimeout)
	answer, err := c.req.Session.Elicit(askCtx, ask)
	timedOut := errors.Is(askCtx.Err(), context.DeadlineExceeded)
	cancel()
	detail := map[string]any{"waited_ms": time.Since(asked).Milliseconds()}
	if err != nil {
		if ctx.Err() != nil {
			// The agent went away, as toStatus names it.
			detail["why"] = "canceled"
			return s.refused(ctx, fe, gateway.ConfirmationNoAnswer, detail,
				errorResult(&gateway.FrontError{Code: codes.Canceled, Message: "request canceled", DecisionID: fe.DecisionID}))
		}
		detail["why"] = "failed"
		if timedOut {
			detail["why"] = "timeout"
		}
		s.opts.log.InfoContext(ctx, "mcp confirmation not answered", "decision_id", fe.DecisionID, "agent", c.agent, "error", err)
		return s.refused(ctx, fe, gateway.ConfirmationNoAnswer, detail, declined(fe.DecisionID, gateway.ConfirmationNoAnswer))
	}
	return s.answered(ctx, c, fe, token, answer, detail)
}

// answered runs the call with the token when the person accepted and the
// answer is on record (no record, no call); the pipeline redeems the
// token only for the same agent, action and parameters.
func (s *Server) answered(ctx context.Context, c *toolCall, fe *gateway.FrontError, token string, answer *mcp.ElicitResult, detail map[string]any) *mcp.CallToolResult {
	response := responseOf(answer.Action)
	s.opts.log.InfoContext(ctx, "mcp confirmation answered", "decision_id", fe.DecisionID, "agent", c.agent,
		"action", c.action.Name, "answer", response)
	if response != gateway.ConfirmationAccept {
		return s.refused(ctx, fe, response, detail, declined(fe.DecisionID, response))
	}
	if err := s.gw.RecordConfirmation(ctx, fe, response, detail); err != nil {
		s.withdraw(ctx, fe)
		return errorResult(err)
	}
	res, err := s.gw.Call(ctx, gateway.FrontMCP, c.authorization, gateway.FrontRequest{Action: c.action.Name, Params: c.params, Confirmation: token})
	// Redeemed by the call, unless it was refused before its confirmation
	// step (a policy reload, a lost credential): then it goes now.
	s.withdraw(ctx, fe)
	if err != nil {
		return errorResult(err)
	}
	out, err := okResult(c.action, res)
	if err != nil {
		return errorResult(err)
	}
	return out
}

// refused ends a confirmation that was not accepted: the token is
// withdrawn, the response recorded, and the refusal returned even when
// the record could not be written (a refusal is safe; the log says why).
func (s *Server) refused(ctx context.Context, fe *gateway.FrontError, response string, detail map[string]any, res *mcp.CallToolResult) *mcp.CallToolResult {
	s.withdraw(ctx, fe)
	_ = s.gw.RecordConfirmation(ctx, fe, response, detail) // the gateway logs a failure
	return res
}

// withdraw revokes fe's token; it cannot be refused for this very call,
// so a failure is a bug, logged, and the token expires with its TTL.
func (s *Server) withdraw(ctx context.Context, fe *gateway.FrontError) {
	if err := s.gw.WithdrawConfirmation(fe); err != nil {
		s.opts.log.ErrorContext(ctx, "mcp confirmation token not withdrawn", "decision_id", fe.DecisionID, "error", err)
	}
}

// responseOf is the person's answer as the record and the refusal name
// it: accept, decline, cancel, or no_answer for anything else.
func responseOf(action string) string {
	switch action {
	case gateway.ConfirmationAccept, gateway.ConfirmationDecline, gateway.ConfirmationCancel:
		return action
	}
	return gateway.ConfirmationNoAnswer
}

func declined(decisionID, answer string) *mcp.CallToolResult {
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
