package sidecar

import (
	"context"
	"time"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/state"
)

// stateCheckInterval is how often the shared store is checked, so that
// /readyz and the parts that share state follow it both ways.
const stateCheckInterval = time.Second

// buildState connects to the store the fleet shares, when the state
// backend is redis. A store that cannot be reached at start is reported,
// not fatal: reads go on under local limits (state.when_unavailable).
func (p *parts) buildState(ctx context.Context, cfg config.State) error {
	if !cfg.Shared() {
		return nil
	}
	s, err := state.Open(ctx, cfg.Redis, p.log)
	if err != nil {
		return err
	}
	p.state = s
	// The instruments come later (buildOkta); until then a failure is not
	// counted (a nil *Instruments does nothing).
	s.OnUnreachable(func(part string) { p.instRef.Load().StateUnreachable(context.Background(), part) })
	watch, stop := context.WithCancel(context.WithoutCancel(ctx))
	go s.Watch(watch, stateCheckInterval)
	p.onClose(func(context.Context) { stop(); _ = s.Close() })
	if !s.Available() {
		p.log.Warn("shared state unavailable at start; calls that need it are refused until it answers", "address", cfg.Redis.Address)
	}
	return nil
}

// confirmStore keeps confirmation tokens in this process, or in the shared
// store so that a token is single-use across the fleet.
func (p *parts) confirmStore(cfg config.Confirmation) *confirm.Store {
	opts := []confirm.Option{confirm.WithTTL(cfg.TTL)}
	if p.state != nil {
		opts = append(opts, confirm.WithShared(p.state.Part(state.PartConfirm)))
	}
	return confirm.New(opts...)
}
