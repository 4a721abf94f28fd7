package mcpfront_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/confirm"
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
			why    string // the confirmation record's detail.why
		}{
			"accept":  {answer: "accept"},
			"decline": {answer: "decline", want: "decline"},
			"cancel":  {answer: "cancel", want: "cancel"},
			"timeout": {late: true, want: "no_answer", why: "timeout"},
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
				// The person's answer is on record, once, under the id of
				// the call that required it; its token is gone either way.
				rec := h.confirmationRecord(t, cmpOr(tc.want, "accept"))
				if tc.why != "" && rec.Detail["why"] != tc.why {
					t.Errorf("detail.why = %v, want %s", rec.Detail["why"], tc.why)
				}
				if n := h.confirm.Pending(); n != 0 {
					t.Errorf("%d confirmation tokens still pending", n)
				}
				if tc.want == "" {
					if res.IsError || h.deactivations() != 1 {
						t.Fatalf("accepted call did not run once: %+v, %d at Okta", s.Error, h.deactivations())
					}
					if !h.confirmedRecord(s.DecisionID, rec.DecisionID) {
						t.Error("no outcome record with confirmation_used from mcp naming the call it confirms")
					}
					if !h.recordedBefore(rec, s.DecisionID, "intent") {
						t.Error("the confirmation record does not come before the confirmed call's intent")
					}
					return
				}
				if rec.DecisionID != s.DecisionID {
					t.Errorf("confirmation record of %s, the refusal is %s", rec.DecisionID, s.DecisionID)
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
			// Nobody was asked, and that is on record; the token is gone.
			if rec := h.confirmationRecord(t, "unsupported"); rec.DecisionID != s.DecisionID {
				t.Errorf("confirmation record of %s, the refusal is %s", rec.DecisionID, s.DecisionID)
			}
			if n := h.confirm.Pending(); n != 0 {
				t.Errorf("%d confirmation tokens still pending", n)
			}
		})
	}
}

// TestDeclinesDoNotPileUp: a declined confirmation's token is withdrawn at
// once, so an agent refused more times than it has pending places is
// still asked each time (before, the third call failed with
// TOO_MANY_PENDING until the first tokens expired), and none of the
// tokens can be redeemed: none is pending.
func TestDeclinesDoNotPileUp(t *testing.T) {
	h := newHarness(t, func(o *harnessOptions) { o.confirm = confirm.New(confirm.WithLimits(100, 2)) })
	var asked atomic.Int32
	cs := h.connect(t, "helpdesk-bot", "", &mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			asked.Add(1)
			return &mcp.ElicitResult{Action: "decline"}, nil
		},
	})
	for i := range 4 {
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "user_lifecycle_deactivate", Arguments: map[string]any{"userId": oktasim.SeedUserBob}})
		if err != nil {
			t.Fatal(err)
		}
		if s := decode(t, res); s.Error == nil || s.Error.Reason != mcpfront.ReasonConfirmationDeclined {
			t.Fatalf("call %d: want CONFIRMATION_DECLINED, got %+v", i+1, s)
		}
		if n := h.confirm.Pending(); n != 0 {
			t.Fatalf("after decline %d: %d tokens pending", i+1, n)
		}
	}
	if asked.Load() != 4 || len(h.kind(audit.KindConfirmation)) != 4 || h.deactivations() != 0 {
		t.Errorf("asked %d times, %d confirmation records, %d at Okta", asked.Load(), len(h.kind(audit.KindConfirmation)), h.deactivations())
	}
}

// TestConfirmationWithoutRecord: when the person's answer cannot be
// recorded, an accepted call does not run (no record, no call: the
// pipeline's AUDIT_UNAVAILABLE), and a decline is still a denial.
func TestConfirmationWithoutRecord(t *testing.T) {
	for answer, want := range map[string]string{"accept": gateway.ReasonAuditUnavailable, "decline": mcpfront.ReasonConfirmationDeclined} {
		t.Run(answer, func(t *testing.T) {
			h := newHarness(t)
			h.audit.refuseKind(audit.KindConfirmation)
			cs := h.connect(t, "helpdesk-bot", "", &mcp.ClientOptions{
				ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					return &mcp.ElicitResult{Action: answer}, nil
				},
			})
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "user_lifecycle_deactivate", Arguments: map[string]any{"userId": oktasim.SeedUserBob}})
			if err != nil {
				t.Fatal(err)
			}
			if s := decode(t, res); !res.IsError || s.Error == nil || s.Error.Reason != want {
				t.Fatalf("want %s, got %+v", want, s)
			}
			if n := h.deactivations(); n != 0 {
				t.Errorf("the call reached Okta %d times", n)
			}
			if n := h.confirm.Pending(); n != 0 {
				t.Errorf("%d confirmation tokens still pending", n)
			}
			for _, r := range h.audit.all() {
				if r.Kind == audit.KindIntent {
					t.Errorf("an intent was written: %+v", r)
				}
			}
		})
	}
}

// kind is the records of one kind, in the order written.
func (h *harness) kind(kind string) []audit.Record {
	var out []audit.Record
	for _, r := range h.audit.all() {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// confirmationRecord is the one confirmation record, checked against the
// call that required it: the same decision id, agent, action and front.
func (h *harness) confirmationRecord(t *testing.T, response string) audit.Record {
	t.Helper()
	recs := h.kind(audit.KindConfirmation)
	if len(recs) != 1 {
		t.Fatalf("%d confirmation records, want 1: %+v", len(recs), recs)
	}
	rec := recs[0]
	var required *audit.Record
	for _, r := range h.audit.all() {
		if r.Result == "confirmation_required" {
			required = &r
		}
	}
	if required == nil || rec.DecisionID == "" || rec.DecisionID != required.DecisionID {
		t.Errorf("confirmation record's decision id %q, the call that required it: %+v", rec.DecisionID, required)
	}
	if rec.AgentID != "helpdesk-bot" || rec.Front != gateway.FrontMCP || rec.Action != "user_lifecycle.deactivate" ||
		rec.Resource["userId"] != oktasim.SeedUserBob || rec.Result != response || rec.Detail["response"] != response {
		t.Errorf("confirmation record = %+v, want response %s", rec, response)
	}
	if _, ok := rec.Detail["waited_ms"]; !ok && response != "unsupported" {
		t.Errorf("no waited_ms: %v", rec.Detail)
	}
	return rec
}

// recordedBefore reports whether rec was written before the record of the
// given kind and decision id.
func (h *harness) recordedBefore(rec audit.Record, decisionID, kind string) bool {
	seen := false
	for _, r := range h.audit.all() {
		switch {
		case r.Kind == rec.Kind && r.DecisionID == rec.DecisionID:
			seen = true
		case r.Kind == kind && r.DecisionID == decisionID:
			return seen
		}
	}
	return false
}

func (h *harness) confirmedRecord(decisionID, confirms string) bool {
	for _, r := range h.audit.all() {
		if r.DecisionID == decisionID && r.Kind == "outcome" && r.ConfirmationUsed && r.Front == gateway.FrontMCP && r.Result == "ok" &&
			r.Detail["confirmation_of"] == confirms {
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
