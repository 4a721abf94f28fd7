package policytool

import "fmt"

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

// bad wraps an error as bad input (exit 2).
func bad(err error) error { return &ExitCodeError{Code: ExitError, Err: err} }

// badf is bad with a formatted message.
func badf(format string, args ...any) error { return bad(fmt.Errorf(format, args...)) }
