package impact

import (
	"context"
	"errors"
	"time"

	"github.com/bollard-dev/bollard/pkg/budget"
)

// ErrCountsMoved is returned by a Hold's Count when the agent's counts are
// no longer the ones the call was decided against: another replica counted
// a call of the same agent, or a window slid on. Nothing was counted; the
// hold's Counts are now the agent's counts, and the hold is still held:
// decide again with them, then Count again.
var ErrCountsMoved = errors.New("impact: the agent's counts moved since the call was decided")

// Tracker is what the gateway counts destructive calls through: the
// memory Counter (one replica) or Shared (a fleet, through Redis).
type Tracker interface {
	// Counts are the agent's counts without holding it, for what is not a
	// destructive call on its way to Okta: listings, the first stage of a
	// decision, reads. Never a network round trip.
	Counts(agent string) Counts
	// Hold holds the agent in this process (no other call of it here is
	// decided until Release) and returns its counts for the decision.
	// Waiting for a held agent ends with ctx.
	Hold(ctx context.Context, agent string) (Hold, error)
}

// Hold is a destructive call between its decision and Release.
type Hold interface {
	// Counts are the agent's counts before this call: what it is decided
	// against.
	Counts() Counts
	// Count counts the call as cleared to go to Okta, only while the
	// agent's counts are still Counts; else ErrCountsMoved, and Counts are
	// the new ones. Any other error: not counted, and the call must not
	// go. A success ends the hold, as Release does.
	Count(ctx context.Context) error
	// Release ends the hold, counted or not. Calling it again does nothing.
	Release()
}

// ChargingHold is a Hold that can spend one call of the agent's budget in
// the same step as it counts the call (Shared's holds, with budget.Shared's
// Charge): one round trip for both, and both written or neither.
type ChargingHold interface {
	Hold
	// CountCharging is Count that also spends c. A wait above zero is the
	// budget's refusal: nothing counted or spent, the hold still held.
	CountCharging(ctx context.Context, c budget.Charge) (wait time.Duration, err error)
}

// Hold holds the agent's counter as Begin does; waiting for it does not
// end with ctx, as it lasts only as long as another call's decision in
// this process.
func (c *Counter) Hold(_ context.Context, agent string) (Hold, error) {
	p, err := c.Begin(agent)
	if err != nil {
		return nil, err
	}
	return memoryHold{p}, nil
}

// memoryHold is a Pending as a Hold: the counts cannot move while it is
// held, and counting in memory cannot fail.
type memoryHold struct{ p *Pending }

func (h memoryHold) Counts() Counts { return h.p.Counts() }

func (h memoryHold) Count(context.Context) error {
	h.p.Done(true)
	return nil
}

func (h memoryHold) Release() { h.p.Done(false) }

var (
	_ Tracker      = (*Counter)(nil)
	_ Tracker      = (*Shared)(nil)
	_ ChargingHold = (*sharedHold)(nil)
)
