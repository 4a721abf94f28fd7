package policytool

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	ugly      = "package x\nallow if {input.x==1\n}\nlimits:=  [1,2]\n"
	formatted = "package x\n\nallow if input.x == 1\n\nlimits := [1, 2]\n"
)

func TestFmtPrints(t *testing.T) {
	dir := writeFiles(t, map[string]string{"x.rego": ugly})
	r := runFmt(t, FmtOptions{Paths: []string{filepath.Join(dir, "x.rego")}})
	r.wantCode(t, 0)
	if r.stdout != formatted {
		t.Errorf("stdout = %q, want %q", r.stdout, formatted)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "x.rego")); string(b) != ugly {
		t.Error("the file changed without -w")
	}
}

func TestFmtList(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"ugly.rego":          ugly,
		"sub/ugly_test.rego": ugly,
		"fine.rego":          formatted,
		"data.json":          "{ }",
		".hidden/ugly.rego":  ugly,
	})
	r := runFmt(t, FmtOptions{Paths: []string{dir}, List: true})
	r.wantCode(t, 0) // without --fail a difference is not a failure
	want := filepath.Join(dir, "sub", "ugly_test.rego") + "\n" + filepath.Join(dir, "ugly.rego") + "\n"
	if r.stdout != want {
		t.Errorf("stdout = %q, want %q", r.stdout, want)
	}
	r = runFmt(t, FmtOptions{Paths: []string{dir}, List: true, Fail: true})
	r.wantCode(t, ExitFail)
	if !strings.Contains(r.err.Error(), "2 file(s) not formatted") {
		t.Errorf("err = %v", r.err)
	}
	r = runFmt(t, FmtOptions{Paths: []string{filepath.Join(dir, "fine.rego")}, List: true, Fail: true})
	r.wantCode(t, 0)
	if r.stdout != "" {
		t.Errorf("stdout = %q", r.stdout)
	}
}

func TestFmtWrite(t *testing.T) {
	dir := writeFiles(t, map[string]string{"x.rego": ugly, "y.rego": formatted})
	if err := os.Chmod(filepath.Join(dir, "x.rego"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runFmt(t, FmtOptions{Paths: []string{dir}, Write: true, List: true})
	r.wantCode(t, 0)
	if r.stdout != filepath.Join(dir, "x.rego")+"\n" {
		t.Errorf("stdout = %q", r.stdout)
	}
	b, err := os.ReadFile(filepath.Join(dir, "x.rego"))
	if err != nil || string(b) != formatted {
		t.Errorf("x.rego = %q, %v", b, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "x.rego")); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files left in the directory, want 2", len(entries))
	}
	runFmt(t, FmtOptions{Paths: []string{dir}, List: true, Fail: true}).wantCode(t, 0)
}

func TestFmtParseError(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"broken.rego": "package x\n\nallow if {\n\tinput.x ==\n}\n",
		"fine.rego":   formatted,
	})
	r := runFmt(t, FmtOptions{Paths: []string{dir}, List: true})
	r.wantCode(t, ExitError)
	if want := filepath.Join(dir, "broken.rego") + ":5: rego_parse_error:"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	if !strings.Contains(r.err.Error(), "1 file(s) do not parse") {
		t.Errorf("err = %v", r.err)
	}
}

func TestFmtShippedPoliciesAreFormatted(t *testing.T) {
	r := runFmt(t, FmtOptions{Paths: []string{shipped}, List: true, Fail: true})
	r.wantCode(t, 0)
}

func TestFmtUsage(t *testing.T) {
	runFmt(t, FmtOptions{}).wantCode(t, ExitError)
	runFmt(t, FmtOptions{Paths: []string{filepath.Join(t.TempDir(), "missing.rego")}}).wantCode(t, ExitError)
}
