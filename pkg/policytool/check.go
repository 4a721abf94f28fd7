package policytool

import (
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

const checkUsage = `usage: sidecar policy check --agent ID --action NAME [--params JSON] [flags]

Decides one call with a policy, with no server and no Okta, and prints the
decision (allow or deny with every reason, the obligations, the policy
revision) and every rule that produced a value while deciding. Parameters
are validated against the action catalog first, as the sidecar does. The
decision is made in full (every rule, with the facts --context gives);
--stage grant shows the sidecar's first stage, which it decides before it
looks anything up at Okta.
Exit status: 0 allowed, 1 denied, 2 bad input or a policy that does not load.

flags:
`

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

func checkMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", checkUsage, stderr)
	agent := fs.String("agent", "", "agent id (required)")
	action := fs.String("action", "", "catalog action name, e.g. users.list (required)")
	params := fs.String("params", "{}", "action parameters (JSON object)")
	at := fs.String("time", "", "request time, RFC 3339 (default now)")
	reqCtx := fs.String("context", "{}", "input.context (JSON object), e.g. destructive counts and the target user")
	authMethod := fs.String("auth-method", "key", "how the agent authenticated: key or jwt")
	claims := fs.String("claims", "{}", "verified JWT claims (JSON object)")
	dir := fs.String("policy", "", "policy directory (default: the embedded shipped policies)")
	format := fs.String("format", "text", "output format: text or json")
	stage := fs.String("stage", "full", "stage to decide: full, or grant (before the sidecar's lookups)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var problems []error
	if len(rest) > 0 {
		problems = append(problems, fmt.Errorf("unexpected argument %q", rest[0]))
	}
	if *agent == "" {
		problems = append(problems, errors.New("--agent is required"))
	}
	if *action == "" {
		problems = append(problems, errors.New("--action is required"))
	}
	if *authMethod != "key" && *authMethod != "jwt" {
		problems = append(problems, fmt.Errorf("--auth-method must be key or jwt, not %q", *authMethod))
	}
	if *format != "text" && *format != "json" {
		problems = append(problems, fmt.Errorf("--format must be text or json, not %q", *format))
	}
	if *stage != string(decision.StageFull) && *stage != string(decision.StageGrant) {
		problems = append(problems, fmt.Errorf("--stage must be full or grant, not %q", *stage))
	}
	p, err := jsonObject("--params", *params)
	problems = appendErr(problems, err)
	c, err := jsonObject("--context", *reqCtx)
	problems = appendErr(problems, err)
	cl, err := jsonObject("--claims", *claims)
	problems = appendErr(problems, err)
	t := time.Now().UTC()
	if *at != "" {
		if t, err = time.Parse(time.RFC3339Nano, *at); err != nil {
			problems = append(problems, fmt.Errorf("--time must be RFC 3339, e.g. 2026-11-30T15:00:00Z: %w", err))
		}
	}
	var call *catalog.Call
	if *action != "" && p != nil {
		if call, err = bind(*action, p); err != nil {
			problems = append(problems, err)
		}
	}
	if len(problems) > 0 {
		return bad(fmt.Errorf("policy check: %w", errors.Join(problems...)))
	}

	e, err := newEngine(ctx, *dir, stderr)
	if err != nil {
		return bad(fmt.Errorf("policy check: %w", err))
	}
	defer e.Close()
	d, hits := e.Explain(ctx, decision.Input{
		Agent:    decision.Agent{ID: *agent, AuthMethod: *authMethod, Claims: cl},
		Action:   call.Action,
		Resource: call.Resource,
		Params:   call.Params,
		Time:     t,
		Context:  c,
		Stage:    decision.Stage(*stage),
	})
	res := checkResult{
		Allow: d.Allow, Deny: []reason{}, Obligations: obligationsOf(d),
		Policy: *dir, Revision: d.Revision, Time: t.Format(time.RFC3339Nano), Rules: []ruleHit{},
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
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return bad(err)
		}
	} else {
		writeCheckText(stdout, res, *agent, *action)
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

// jsonObject decodes a flag's JSON object; numbers are float64, as the
// sidecar decodes an agent's request.
func jsonObject(flagName, s string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		if err == nil {
			err = errors.New("null")
		}
		return nil, fmt.Errorf("%s must be a JSON object: %w", flagName, err)
	}
	return m, nil
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		return append(errs, err)
	}
	return errs
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
