package sidecar

import (
	"log/slog"
	"testing"

	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// TestBudgetsFollowTheStateBackend: with memory, each sidecar has its own
// budgets; with redis, two sidecars built from the same config spend one
// budget between them.
func TestBudgetsFollowTheStateBackend(t *testing.T) {
	cfg := config.Config{Limits: config.Limits{Agents: map[string]int{"reader-bot": 2}}}
	if _, ok := (&parts{}).budgets(cfg).(*budget.Limiter); !ok {
		t.Fatal("memory backend: not this sidecar's own budgets")
	}

	srv := redistest.Start(t)
	cfg.State = config.State{Backend: config.StateRedis, WhenUnavailable: config.UnavailableDenyShared, Redis: srv.Config()}
	var sidecars []*parts
	for range 2 {
		p := &parts{log: slog.New(slog.DiscardHandler)}
		if err := p.buildState(t.Context(), cfg.State); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.close(t.Context()) })
		sidecars = append(sidecars, p)
	}
	a, b := sidecars[0].budgets(cfg), sidecars[1].budgets(cfg)
	for i, s := range []interface{ Limit(string) int }{a, b} {
		if s.Limit("reader-bot") != 2 {
			t.Errorf("sidecar %d: limit %d", i, s.Limit("reader-bot"))
		}
	}
	ok1, _, err1 := a.Spend(t.Context(), "reader-bot")
	ok2, _, err2 := b.Spend(t.Context(), "reader-bot")
	ok3, wait, err3 := a.Spend(t.Context(), "reader-bot")
	if !ok1 || !ok2 || ok3 || wait <= 0 || err1 != nil || err2 != nil || err3 != nil {
		t.Errorf("spends: %v %v %v (wait %v) %v %v %v, want two allowed between the sidecars, then refused", ok1, ok2, ok3, wait, err1, err2, err3)
	}
}
