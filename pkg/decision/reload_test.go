package decision_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// flagPolicy allows when data.cfg.allow is true.
const flagPolicy = `package bollard.authz

decision := {"allow": data.cfg.allow, "deny": [], "obligations": {"require_confirmation": false}}
`

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	// Write and rename, as editors and deploy tools do, so the watcher never
	// sees a half-written file.
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

func flagDir(t *testing.T, allow bool) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "authz.rego", flagPolicy)
	writeFile(t, dir, "cfg.json", flagJSON(allow))
	return dir
}

func flagJSON(allow bool) string {
	if allow {
		return `{"cfg": {"allow": true}}`
	}
	return `{"cfg": {"allow": false}}`
}

func allowed(t *testing.T, e *decision.Engine) bool {
	t.Helper()
	return e.Decide(t.Context(), decision.Input{Action: action(t, "users.list")}).Allow
}

func TestWatchPicksUpChange(t *testing.T) {
	dir := flagDir(t, false)
	e, _ := newEngine(t, decision.WithPolicyDir(dir), decision.WithReloadDebounce(20*time.Millisecond))
	rev := e.Revision()
	loaded := e.Status().LoadedAt
	if allowed(t, e) {
		t.Fatal("allowed before the change")
	}

	writeFile(t, dir, "cfg.json", flagJSON(true))
	eventually(t, "the new revision", func() bool { return e.Revision() != rev })
	if !allowed(t, e) {
		t.Error("the changed data is not in effect")
	}
	st := e.Status()
	if st.Revision != e.Revision() || st.LastError != nil || !st.LoadedAt.After(loaded) || st.Source != dir {
		t.Errorf("Status = %+v", st)
	}
}

func TestWatchRejectsBrokenChange(t *testing.T) {
	dir := flagDir(t, true)
	e, rec := newEngine(t, decision.WithPolicyDir(dir), decision.WithReloadDebounce(20*time.Millisecond))
	rev := e.Revision()

	writeFile(t, dir, "authz.rego", "package bollard.authz\n\ndecision := {\n")
	eventually(t, "the rejection", func() bool { return e.Status().LastError != nil })
	if e.Revision() != rev || e.Status().Revision != rev {
		t.Errorf("revision moved to %s after a broken change", e.Revision())
	}
	if !allowed(t, e) {
		t.Error("the previous policy is no longer in effect")
	}
	if len(rec.errors("policy rejected")) == 0 {
		t.Error("the rejection was not logged")
	}
	if err := e.Reload(t.Context()); err == nil {
		t.Error("Reload of the broken policy succeeded")
	}

	// Fixing the file recovers and clears the error.
	writeFile(t, dir, "authz.rego", flagPolicy+"\n# fixed\n")
	eventually(t, "the fix", func() bool { return e.Revision() != rev })
	if st := e.Status(); st.LastError != nil {
		t.Errorf("LastError = %v after the fix", st.LastError)
	}
}

func TestWatchNewDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "authz.rego", `package bollard.authz

default allow := false

allow := data.sub.cfg.allow

decision := {"allow": allow, "deny": [], "obligations": {"require_confirmation": false}}
`)
	e, _ := newEngine(t, decision.WithPolicyDir(dir), decision.WithReloadDebounce(20*time.Millisecond))
	rev := e.Revision()
	writeFile(t, dir, "sub/data.json", `{"cfg": {"allow": true}}`)
	eventually(t, "data in a new directory", func() bool { return e.Revision() != rev })
	if !allowed(t, e) {
		t.Error("data in the new directory is not in effect")
	}
}

func TestReloadWithoutWatch(t *testing.T) {
	dir := flagDir(t, false)
	e, _ := newEngine(t, decision.WithPolicyDir(dir), decision.WithWatch(false))
	rev := e.Revision()
	writeFile(t, dir, "cfg.json", flagJSON(true))
	if err := e.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e.Revision() == rev || !allowed(t, e) {
		t.Error("Reload did not activate the change")
	}
	// An unchanged source reloads to the same revision.
	rev = e.Revision()
	loaded := e.Status().LoadedAt
	if err := e.Reload(t.Context()); err != nil || e.Revision() != rev || e.Status().LoadedAt != loaded {
		t.Errorf("reload of an unchanged source: err %v, revision %s, loaded %v", err, e.Revision(), e.Status().LoadedAt)
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
	if err := e.Close(); err != nil {
		t.Error("second Close:", err)
	}
}

// TestDecideDuringReloads: a decision always comes from one whole policy,
// never a mix, while reloads swap policies underneath.
func TestDecideDuringReloads(t *testing.T) {
	dir := flagDir(t, false)
	e, _ := newEngine(t, decision.WithPolicyDir(dir), decision.WithWatch(false))
	denyRev := e.Revision()
	writeFile(t, dir, "cfg.json", flagJSON(true))
	if err := e.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	allowRev := e.Revision()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Not writeFile: t.Fatal must not be called from this goroutine.
			tmp := filepath.Join(dir, "cfg.json.tmp")
			if err := os.WriteFile(tmp, []byte(flagJSON(i%2 == 0)), 0o644); err != nil {
				t.Error(err)
				return
			}
			if err := os.Rename(tmp, filepath.Join(dir, "cfg.json")); err != nil {
				t.Error(err)
				return
			}
			if err := e.Reload(t.Context()); err != nil {
				t.Error(err)
				return
			}
		}
	})
	in := decision.Input{Action: action(t, "users.list")}
	seen := map[string]bool{}
	for range 2000 {
		d := e.Decide(t.Context(), in)
		switch {
		case d.Revision == allowRev && d.Allow, d.Revision == denyRev && !d.Allow:
			seen[d.Revision] = true
		default:
			t.Fatalf("decision %+v mixes revisions (allow %s, deny %s)", d, allowRev, denyRev)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("saw revisions %v", seen)
}

// TestConfigMapUpdate follows how Kubernetes updates a mounted ConfigMap:
// the files are links through "..data" to a timestamped directory, and an
// update swaps the "..data" link in one rename.
func TestConfigMapUpdate(t *testing.T) {
	dir := t.TempDir()
	version := func(name string, allow bool) {
		writeFile(t, dir, filepath.Join(name, "authz.rego"), flagPolicy)
		writeFile(t, dir, filepath.Join(name, "cfg.json"), flagJSON(allow))
	}
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	version("..2026_11_28_13_00_00.1", false)
	link("..2026_11_28_13_00_00.1", "..data")
	link(filepath.Join("..data", "authz.rego"), "authz.rego")
	link(filepath.Join("..data", "cfg.json"), "cfg.json")

	e, _ := newEngine(t, decision.WithPolicyDir(dir), decision.WithReloadDebounce(20*time.Millisecond))
	rev := e.Revision()
	if allowed(t, e) {
		t.Fatal("allowed before the update")
	}
	version("..2026_11_28_14_00_00.2", true)
	link("..2026_11_28_14_00_00.2", "..data_tmp")
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ConfigMap update", func() bool { return e.Revision() != rev })
	if !allowed(t, e) {
		t.Error("the updated ConfigMap is not in effect")
	}
}

func TestReloadObserver(t *testing.T) {
	dir := flagDir(t, false)
	var mu sync.Mutex
	var oks, fails int
	e, _ := newEngine(t, decision.WithPolicyDir(dir), decision.WithReloadDebounce(20*time.Millisecond),
		decision.WithReloadObserver(func(ok bool) {
			mu.Lock()
			defer mu.Unlock()
			if ok {
				oks++
			} else {
				fails++
			}
		}))
	count := func() (int, int) { mu.Lock(); defer mu.Unlock(); return oks, fails }
	if o, f := count(); o != 1 || f != 0 {
		t.Fatalf("after start: %d ok, %d failed; want the first load counted", o, f)
	}
	rev := e.Revision()
	writeFile(t, dir, "cfg.json", flagJSON(true))
	eventually(t, "the new revision", func() bool { return e.Revision() != rev })
	writeFile(t, dir, "authz.rego", "package bollard.authz\n\ndecision := {")
	eventually(t, "the rejection", func() bool { _, f := count(); return f == 1 })
	if o, _ := count(); o != 2 {
		t.Errorf("%d successful loads, want 2", o)
	}
}
