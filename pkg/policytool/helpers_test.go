package policytool

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// result is what one run of the command printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
	err            error
}

// run runs a command's function and maps its error to the exit code the
// sidecar binary would use.
func run(t *testing.T, f func(stdout, stderr io.Writer) error) result {
	t.Helper()
	var out, errOut bytes.Buffer
	err := f(&out, &errOut)
	code := 0
	if err != nil {
		code = ExitError
		if ec, ok := errors.AsType[*ExitCodeError](err); ok {
			code = ec.Code
		}
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code, err: err}
}

// runTest runs Test, with the default timeout unless o sets one.
func runTest(t *testing.T, o TestOptions) result {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = DefaultTestTimeout
	}
	return run(t, func(stdout, stderr io.Writer) error { return Test(t.Context(), o, stdout, stderr) })
}

func runCheck(t *testing.T, o CheckOptions) result {
	t.Helper()
	return run(t, func(stdout, stderr io.Writer) error { return Check(t.Context(), o, stdout, stderr) })
}

func runFmt(t *testing.T, o FmtOptions) result {
	t.Helper()
	return run(t, func(stdout, stderr io.Writer) error { return Fmt(t.Context(), o, stdout, stderr) })
}

func runLint(t *testing.T, dirs ...string) result {
	t.Helper()
	return run(t, func(stdout, _ io.Writer) error { return Lint(t.Context(), LintOptions{Dirs: dirs}, stdout) })
}

func runReplay(t *testing.T, o ReplayOptions) result {
	t.Helper()
	return run(t, func(stdout, stderr io.Writer) error { return Replay(t.Context(), o, stdout, stderr) })
}

// at2026 is a time on a Monday afternoon, in business hours.
var at2026 = time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)

func (r result) wantCode(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d (err %v)\nstdout:\n%s\nstderr:\n%s", r.code, code, r.err, r.stdout, r.stderr)
	}
}

// writeFiles writes name -> content under a new temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// shipped is the policy directory that ships with Bollard.
const shipped = "../../policies"
