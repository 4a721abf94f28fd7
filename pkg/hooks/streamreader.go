package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Run is the replica's one reader of the shared stream: it loads the
// retained events into the hub's replay ring, then relays every new event
// to the hub, until ctx ends or the hub closes. It never returns early on
// the store's failures: it waits (a growing pause, at most two seconds)
// and reads on from where it stopped. Events it could not get are told to
// the watchers as a gap: counted when the stream trimmed them, Unknown
// when the store came back empty. It may be called once.
func (s *Stream) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("hooks: the stream already has its reader")
	}
	r := &reader{Stream: s}
	pause := s.opts.retryFloor
	for ctx.Err() == nil {
		err := r.step(ctx)
		switch {
		case errors.Is(err, ErrClosed):
			return nil
		case err == nil:
			if r.broken {
				r.broken = false
				s.opts.log.Info("event stream readable again")
			}
			pause = s.opts.retryFloor
			continue
		case ctx.Err() != nil:
			return nil
		}
		s.store.Observe(err)
		if !r.broken {
			s.opts.log.Error("event stream unreadable; watchers are told of any loss when it is back", "error", err)
		}
		r.broken, r.recheck = true, true
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		pause = min(2*pause, s.opts.retryCeil)
	}
	return nil
}

// reader is Run's state: where it is in the stream and which incarnation
// of the numbering it follows (zero, 0 until it knows).
type reader struct {
	*Stream
	primed  bool
	broken  bool // the last step failed
	recheck bool // look at the incarnation before reading on
	lastID  string
	zero    uint64
	seq     uint64 // the last number relayed
}

func (r *reader) step(ctx context.Context) error {
	switch {
	case !r.primed:
		return r.prime(ctx)
	case r.recheck:
		if err := r.checkIncarnation(ctx); err != nil {
			return err
		}
	}
	res, err := r.store.Client().XRead(ctx, &redis.XReadArgs{
		Streams: []string{r.stream, r.lastID}, Count: int64(r.opts.readCount), Block: r.opts.block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil // nothing new within the block
	}
	if err != nil {
		return fmt.Errorf("read event stream: %w", err)
	}
	for _, st := range res {
		if err := r.relay(st.Messages); err != nil {
			return err
		}
	}
	return nil
}

// prime loads the newest retained events (as many as the replay window)
// and the incarnation, in one transaction so that they agree.
func (r *reader) prime(ctx context.Context) error {
	var tail *redis.XMessageSliceCmd
	var zero *redis.StringCmd
	_, err := r.store.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
		if r.opts.events > 0 {
			tail = p.XRevRangeN(ctx, r.stream, "+", "-", int64(r.opts.events))
		}
		zero = p.HGet(ctx, r.meta, "zero")
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("load event stream: %w", err)
	}
	r.lastID = "0-0"
	r.zero, _ = strconv.ParseUint(zero.Val(), 10, 64)
	var events []*Event
	if tail != nil {
		msgs := tail.Val()
		for i := len(msgs) - 1; i >= 0; i-- {
			ev, z, err := decodeEntry(msgs[i])
			r.lastID = msgs[i].ID
			if err != nil || z != r.zero {
				continue
			}
			events = append(events, ev)
		}
	}
	if r.zero != 0 {
		r.hub.prime(r.zero, events)
		r.seq = r.zero
		if len(events) > 0 {
			r.seq = events[len(events)-1].Seq
		}
	}
	r.primed, r.recheck = true, false
	close(r.ready)
	return nil
}

// checkIncarnation runs after a failure: when the store lost the stream
// (restarted empty), the events this reader had not read are gone and
// watchers are told so; it reads the new stream from its start.
func (r *reader) checkIncarnation(ctx context.Context) error {
	v, err := r.store.Client().HGet(ctx, r.meta, "zero").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read event stream: %w", err)
	}
	r.recheck = false
	zero, _ := strconv.ParseUint(v, 10, 64)
	if zero == r.zero {
		return nil
	}
	r.lastID = "0-0"
	return r.rebase(zero)
}

// rebase follows a new incarnation: an Unknown gap to every watcher when
// there was an old one.
func (r *reader) rebase(zero uint64) error {
	old := r.zero
	r.zero = zero
	if zero != 0 {
		r.hub.rebase(zero)
		r.seq = zero
	}
	if old == 0 {
		return nil
	}
	r.opts.log.Warn("event stream started anew: the events not yet read from the old one are lost")
	return r.hub.relay(Gap{Unknown: true}, nil)
}

// relay hands entries to the hub, in runs between losses: each loss is a
// gap before the next event.
func (r *reader) relay(msgs []redis.XMessage) error {
	var (
		batch []*Event
		lost  Gap
	)
	flush := func() error {
		if len(batch) == 0 && !lost.any() {
			return nil
		}
		err := r.hub.relay(lost, batch)
		batch, lost = nil, Gap{}
		return err
	}
	for _, m := range msgs {
		r.lastID = m.ID
		ev, zero, err := decodeEntry(m)
		if err != nil {
			r.opts.log.Warn("event stream entry skipped", "id", m.ID, "error", err)
			continue
		}
		if zero != r.zero {
			if err := flush(); err != nil {
				return err
			}
			if err := r.rebase(zero); err != nil {
				return err
			}
		}
		if ev.Seq <= r.seq {
			continue
		}
		if ev.Seq > r.seq+1 {
			if err := flush(); err != nil {
				return err
			}
			lost.Missed = int(min(ev.Seq-r.seq-1, 1<<31))
		}
		r.seq = ev.Seq
		batch = append(batch, ev)
	}
	return flush()
}

// decodeEntry reads an entry the append script wrote. The store is the
// fleet's own, but an entry is still checked as input: a bad one is
// skipped, never relayed.
func decodeEntry(m redis.XMessage) (*Event, uint64, error) {
	get := func(k string) string { v, _ := m.Values[k].(string); return v }
	n, err1 := strconv.ParseUint(get("n"), 10, 64)
	zero, err2 := strconv.ParseUint(get("z"), 10, 64)
	ms, err3 := strconv.ParseInt(get("t"), 10, 64)
	uuid, typ, raw := get("u"), get("y"), get("r")
	if err := errors.Join(err1, err2, err3); err != nil || n <= zero || !token(uuid, maxUUIDLen) ||
		!token(typ, maxTypeLen) || !json.Valid([]byte(raw)) {
		return nil, 0, errors.New("not an event entry")
	}
	return &Event{Seq: n, UUID: uuid, Type: typ, Received: time.UnixMilli(ms), Delivery: get("d"),
		Span: parseSpan(get("s")), Raw: json.RawMessage(raw)}, zero, nil
}
