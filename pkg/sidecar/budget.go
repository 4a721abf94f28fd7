package sidecar

import (
	"github.com/bollard-dev/bollard/pkg/budget"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/gateway"
	"github.com/bollard-dev/bollard/pkg/state"
)

// budgets are the agents' request budgets: this sidecar's own with the
// memory backend, the fleet's with a shared store, where this sidecar's
// own are what state.when_unavailable: deny_shared falls back on.
func (p *parts) budgets(cfg config.Config) gateway.Budget {
	local := budget.New(cfg.Limits.AgentRequestsPerMinute, cfg.Limits.Agents)
	if p.state == nil {
		return local
	}
	return budget.NewShared(p.state.Part(state.PartBudget), local, budget.WithWhenUnavailable(cfg.State.WhenUnavailable))
}
