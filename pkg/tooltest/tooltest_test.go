package tooltest

import (
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a test ended.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = format
	panic(r)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = format
	panic(r)
}

func end(t *testing.T, f func(r *recorder)) *recorder {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		f(r)
	}()
	return r
}

func TestFindSkipsOrFails(t *testing.T) {
	t.Setenv(RequireEnv, "")
	r := end(t, func(r *recorder) { Find(r, "needs nothing-here (apt-get install it)", "bollard-no-such-program") })
	if r.skipped == "" || r.failed != "" {
		t.Errorf("a missing program without %s: skipped %q, failed %q; want a skip", RequireEnv, r.skipped, r.failed)
	}
	t.Setenv(RequireEnv, "1")
	r = end(t, func(r *recorder) { Find(r, "needs nothing-here (apt-get install it)", "bollard-no-such-program") })
	if r.failed == "" || r.skipped != "" || !strings.Contains(r.failed, "%s=1 makes this a failure") {
		t.Errorf("a missing program with %s=1: skipped %q, failed %q; want a failure", RequireEnv, r.skipped, r.failed)
	}
	if p := Find(t, "sh is everywhere", "bollard-no-such-program", "sh"); !strings.HasSuffix(p, "/sh") {
		t.Errorf("Find(sh) = %q", p)
	}
}
