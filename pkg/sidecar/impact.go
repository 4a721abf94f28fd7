package sidecar

import (
	"time"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/gateway"
	"github.com/bollard-dev/bollard/pkg/impact"
	"github.com/bollard-dev/bollard/pkg/state"
)

// impactOption counts destructive calls for the whole fleet when the state
// is shared; with memory the gateway keeps its own counter.
func (p *parts) impactOption(cfg config.Config) []gateway.Option {
	if p.state == nil {
		return nil
	}
	return []gateway.Option{gateway.WithImpactCounter(impact.NewShared(p.state.Part(state.PartImpact), impact.WithLease(impactLease(cfg))))}
}

// impactLease outlasts everything a call does while it holds its agent:
// its decision, its budget and confirmation in the store, and the intent
// record, each at its timeout. A call held past it is refused, and a
// replica that dies holding an agent blocks it this long at most.
func impactLease(cfg config.Config) time.Duration {
	need := cfg.Policy.EvalTimeout + cfg.Audit.WriteTimeout + 4*cfg.State.Redis.ReadTimeout + time.Second
	return max(impact.DefaultLease, 2*need)
}
