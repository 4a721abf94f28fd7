package policytool

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

// ReplayOptions are what Replay re-decides: the flags of `sidecar policy
// replay`.
type ReplayOptions struct {
	// AuditFiles are audit files (JSON lines), oldest first.
	AuditFiles []string
	// PolicyDir is the candidate policy directory.
	PolicyDir string
	// Format is "text" (when empty) or "json".
	Format string
	// OutcomesOnly leaves out calls whose obligations or deny reasons
	// change but whose outcome does not.
	OutcomesOnly bool
}

// Kinds of change.
const (
	changeNowDenied   = "now_denied"
	changeNowAllowed  = "now_allowed"
	changeObligations = "obligations_changed"
	changeReasons     = "reasons_changed"
)

var changeTitles = []struct{ kind, title string }{
	{changeNowDenied, "allowed before, denied now"},
	{changeNowAllowed, "denied before, allowed now"},
	{changeObligations, "obligations changed"},
	{changeReasons, "deny reasons changed"},
}

type reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type outcome struct {
	Allow       bool           `json:"allow"`
	DenyCodes   []string       `json:"deny_codes"`
	Deny        []reason       `json:"deny,omitempty"`
	Obligations map[string]any `json:"obligations"`
}

type change struct {
	Kind       string            `json:"kind"`
	File       string            `json:"file"`
	Line       int               `json:"line"`
	Timestamp  string            `json:"timestamp"`
	DecisionID string            `json:"decision_id"`
	Agent      string            `json:"agent"`
	Action     string            `json:"action"`
	Resource   map[string]string `json:"resource"`
	Masked     bool              `json:"masked_params,omitempty"`
	DryRun     bool              `json:"dry_run,omitempty"`
	Before     outcome           `json:"before"`
	After      outcome           `json:"after"`
}

type replaySummary struct {
	Read          int            `json:"read"`
	Replayed      int            `json:"replayed"`
	NoDecision    int            `json:"skipped_no_decision"`
	NotACall      int            `json:"skipped_not_a_call"`
	UnknownAction int            `json:"skipped_unknown_action"`
	Malformed     int            `json:"malformed"`
	Masked        int            `json:"masked_params"`
	Changed       int            `json:"changed"`
	ByKind        map[string]int `json:"by_kind"`
}

type replayReport struct {
	Policy   string        `json:"policy"`
	Revision string        `json:"revision"`
	Summary  replaySummary `json:"summary"`
	Changes  []change      `json:"changes"`
}

// Replay re-decides every call recorded in the audit files with the
// candidate policy and prints what would change. The error is an
// *ExitCodeError: ExitFail when something changes, ExitError for bad
// options, an unreadable file or a policy that does not load.
func Replay(ctx context.Context, o ReplayOptions, stdout, stderr io.Writer) error {
	switch format := cmp.Or(o.Format, "text"); {
	case len(o.AuditFiles) == 0:
		return badf("policy replay: --audit is required")
	case o.PolicyDir == "":
		return badf("policy replay: --policy is required")
	case format != "text" && format != "json":
		return badf("policy replay: --format must be text or json, not %q", o.Format)
	}
	e, err := newEngine(ctx, o.PolicyDir, stderr)
	if err != nil {
		return bad(fmt.Errorf("policy replay: %w", err))
	}
	defer e.Close()
	rep := &replayReport{Policy: o.PolicyDir, Revision: e.Revision(), Summary: replaySummary{ByKind: map[string]int{}}, Changes: []change{}}
	for _, name := range o.AuditFiles {
		if err := replayFile(ctx, e, name, rep, !o.OutcomesOnly, stderr); err != nil {
			return bad(fmt.Errorf("policy replay: %w", err))
		}
	}
	if o.Format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return bad(err)
		}
	} else {
		writeReplayText(stdout, rep)
	}
	if rep.Summary.Changed > 0 {
		return &ExitCodeError{Code: ExitFail}
	}
	return nil
}

func replayFile(ctx context.Context, e *decision.Engine, name string, rep *replayReport, withObligations bool, stderr io.Writer) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	s := &rep.Summary
	rd := audit.NewReader(f, audit.WithMaxLine(maxRecordLine))
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if le, ok := errors.AsType[*audit.LineError](err); ok {
			s.Read++
			s.Malformed++
			if errors.Is(le, audit.ErrLineTooLong) {
				fmt.Fprintln(stderr, lineError(name, le.Line, "skipped: longer than %d bytes", maxRecordLine))
			} else {
				fmt.Fprintln(stderr, lineError(name, le.Line, "skipped: not an audit record: %v", le.Err))
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		s.Read++
		// A call's decision is replayed once, from the record that ends it:
		// an intent is followed by its outcome; streams, listings and
		// checkpoints are not calls.
		if r.Kind != "" && r.Kind != audit.KindCall && r.Kind != audit.KindOutcome {
			s.NotACall++
			continue
		}
		if r.DecisionID == "" {
			s.NoDecision++
			continue
		}
		action, ok := catalog.Lookup(r.Action)
		if !ok {
			s.UnknownAction++
			continue
		}
		d := e.Decide(ctx, decision.Input{
			Agent:    decision.Agent{ID: r.Agent.ID, AuthMethod: r.Agent.AuthMethod},
			Action:   action,
			Resource: r.Resource,
			Params:   r.Params,
			Time:     r.Time,
			Context:  r.Context,
			Stage:    replayStage(action, r.Context),
		})
		s.Replayed++
		masked := maskedParams(r.Params)
		if masked {
			s.Masked++
		}
		c, changed := compare(r, d, withObligations)
		if !changed {
			continue
		}
		c.File, c.Line, c.Masked = name, r.Line, masked
		s.Changed++
		s.ByKind[c.Kind]++
		rep.Changes = append(rep.Changes, c)
	}
}

// maxRecordLine bounds one audit record when replaying: a line without a
// newline cannot exhaust memory. Records hold at most a 64 KiB body and the
// decision's context.
const maxRecordLine = 4 << 20

// allowed is what the recorded policy decided: a decision without reasons.
// Dry-run records keep the policy's reasons although the call went ahead.
func allowed(r *audit.Entry) bool { return r.DecisionID != "" && len(r.DenyCodes) == 0 }

// maskedParams reports whether any parameter was masked in the record
// ("hmac-sha256:..."): the policy sees the masked string, not the value.
func maskedParams(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.HasPrefix(x, "hmac-sha256:")
	case map[string]any:
		for _, e := range x {
			if maskedParams(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if maskedParams(e) {
				return true
			}
		}
	}
	return false
}

func lineError(file string, n int, format string, args ...any) string {
	return fmt.Sprintf("%s:%d: %s", file, n, fmt.Sprintf(format, args...))
}

// compare the recorded decision with the new one.
func compare(r *audit.Entry, d decision.Decision, withObligations bool) (change, bool) {
	c := change{
		Timestamp: r.Timestamp, DecisionID: r.DecisionID, Agent: r.Agent.ID, Action: r.Action,
		Resource: r.Resource, DryRun: r.DryRun,
		Before: outcome{Allow: allowed(r), DenyCodes: nonNil(r.DenyCodes), Obligations: normalize(r.Obligations)},
		After:  outcome{Allow: d.Allow, DenyCodes: []string{}, Obligations: obligationsOf(d)},
	}
	for _, rs := range d.Deny {
		c.After.DenyCodes = append(c.After.DenyCodes, rs.Code)
		c.After.Deny = append(c.After.Deny, reason{Code: rs.Code, Message: rs.Message})
	}
	switch {
	case c.Before.Allow && !c.After.Allow:
		c.Kind = changeNowDenied
	case !c.Before.Allow && c.After.Allow:
		c.Kind = changeNowAllowed
	case !withObligations:
		return c, false
	case c.Before.Allow && !reflect.DeepEqual(c.Before.Obligations, c.After.Obligations):
		c.Kind = changeObligations
	case !c.Before.Allow && !slices.Equal(c.Before.DenyCodes, c.After.DenyCodes):
		c.Kind = changeReasons
	default:
		return c, false
	}
	return c, true
}

// obligationsOf is the decision's obligations as the audit record holds them.
func obligationsOf(d decision.Decision) map[string]any {
	m := map[string]any{"require_confirmation": d.Obligations.RequireConfirmation}
	for k, v := range d.Obligations.Extra {
		m[k] = v
	}
	return normalize(m)
}

// normalize round-trips a value through JSON so that recorded and computed
// obligations compare alike (numbers as float64, nil as empty).
func normalize(m map[string]any) map[string]any {
	out := map[string]any{}
	b, err := json.Marshal(m)
	if err != nil {
		return out
	}
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeReplayText(w io.Writer, rep *replayReport) {
	for _, t := range changeTitles {
		n := rep.Summary.ByKind[t.kind]
		if n == 0 {
			continue
		}
		fmt.Fprintf(w, "%s (%d):\n", t.title, n)
		for _, c := range rep.Changes {
			if c.Kind != t.kind {
				continue
			}
			res, _ := json.Marshal(c.Resource)
			fmt.Fprintf(w, "  %s:%d  %s  %s  %s  %s", c.File, c.Line, c.Timestamp, c.Agent, c.Action, res)
			if c.Masked {
				fmt.Fprint(w, "  [masked params]")
			}
			if c.DryRun {
				fmt.Fprint(w, "  [dry run]")
			}
			fmt.Fprintln(w)
			switch c.Kind {
			case changeNowDenied:
				for _, r := range c.After.Deny {
					fmt.Fprintf(w, "      now %s: %s\n", r.Code, r.Message)
				}
			case changeNowAllowed:
				fmt.Fprintf(w, "      was %s\n", strings.Join(c.Before.DenyCodes, ", "))
			case changeObligations:
				before, _ := json.Marshal(c.Before.Obligations)
				after, _ := json.Marshal(c.After.Obligations)
				fmt.Fprintf(w, "      obligations %s -> %s\n", before, after)
			case changeReasons:
				fmt.Fprintf(w, "      was %s, now %s\n", strings.Join(c.Before.DenyCodes, ", "), strings.Join(c.After.DenyCodes, ", "))
			}
		}
		fmt.Fprintln(w)
	}
	s := rep.Summary
	fmt.Fprintf(w, "policy %s (revision %s)\n", rep.Policy, rep.Revision)
	fmt.Fprintf(w, "records: %d read, %d replayed (%d with masked params), %d skipped (%d not a call's last record, %d without a decision, %d unknown action, %d malformed)\n",
		s.Read, s.Replayed, s.Masked, s.NotACall+s.NoDecision+s.UnknownAction+s.Malformed, s.NotACall, s.NoDecision, s.UnknownAction, s.Malformed)
	var parts []string
	for _, t := range changeTitles {
		if n := s.ByKind[t.kind]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, t.title))
		}
	}
	if s.Changed == 0 {
		fmt.Fprintln(w, "changed: none")
		return
	}
	fmt.Fprintf(w, "changed: %d (%s)\n", s.Changed, strings.Join(parts, "; "))
}

// replayStage is the stage a recorded call was decided at: a change whose
// record has no target facts was refused at the first stage, before the
// sidecar looked anything up, and is replayed at that stage; every other
// call with everything.
func replayStage(a *catalog.Action, ctx map[string]any) decision.Stage {
	if _, ok := ctx["target"]; !ok && a.Access == catalog.Manage && len(a.Effects) > 0 {
		return decision.StageGrant
	}
	return decision.StageFull
}
