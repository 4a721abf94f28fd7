package policytool

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
)

// CheckOptions are the call Check decides: the flags of `sidecar policy
// check`. Problems are reported by the flag that sets each field.
type CheckOptions struct {
	Agent  string // required
	Action string // a catalog action, required
	// Params are the action's parameters, validated against the catalog
	// as the sidecar does (nil is none).
	Params map[string]any
	// Time is the request time; zero is now.
	Time time.Time
	// Context is input.context. Without "counts" in it, the counts are
	// zero, as the sidecar always sends them (DefaultCounts).
	Context map[string]any
	// AuthMethod is how the agent authenticated: "key" (when empty) or
	// "jwt", with Claims its verified JWT claims.
	AuthMethod string
	Claims     map[string]any
	// PolicyDir is the policy directory; empty is the embedded policies.
	PolicyDir string
	// Format is "text" (when empty) or "json".
	Format string
	// Stage is decision.StageFull (when empty) or decision.StageGrant,
	// the sidecar's first stage, decided before its lookups.
	Stage decision.Stage
}

// Validate reports every problem with the options at once.
func (o CheckOptions) Validate() error {
	_, err := o.bind()
	return err
}

// bind validates the options and the call's parameters.
func (o CheckOptions) bind() (*catalog.Call, error) {
	var problems []error
	if o.Agent == "" {
		problems = append(problems, errors.New("--agent is required"))
	}
	if o.Action == "" {
		problems = append(problems, errors.New("--action is required"))
	}
	if m := cmp.Or(o.AuthMethod, "key"); m != "key" && m != "jwt" {
		problems = append(problems, fmt.Errorf("--auth-method must be key or jwt, not %q", o.AuthMethod))
	}
	if f := cmp.Or(o.Format, "text"); f != "text" && f != "json" {
		problems = append(problems, fmt.Errorf("--format must be text or json, not %q", o.Format))
	}
	if st := cmp.Or(o.Stage, decision.StageFull); st != decision.StageFull && st != decision.StageGrant {
		problems = append(problems, fmt.Errorf("--stage must be full or grant, not %q", o.Stage))
	}
	var call *catalog.Call
	if o.Action != "" {
		params := o.Params
		if params == nil {
			params = map[string]any{}
		}
		var err error
		if call, err = bind(o.Action, params); err != nil {
			problems = append(problems, err)
		}
	}
	return call, errors.Join(problems...)
}

// DefaultCounts is input.context.counts when the options give none: no
// destructive call in either window. The sidecar always sends the counts,
// and the shipped impact limits deny a destructive call without them.
func DefaultCounts() map[string]any {
	return map[string]any{"destructive": map[string]any{"hour": 0, "day": 0}}
}

// withDefaultCounts is the context with DefaultCounts unless it has counts.
func withDefaultCounts(c map[string]any) map[string]any {
	if _, ok := c["counts"]; ok {
		return c
	}
	out := maps.Clone(c)
	if out == nil {
		out = map[string]any{}
	}
	out["counts"] = DefaultCounts()
	return out
}

// checkResult is check's JSON output.
type checkResult struct {
	Allow       bool           `json:"allow"`
	Deny        []reason       `json:"deny"`
	Obligations map[string]any `json:"obligations"`
	Policy      string         `json:"policy"`
	Revision    string         `json:"revision"`
	Time        string         `json:"time"`
	Rules       []ruleHit      `json:"rules"`
}

type ruleHit struct {
	Rule     string `json:"rule"`
	Location string `json:"location"`
	Value    any    `json:"value"`
}

// Check decides one call with a policy, with no server and no Okta, and
// prints the decision and every rule that produced a value while deciding.
// The error is an *ExitCodeError: ExitFail when the call is denied,
// ExitError for bad options or a policy that does not load.
func Check(ctx context.Context, o CheckOptions, stdout, stderr io.Writer) error {
	call, err := o.bind()
	if err != nil {
		return bad(fmt.Errorf("policy check: %w", err))
	}
	t := o.Time
	if t.IsZero() {
		t = time.Now().UTC()
	}
	authMethod := cmp.Or(o.AuthMethod, "key")
	e, err := newEngine(ctx, o.PolicyDir, stderr)
	if err != nil {
		return bad(fmt.Errorf("policy check: %w", err))
	}
	defer e.Close()
	d, hits := e.Explain(ctx, decision.Input{
		Agent:    decision.Agent{ID: o.Agent, AuthMethod: authMethod, Claims: o.Claims},
		Action:   call.Action,
		Resource: call.Resource,
		Params:   call.Params,
		Time:     t,
		Context:  withDefaultCounts(o.Context),
		Stage:    cmp.Or(o.Stage, decision.StageFull),
	})
	res := checkResult{
		Allow: d.Allow, Deny: []reason{}, Obligations: obligationsOf(d),
		Policy: o.PolicyDir, Revision: d.Revision, Time: t.Format(time.RFC3339Nano), Rules: []ruleHit{},
	}
	if res.Policy == "" {
		res.Policy = "embedded"
	}
	for _, r := range d.Deny {
		res.Deny = append(res.Deny, reason{Code: r.Code, Message: r.Message})
	}
	for _, h := range hits {
		res.Rules = append(res.Rules, ruleHit{Rule: h.Rule, Location: h.Location, Value: h.Value})
	}
	if o.Format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return bad(err)
		}
	} else {
		writeCheckText(stdout, res, o.Agent, o.Action)
	}
	if !d.Allow {
		return &ExitCodeError{Code: ExitFail}
	}
	return nil
}

// bind validates the parameters as the sidecar does, with a message that
// lists every bad field, or suggests a name for an unknown action.
func bind(action string, params map[string]any) (*catalog.Call, error) {
	call, err := catalog.Bind(action, params)
	if errors.Is(err, catalog.ErrUnknownAction) {
		return nil, fmt.Errorf("--action: unknown action %q%s; the catalog's actions are listed in docs/actions.md", action, suggest(action, actionNames()))
	}
	if verr, ok := errors.AsType[*catalog.ValidationError](err); ok {
		lines := []string{"invalid parameters for " + verr.Action + ":"}
		for _, v := range verr.Violations {
			lines = append(lines, "  "+v.Field+": "+v.Description)
		}
		return nil, errors.New(strings.Join(lines, "\n"))
	}
	return call, err
}

// maxValueText bounds a rule's value in the text output; --format json has
// it whole.
const maxValueText = 100

func writeCheckText(w io.Writer, res checkResult, agent, action string) {
	if res.Allow {
		fmt.Fprintf(w, "ALLOW %s by %s\n", action, agent)
	} else {
		fmt.Fprintf(w, "DENY %s by %s\n", action, agent)
		for _, r := range res.Deny {
			fmt.Fprintf(w, "  %s: %s\n", r.Code, r.Message)
		}
	}
	fmt.Fprintln(w, "obligations:")
	for _, k := range slices.Sorted(maps.Keys(res.Obligations)) {
		fmt.Fprintf(w, "  %s: %s\n", k, compact(res.Obligations[k], 0))
	}
	fmt.Fprintf(w, "policy: %s, revision %s, time %s\n", res.Policy, res.Revision, res.Time)
	fmt.Fprintln(w, "\nrules that produced a value, in evaluation order:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, h := range res.Rules {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", h.Rule, h.Location, compact(h.Value, maxValueText))
	}
	tw.Flush()
}

// compact is a value as one line of JSON, cut at max bytes (0: no limit).
func compact(v any, max int) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if v == nil {
		return "(value not shown: too large)"
	}
	if s := string(b); max > 0 && len(s) > max {
		for max > 0 && !utf8.RuneStart(s[max]) {
			max--
		}
		return s[:max] + "…"
	}
	return string(b)
}
