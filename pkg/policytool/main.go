package policytool

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Exit codes.
const (
	// ExitFail is a negative result: a failing test, a denied call, a lint
	// problem, a decision that replay would change.
	ExitFail = 1
	// ExitError is bad input: a usage error, a policy that does not parse or
	// compile, a file that cannot be read.
	ExitError = 2
)

// ExitCodeError carries the process exit code of a subcommand. Err is nil
// when the command has already said everything on its output (a failing
// test run, a denied check), so the caller prints nothing more.
type ExitCodeError struct {
	Code int
	Err  error
}

func (e *ExitCodeError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitCodeError) Unwrap() error { return e.Err }

// fail is the quiet negative result.
func fail() error { return &ExitCodeError{Code: ExitFail} }

// bad wraps an error as bad input (exit 2).
func bad(err error) error { return &ExitCodeError{Code: ExitError, Err: err} }

// badf is bad with a formatted message.
func badf(format string, args ...any) error { return bad(fmt.Errorf(format, args...)) }

const usage = `usage: sidecar policy <command> [flags]

commands:
  test    run the Rego tests (*_test.rego) of policy directories, like go test
  check   decide one call with a policy and list the rules that contributed
  fmt     format Rego files with OPA's formatter
  lint    compile in strict mode and check names against the action catalog
  replay  re-decide the calls of an audit log with a candidate policy

Run "sidecar policy <command> -h" for a command's flags.
Exit status: 0 success, 1 a negative result (failed test, denied call, lint
problem, changed decision), 2 bad input or a policy that does not load.
`

// Main is `sidecar policy`. The error it returns is an *ExitCodeError
// whenever the exit code is not 2 (the code for any other error).
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return bad(flag.ErrHelp)
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "test":
		return testMain(ctx, args, stdout, stderr)
	case "check":
		return checkMain(ctx, args, stdout, stderr)
	case "fmt":
		return fmtMain(ctx, args, stdout, stderr)
	case "lint":
		return lintMain(ctx, args, stdout, stderr)
	case "replay":
		return replayMain(ctx, args, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return badf("unknown policy command %q", cmd)
}

// newFlagSet returns a flag set that reports to stderr with the command's
// own usage text.
func newFlagSet(name, text string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("policy "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, text)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// ("policy test DIR -v"), and maps problems to exit code 2.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, bad(err)
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

// isHelp reports whether err is the -h request, which is not a failure worth
// a message.
func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }
