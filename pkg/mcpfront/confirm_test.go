package mcpfront_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bollard-dev/bollard/pkg/gateway"
	"github.com/bollard-dev/bollard/pkg/mcpfront"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// The protocol versions a client may ask for: a stateful server settles
// on 2025-11-25 for the newest, and asks the person during the call.
var protocols = []string{"2025-06-18", ""}

// deactivations are the deactivations of Bob that reached Okta.
func (h *harness) deactivations() int {
	n := 0
	for _, r := range h.sim.Requests() {
		if r.Method == "POST" && r.Path == "/api/v1/users/"+oktasim.SeedUserBob+"/lifecycle/deactivate" {
			n++
		}
	}
	return n
}

func TestConfirmationAsksThePerson(t *testing.T) {
	for _, protocol := range protocols {
		for name, tc := range map[string]struct {
			answer string // the person's answer; "" never answers
			late   bool   // answers after the confirmation timeout
			want   string // the refusal's reason and answer; "" when the call runs
		}{
			"accept":  {answer: "accept"},
			"decline": {answer: "decline", want: "decline"},
			"cancel":  {answer: "cancel", want: "cancel"},
			"timeout": {late: true, want: "no_answer"},
		} {
			t.Run(name+"/"+cmpOr(protocol, "newest"), func(t *testing.T) {
				h := newHarness(t, func(o *harnessOptions) {
					o.front = append(o.front, mcpfront.WithConfirmationTimeout(200*time.Millisecond))
				})
				release := make(chan struct{})
				defer close(release)
				var asked atomic.Int32
				var message atomic.Value
				cs := h.connect(t, "helpdesk-bot", protocol, &mcp.ClientOptions{
					ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
						asked.Add(1)
						message.Store(req.Params.Message)
						if tc.late {
							// The server gives up first; the person's yes comes too late.
							select {
							case <-ctx.Done():
							case <-release:
							}
							return &mcp.ElicitResult{Action: "accept"}, nil
						}
						return &mcp.ElicitResult{Action: tc.answer}, nil
					},
				})
				res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "user_lifecycle_deactivate", Arguments: map[string]any{"userId": oktasim.SeedUserBob}})
				if err != nil {
					t.Fatalf("protocol error: %v", err)
				}
				s := decode(t, res)
				if asked.Load() != 1 {
					t.Fatalf("the person was asked %d times", asked.Load())
				}
				msg, _ := message.Load().(string)
				for _, w := range []string{"user_lifecycle.deactivate", "userId " + oktasim.SeedUserBob, "user (path userId): lifecycle", "destructive"} {
					if !strings.Contains(msg, w) {
						t.Errorf("the person was not told %q:\n%s", w, msg)
					}
				}
				if tc.want == "" {
					if res.IsError || h.deactivations() != 1 {
						t.Fatalf("accepted call did not run once: %+v, %d at Okta", s.Error, h.deactivations())
					}
					if !h.confirmedRecord(s.DecisionID) {
						t.Error("no outcome record with confirmation_used from mcp")
					}
					return
				}
				if !res.IsError || s.Error == nil || s.Error.Reason != mcpfront.ReasonConfirmationDeclined || s.Error.Metadata["answer"] != tc.want ||
					s.DecisionID == "" || s.Error.Metadata["decision_id"] != s.DecisionID {
					t.Fatalf("want CONFIRMATION_DECLINED (%s) with the decision id, got %+v", tc.want, s)
				}
				if n := h.deactivations(); n != 0 {
					t.Errorf("refused call reached Okta %d times", n)
				}
			})
		}
	}
}

func TestConfirmationNeedsElicitation(t *testing.T) {
	for _, protocol := range protocols {
		t.Run(cmpOr(protocol, "newest"), func(t *testing.T) {
			h := newHarness(t)
			cs := h.connect(t, "helpdesk-bot", protocol, nil) // no ElicitationHandler: no capability
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "user_lifecycle_deactivate", Arguments: map[string]any{"userId": oktasim.SeedUserBob}})
			if err != nil {
				t.Fatalf("protocol error: %v", err)
			}
			s := decode(t, res)
			if !res.IsError || s.Error == nil || s.Error.Reason != gateway.ReasonConfirmationRequired || s.Error.Metadata["detail"] != "elicitation_unsupported" ||
				!strings.Contains(s.Error.Message, "elicitation") {
				t.Fatalf("want CONFIRMATION_REQUIRED explaining elicitation, got %+v", s)
			}
			// The token is the person's to give: the agent never gets it.
			if text := res.Content[0].(*mcp.TextContent).Text; strings.Contains(text, "token") {
				t.Errorf("the result mentions a token: %s", text)
			}
			if h.deactivations() != 0 {
				t.Error("the call reached Okta")
			}
		})
	}
}

func (h *harness) confirmedRecord(decisionID string) bool {
	for _, r := range h.audit.all() {
		if r.DecisionID == decisionID && r.Kind == "outcome" && r.ConfirmationUsed && r.Front == gateway.FrontMCP && r.Result == "ok" {
			return true
		}
	}
	return false
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
