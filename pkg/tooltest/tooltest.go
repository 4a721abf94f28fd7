package tooltest

import (
	"os"
	"os/exec"
	"testing"
)

// RequireEnv set to 1 turns a missing program into a failure.
const RequireEnv = "BOLLARD_REQUIRE_TOOLS"

// Find returns the path of the first of names on PATH. When none is
// there, it skips the test (fails it under RequireEnv=1) with need, which
// says what needs the program and how to install it.
func Find(t testing.TB, need string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, need)
	return ""
}

// Missing skips the test saying need, or fails it under RequireEnv=1.
func Missing(t testing.TB, need string) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s; %s=1 makes this a failure", need, RequireEnv)
	}
	t.Skipf("%s; set %s=1 to fail instead", need, RequireEnv)
}

// Chromium is the headless browser's path (Debian's chromium), or the test
// is skipped (failed under RequireEnv=1).
func Chromium(t testing.TB) string {
	t.Helper()
	return Find(t, "no headless browser for the console's browser tests: install Debian's chromium (apt-get install chromium)",
		"chromium", "chromium-browser", "google-chrome")
}
