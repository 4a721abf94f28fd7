package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/policytool"
)

const policyUsage = `usage: sidecar policy <command> [flags]

commands:
  test    run the Rego tests (*_test.rego) of policy directories, like go test
  check   decide one call with a policy and list the rules that contributed
  fmt     format Rego files with OPA's formatter
  lint    compile in strict mode and check names against the action catalog
  replay  re-decide the calls of an audit log with a candidate policy
  data    write the action catalog as an OPA data file, for plain opa test and opa eval

Run "sidecar policy <command> -h" for a command's flags.
Exit status: 0 success, 1 a negative result (failed test, denied call, lint
problem, changed decision), 2 bad input or a policy that does not load.
`

// policy is `sidecar policy`: it parses a subcommand's flags and calls
// pkg/policytool. The error is a *policytool.ExitCodeError whenever the
// exit code is not 2 (the code for any other error).
func policy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, policyUsage)
		return policyBadInput(flag.ErrHelp)
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "test":
		return policyTest(ctx, args, stdout, stderr)
	case "check":
		return policyCheck(ctx, args, stdout, stderr)
	case "fmt":
		return policyFmt(ctx, args, stdout, stderr)
	case "lint":
		return policyLint(ctx, args, stdout, stderr)
	case "replay":
		return policyReplay(ctx, args, stdout, stderr)
	case "data":
		return policyData(ctx, args, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, policyUsage)
		return nil
	}
	fmt.Fprint(stderr, policyUsage)
	return policyBadInput(fmt.Errorf("unknown policy command %q", cmd))
}

const policyTestUsage = `usage: sidecar policy test [-v] [--format text|json|junit] [--run REGEX] DIR...

Runs the Rego tests (rules named test_*; todo_test_* are skipped) in each
policy directory, with the action catalog loaded as data.bollard.catalog and
the sidecar's compiler settings (Rego v1, strict, no network built-ins).
Output is like go test's; json is opa test's format, junit is for CI.
Rules that cannot take part in a decision (see policy lint) fail the run
too, whatever the tests say.
Exit status: 0 all passed, 1 a test failed or erred or a rule cannot deny
by itself, 2 bad usage or a policy that does not load (or that the sidecar
refuses).

flags:
`

func policyTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newPolicyFlags("test", policyTestUsage, stderr)
	var o policytool.TestOptions
	fs.BoolVar(&o.Verbose, "v", false, "print every test, not only the failures")
	fs.StringVar(&o.Format, "format", "text", "output format: text, json or junit")
	fs.StringVar(&o.Run, "run", "", "run only the tests whose full name (data.pkg.test_name) matches this regular expression")
	fs.DurationVar(&o.Timeout, "timeout", policytool.DefaultTestTimeout, "time limit for each test (the shipped library's exhaustive tests take a few seconds each)")
	dirs, err := parsePolicyFlags(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		fs.Usage()
	}
	o.Dirs = dirs
	return policytool.Test(ctx, o, stdout, stderr)
}

const policyCheckUsage = `usage: sidecar policy check --agent ID --action NAME [--params JSON] [flags]

Decides one call with a policy, with no server and no Okta, and prints the
decision (allow or deny with every reason, the obligations, the policy
revision) and every rule that produced a value while deciding. Parameters
are validated against the action catalog first, as the sidecar does. The
decision is made in full (every rule, with the facts --context gives; the
destructive counts are zero unless it gives them); --stage grant shows the
sidecar's first stage, which it decides before it looks anything up at Okta.
Exit status: 0 allowed, 1 denied, 2 bad input or a policy that does not load.

flags:
`

func policyCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newPolicyFlags("check", policyCheckUsage, stderr)
	var o policytool.CheckOptions
	fs.StringVar(&o.Agent, "agent", "", "agent id (required)")
	fs.StringVar(&o.Action, "action", "", "catalog action name, e.g. users.list (required)")
	params := fs.String("params", "{}", "action parameters (JSON object)")
	at := fs.String("time", "", "request time, RFC 3339 (default now)")
	reqCtx := fs.String("context", "{}", "input.context (JSON object), e.g. the target user; destructive counts are zero unless given")
	fs.StringVar(&o.AuthMethod, "auth-method", "key", "how the agent authenticated: key or jwt")
	claims := fs.String("claims", "{}", "verified JWT claims (JSON object)")
	fs.StringVar(&o.PolicyDir, "policy", "", "policy directory (default: the embedded shipped policies)")
	fs.StringVar(&o.Format, "format", "text", "output format: text or json")
	stage := fs.String("stage", string(decision.StageFull), "stage to decide: full, or grant (before the sidecar's lookups)")
	rest, err := parsePolicyFlags(fs, args)
	if err != nil {
		return err
	}
	// The flags' own syntax; the options' problems come with them, all at
	// once.
	var problems []error
	if len(rest) > 0 {
		problems = append(problems, fmt.Errorf("unexpected argument %q", rest[0]))
	}
	o.Stage = decision.Stage(*stage)
	if o.Params, err = policyJSONObject("--params", *params); err != nil {
		problems = append(problems, err)
	}
	if o.Context, err = policyJSONObject("--context", *reqCtx); err != nil {
		problems = append(problems, err)
	}
	if o.Claims, err = policyJSONObject("--claims", *claims); err != nil {
		problems = append(problems, err)
	}
	if *at != "" {
		if o.Time, err = time.Parse(time.RFC3339Nano, *at); err != nil {
			problems = append(problems, fmt.Errorf("--time must be RFC 3339, e.g. 2026-11-30T15:00:00Z: %w", err))
		}
	}
	if len(problems) > 0 {
		return policyBadInput(fmt.Errorf("policy check: %w", errors.Join(append(problems, o.Validate())...)))
	}
	return policytool.Check(ctx, o, stdout, stderr)
}

// policyJSONObject decodes a flag's JSON object; numbers are float64, as the
// sidecar decodes an agent's request.
func policyJSONObject(flagName, s string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		if err == nil {
			err = errors.New("null")
		}
		return nil, fmt.Errorf("%s must be a JSON object: %w", flagName, err)
	}
	return m, nil
}

const policyFmtUsage = `usage: sidecar policy fmt [-w] [-l] [--fail] PATH...

Formats Rego files (Rego v1) with OPA's formatter. A directory stands for
every .rego file under it. Without -w or -l the formatted source is printed.
Exit status: 0, or 1 with --fail when a file is not formatted; 2 when a file
does not parse.

flags:
`

func policyFmt(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newPolicyFlags("fmt", policyFmtUsage, stderr)
	var o policytool.FmtOptions
	fs.BoolVar(&o.Write, "w", false, "rewrite files whose formatting differs")
	fs.BoolVar(&o.List, "l", false, "list files whose formatting differs")
	fs.BoolVar(&o.Fail, "fail", false, "exit 1 when a file's formatting differs")
	paths, err := parsePolicyFlags(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fs.Usage()
	}
	o.Paths = paths
	return policytool.Fmt(ctx, o, stdout, stderr)
}

const policyLintUsage = `usage: sidecar policy lint DIR...

Checks policy directories the way the sidecar loads them, and more:
  - every .rego file parses and compiles in strict mode (Rego v1, the
    sidecar's built-ins), tests included; every data file loads;
  - a policy (not a test) defines data.bollard.authz.decision;
  - the library's data names only catalog areas and actions: grants per
    agent and area (with read or manage), action allow and deny lists,
    page sizes per area, and any other "<area>.<verb>" string;
  - in the policy (tests may name unknown actions on purpose), string
    literals compared with input.action.name or input.action.area, or used
    as keys of data.bollard.catalog, are catalog names;
  - every rule that denies takes part in a decision: a deny under
    data.bollard.rules is a set, no rule named deny, reasons or violation
    is left that no decision reads, and no deny or reasons rule is added to
    one of the shipped packages (their fast paths never read it);
  - rules under data.bollard.rules that scan data on every call are
    warned about (a warning does not fail).
Problems are printed as file:line: message. Exit status: 0 clean (warnings
only), 1 when a problem is found, 2 when a directory cannot be read.
`

func policyLint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newPolicyFlags("lint", policyLintUsage, stderr)
	dirs, err := parsePolicyFlags(fs, args)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		fs.Usage()
	}
	return policytool.Lint(ctx, policytool.LintOptions{Dirs: dirs}, stdout)
}

const policyReplayUsage = `usage: sidecar policy replay --audit FILE [--audit FILE...] --policy DIR [--format text|json]

Re-decides every call recorded in audit files (JSON lines, as the sidecar
writes them) with a candidate policy and prints what would change: calls
allowed before and denied now, denied before and allowed now, and (unless
--obligations=false) calls whose obligations or deny reasons change. Each
call is replayed with its agent, action, resource, parameters, context and
time; JWT claims are not in the audit log and are replayed empty. Masked
parameters ("hmac-sha256:...") are replayed as recorded and flagged.
Exit status: 0 nothing changes, 1 something changes, 2 bad input or a
policy that does not load. Malformed lines are reported and skipped.

flags:
`

// policyFileList collects a repeated flag.
type policyFileList []string

func (l *policyFileList) String() string     { return strings.Join(*l, ",") }
func (l *policyFileList) Set(s string) error { *l = append(*l, s); return nil }

func policyReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newPolicyFlags("replay", policyReplayUsage, stderr)
	var files policyFileList
	fs.Var(&files, "audit", "audit file (JSON lines); repeat for several, oldest first")
	var o policytool.ReplayOptions
	fs.StringVar(&o.PolicyDir, "policy", "", "candidate policy directory")
	fs.StringVar(&o.Format, "format", "text", "output format: text or json")
	withObligations := fs.Bool("obligations", true, "also report changed obligations and deny reasons")
	rest, err := parsePolicyFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return policyBadInput(fmt.Errorf("policy replay: unexpected argument %q (audit files go with --audit)", rest[0]))
	}
	if len(files) == 0 || o.PolicyDir == "" {
		fs.Usage()
	}
	o.AuditFiles, o.OutcomesOnly = files, !*withObligations
	return policytool.Replay(ctx, o, stdout, stderr)
}

const policyDataUsage = `usage: sidecar policy data [--out FILE]

Writes the action catalog as an OPA data file: the JSON document the
sidecar puts at data.bollard.catalog, so that plain OPA sees what the
sidecar's policies see. Keep it outside the policy directory (the sidecar
refuses data there) and give it to OPA beside it:

  sidecar policy data --out catalog.json
  opa test policies/ catalog.json

Exit status: 0, or 2 when the file cannot be written.

flags:
`

func policyData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newPolicyFlags("data", policyDataUsage, stderr)
	var o policytool.DataOptions
	fs.StringVar(&o.Out, "out", "", "file to write (default: stdout)")
	rest, err := parsePolicyFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return policyBadInput(fmt.Errorf("policy data: unexpected argument %q", rest[0]))
	}
	return policytool.Data(ctx, o, stdout)
}

// newPolicyFlags returns a flag set that reports to stderr with the
// command's own usage text.
func newPolicyFlags(name, text string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("policy "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, text)
		fs.PrintDefaults()
	}
	return fs
}

// parsePolicyFlags parses args, allowing flags after positional arguments
// ("policy test DIR -v"), and maps problems to exit code 2.
func parsePolicyFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, policyBadInput(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// policyBadInput is bad input: exit code 2.
func policyBadInput(err error) error {
	return &policytool.ExitCodeError{Code: policytool.ExitError, Err: err}
}
