package decision_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/policies"
)

// recorder is a slog.Handler that keeps records for assertions.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}

// errors returns the "error" attribute of every record with the given message.
func (r *recorder) errors(msg string) []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []error
	for _, rec := range r.records {
		if rec.Message != msg {
			continue
		}
		rec.Attrs(func(a slog.Attr) bool {
			if err, ok := a.Value.Any().(error); ok && a.Key == "error" {
				out = append(out, err)
			}
			return true
		})
	}
	return out
}

// policyFS makes a policy source from path/content pairs.
func policyFS(kv ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return m
}

// regoDecision is a policy whose decision is the given Rego expression.
func regoDecision(expr string) string {
	return "package bollard.authz\n\ndecision := " + expr + "\n"
}

func newEngine(t *testing.T, opts ...decision.Option) (*decision.Engine, *recorder) {
	t.Helper()
	rec := &recorder{}
	// A generous evaluation deadline: under -race on a loaded machine the
	// whole library can take longer than the production 100 ms, and a test
	// about something else must not fail closed on it. The tests of the
	// deadline pass their own, which wins.
	// The test policies hand the input, the stage and the standing back
	// under obligations of these names, which only tests honour.
	opts = append([]decision.Option{decision.WithLogger(slog.New(rec)), decision.WithEvalTimeout(10 * time.Second),
		decision.WithObligations("input", "stage", "standing")}, opts...)
	e, err := decision.New(t.Context(), opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e, rec
}

func action(t testing.TB, name string) *catalog.Action {
	t.Helper()
	a, ok := catalog.Lookup(name)
	if !ok {
		t.Fatalf("no catalog action %q", name)
	}
	return a
}

// Times in America/New_York (EST in late November 2026, UTC-5).
var (
	mondayNoon = time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)
	saturday   = time.Date(2026, 11, 28, 13, 0, 0, 0, time.UTC)
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var discard = slog.New(slog.DiscardHandler)

// withAgents is the shipped policy set with n more agents in the grants.
func withAgents(tb testing.TB, n int) fs.FS { return withData(tb, scale{agents: n}) }

// scale is how much data the policies are given on top of the samples.
type scale struct {
	agents          int // agents with grants, every tenth with action lists
	protectedUsers  int
	protectedGroups int
}

// withData is the shipped policy set with synthetic data added: realistic
// sizes show whether evaluation cost grows with the data.
func withData(tb testing.TB, sc scale) fs.FS {
	tb.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	edit := func(file string, f func(cfg map[string]any)) {
		var doc map[string]any
		if err := json.Unmarshal(m[file].Data, &doc); err != nil {
			tb.Fatal(err)
		}
		f(doc["bollard"].(map[string]any)["config"].(map[string]any))
		b, err := json.Marshal(doc)
		if err != nil {
			tb.Fatal(err)
		}
		m[file] = &fstest.MapFile{Data: b}
	}
	if sc.agents > 0 {
		edit("grants.json", func(cfg map[string]any) {
			grants := cfg["grants"].(map[string]any)
			agents := grants["agents"].(map[string]any)
			actions, _ := grants["actions"].(map[string]any)
			if actions == nil {
				actions = map[string]any{}
				grants["actions"] = actions
			}
			for i := range sc.agents {
				id := fmt.Sprintf("agent-%05d", i)
				g := map[string]any{}
				for j, a := range catalog.Areas() {
					g[a.Name] = []string{"read", "manage"}[(i+j)%2]
				}
				agents[id] = g
				if i%10 == 0 {
					actions[id] = map[string]any{"allow": []any{"sessions.revoke"}, "deny": []any{"users.delete", "groups.delete"}}
				}
			}
		})
	}
	if sc.protectedUsers > 0 || sc.protectedGroups > 0 {
		edit("protected.json", func(cfg map[string]any) {
			p := cfg["protected"].(map[string]any)
			for i := range sc.protectedUsers {
				p["users"].(map[string]any)[fmt.Sprintf("00uPROTECTED%08d", i)] = "synthetic"
			}
			for i := range sc.protectedGroups {
				p["groups"].(map[string]any)[fmt.Sprintf("00gPROTECTED%08d", i)] = "synthetic"
			}
		})
	}
	return m
}

// withFiles adds files (path, content pairs) to a policy set made by
// withData.
func withFiles(fsys fs.FS, kv ...string) fs.FS {
	m := fsys.(fstest.MapFS)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = &fstest.MapFile{Data: []byte(kv[i+1])}
	}
	return m
}
