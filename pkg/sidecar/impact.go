package sidecar

import (
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/gateway"
	"github.com/bollard-dev/bollard/pkg/impact"
	"github.com/bollard-dev/bollard/pkg/state"
)

// impactOption counts destructive calls for the whole fleet when the state
// is shared; with memory the gateway keeps its own counter.
func (p *parts) impactOption(config.Config) []gateway.Option {
	if p.state == nil {
		return nil
	}
	return []gateway.Option{gateway.WithImpactCounter(impact.NewShared(p.state.Part(state.PartImpact)))}
}
