package policytool

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// result is what one run of the command printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
	err            error
}

// runMain runs `sidecar policy ARGS...` and maps its error to the exit code
// the sidecar binary would use.
func runMain(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Main(t.Context(), args, &out, &errOut)
	code := 0
	if err != nil {
		code = ExitError
		if ec, ok := errors.AsType[*ExitCodeError](err); ok {
			code = ec.Code
		}
	}
	return result{stdout: out.String(), stderr: errOut.String(), code: code, err: err}
}

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
