package impact

import "context"

// Tracker is what the gateway counts destructive calls through: the
// memory Counter (one replica) or Shared (a fleet, through Redis).
type Tracker interface {
	// Counts are the agent's counts without holding it, for what is not a
	// destructive call on its way to Okta: listings, the first stage of a
	// decision, reads. Never a network round trip.
	Counts(agent string) Counts
	// Hold holds the agent (no other call of it, on any replica sharing
	// the tracker, is decided until Done) and returns its counts. Waiting
	// for a held agent ends with ctx.
	Hold(ctx context.Context, agent string) (Hold, error)
}

// Hold is a destructive call between its decision and Done.
type Hold interface {
	// Counts are the agent's counts before this call.
	Counts() Counts
	// Done releases the agent, counting the call when sent is true. An
	// error with sent true means the call was not counted and must not go
	// to Okta. Calling it again has no further effect.
	Done(sent bool) error
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

// memoryHold is a Pending as a Hold: counting in memory cannot fail.
type memoryHold struct{ p *Pending }

func (h memoryHold) Counts() Counts { return h.p.Counts() }

func (h memoryHold) Done(sent bool) error {
	h.p.Done(sent)
	return nil
}

var (
	_ Tracker = (*Counter)(nil)
	_ Tracker = (*Shared)(nil)
)
