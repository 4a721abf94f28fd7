package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/forward"
)

// logBuffer is slog's JSON output, kept for the test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the log lines written so far, each decoded.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// idHarness is the whole gateway logging at debug level to one buffer (the
// gateway's own lines and the forwarder's, lookups included), with its
// audit records in memory.
func idHarness(t *testing.T) (*harness, *logBuffer, *memAuditor) {
	t.Helper()
	logs, recs := &logBuffer{}, &memAuditor{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, withGateway(WithLogger(log), WithAuditor(recs)), func(o *harnessOption) {
		o.fopts = append(o.fopts, forward.WithLogger(log))
	})
	return h, logs, recs
}

// checkOneID: every log line and every audit record carries the id, and
// there is at least one of each.
func checkOneID(t *testing.T, id string, logs *logBuffer, recs *memAuditor) {
	t.Helper()
	lines := logs.lines(t)
	if len(lines) == 0 {
		t.Error("no log line")
	}
	for _, l := range lines {
		if l["decision_id"] != id {
			t.Errorf("log line %q has decision_id %v, want %s", l["msg"], l["decision_id"], id)
		}
	}
	recs.mu.Lock()
	defer recs.mu.Unlock()
	if len(recs.recs) == 0 {
		t.Error("no audit record")
	}
	for _, r := range recs.recs {
		if r.DecisionID != id {
			t.Errorf("%s record has decision_id %q, want %s", r.Kind, r.DecisionID, id)
		}
	}
}

// TestOneDecisionIDPerCall: the id minted when a call arrives is the one
// the agent gets (header and reply), the one every lookup and the call
// itself send to Okta, the one on every log line of the call, and the one
// on its intent and outcome records.
func TestOneDecisionIDPerCall(t *testing.T) {
	h, logs, recs := idHarness(t)
	var hdr metadata.MD
	resp, err := h.client.Execute(as(t.Context(), adminBotKey), &bollardv1.ExecuteRequest{
		Action: "user_lifecycle.unlock", Params: params(t, validParams["user_lifecycle.unlock"]),
	}, grpc.Header(&hdr))
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Join(hdr.Get(HeaderDecisionID), ",")
	if id == "" || resp.DecisionId != id {
		t.Fatalf("header %s = %q, reply's decision id %q: want one id", HeaderDecisionID, id, resp.DecisionId)
	}
	if len(h.lookups()) == 0 || len(h.actionRequests()) != 1 {
		t.Fatalf("%d lookups and %d action requests, want some and one", len(h.lookups()), len(h.actionRequests()))
	}
	for _, r := range h.sim.Requests() {
		if !strings.Contains(r.UserAgent, "decision/"+id+" ") && !strings.HasSuffix(r.UserAgent, "decision/"+id) {
			t.Errorf("okta request %s %s has User-Agent %q, want decision/%s", r.Method, r.Path, r.UserAgent, id)
		}
	}
	checkOneID(t, id, logs, recs)
	var kinds []string
	for _, r := range recs.recs {
		kinds = append(kinds, r.Kind)
	}
	if strings.Join(kinds, ",") != audit.KindIntent+","+audit.KindOutcome {
		t.Errorf("records %v, want intent and outcome", kinds)
	}
	var okta int
	for _, l := range logs.lines(t) {
		if l["msg"] == "okta call" {
			okta++
		}
	}
	if okta != len(h.sim.Requests()) {
		t.Errorf("%d okta call log lines for %d requests", okta, len(h.sim.Requests()))
	}
}

// TestRefusedCallKeepsItsDecisionID: a call refused before any decision is
// made still gets its id, in the header the agent reads beside its error,
// in its log line and in its audit record, so the two can be matched.
func TestRefusedCallKeepsItsDecisionID(t *testing.T) {
	for _, tc := range []struct {
		name   string
		key    string
		action string
		params map[string]any
		code   codes.Code
		reason string
	}{
		{"unauthenticated", "bk_test_nobody_0123456789abcdef0123", "users.get", validParams["users.get"], codes.Unauthenticated, ReasonUnauthenticated},
		{"unknown action", adminBotKey, "users.nope", nil, codes.InvalidArgument, ReasonUnknownAction},
		{"invalid parameters", adminBotKey, "users.get", map[string]any{"nope": "x"}, codes.InvalidArgument, ReasonInvalidParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, logs, recs := idHarness(t)
			var hdr metadata.MD
			_, err := h.client.Execute(as(t.Context(), tc.key), &bollardv1.ExecuteRequest{Action: tc.action, Params: params(t, tc.params)}, grpc.Header(&hdr))
			wantStatus(t, err, tc.code, tc.reason)
			id := strings.Join(hdr.Get(HeaderDecisionID), ",")
			if id == "" {
				t.Fatalf("no %s header beside the error", HeaderDecisionID)
			}
			checkOneID(t, id, logs, recs)
			if n := len(h.sim.Requests()); n != 0 {
				t.Errorf("%d requests reached Okta", n)
			}
		})
	}
}

// TestStreamedCallSendsItsDecisionID: ExecuteAll's header carries the id
// too, the same as every page's and the records'.
func TestStreamedCallSendsItsDecisionID(t *testing.T) {
	h, logs, recs := idHarness(t)
	stream, err := h.client.ExecuteAll(as(t.Context(), adminBotKey), &bollardv1.ExecuteRequest{Action: "users.list", Params: params(t, map[string]any{"limit": 2})})
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := stream.Header()
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Join(hdr.Get(HeaderDecisionID), ",")
	if id == "" {
		t.Fatalf("no %s header", HeaderDecisionID)
	}
	pages := 0
	for {
		page, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if page.DecisionId != id {
			t.Errorf("page %d has decision id %q, want %s", page.Page, page.DecisionId, id)
		}
	}
	if pages < 2 {
		t.Errorf("%d pages, want several", pages)
	}
	checkOneID(t, id, logs, recs)
}
