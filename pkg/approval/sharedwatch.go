package approval

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Changes on other replicas reach this one's watchers through the change
// stream (changesKey), which every script that changes an approval
// appends to: one reader per Store blocks on it (XREAD BLOCK) and closes
// the Changed channel at each entry. A change made through this Store
// wakes its watchers at once, without waiting for the reader.
const (
	// followBlock is how long one read waits for a change: a Store with
	// watchers and no change costs the store one command a second.
	followBlock = time.Second
	// The pauses after a failed read, growing from the first to the last.
	followRetryFloor = 100 * time.Millisecond
	followRetryCeil  = 2 * time.Second
)

// follower is the reader's state; the reader starts at the first Changed
// and stops at Close.
type follower struct {
	start  sync.Once
	stop   sync.Once
	block  time.Duration
	cancel context.CancelFunc
	done   chan struct{}
}

// notify wakes the watchers.
func (s *Store) notify() {
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
}

// startFollowing starts the reader once. It learns where the stream ends
// before the first Changed returns, so that no change after that call is
// missed; when it cannot, the reader learns it later and wakes the
// watchers then.
func (s *Store) startFollowing() {
	s.follow.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.follow.cancel, s.follow.done = cancel, make(chan struct{})
		pctx, pcancel := context.WithTimeout(ctx, sharedTimeout)
		last, err := s.lastChange(pctx)
		pcancel()
		if err != nil {
			s.shared.Observe(err)
			last = ""
		}
		go s.following(ctx, last)
	})
}

// lastChange is the id of the change stream's newest entry, "0-0" when
// it has none.
func (s *Store) lastChange(ctx context.Context) (string, error) {
	msgs, err := s.shared.Client().XRevRangeN(ctx, s.changesKey(), "+", "-", 1).Result()
	if err != nil {
		return "", err
	}
	if len(msgs) == 0 {
		return "0-0", nil
	}
	return msgs[0].ID, nil
}

// stopFollowing stops the reader, if it started, and waits for it: at
// most one read's block.
func (s *Store) stopFollowing() {
	s.follow.stop.Do(func() {
		s.follow.start.Do(func() {}) // none starts after Close
		if s.follow.cancel != nil {
			s.follow.cancel()
			<-s.follow.done
		}
	})
}

// following reads the change stream from last until ctx ends. Not knowing
// where to read from (last ""), it learns the stream's newest entry and
// wakes the watchers, since what they read before may have changed
// meanwhile: at the start when startFollowing could not, and after each
// failure, which may have hidden changes (or a store that came back
// empty, whose stream starts anew).
func (s *Store) following(ctx context.Context, last string) {
	defer close(s.follow.done)
	pause := followRetryFloor
	for ctx.Err() == nil {
		err := s.followStep(ctx, &last)
		if err == nil {
			pause = followRetryFloor
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.shared.Observe(err)
		last = ""
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, followRetryCeil)
	}
}

func (s *Store) followStep(ctx context.Context, last *string) error {
	if *last == "" {
		id, err := s.lastChange(ctx)
		if err != nil {
			return err
		}
		*last = id
		s.notify()
		return nil
	}
	res, err := s.shared.Client().XRead(ctx, &redis.XReadArgs{Streams: []string{s.changesKey(), *last}, Count: changesLen, Block: s.follow.block}).Result()
	if errors.Is(err, redis.Nil) {
		return nil // nothing within the block
	}
	if err != nil {
		return err
	}
	woke := false
	for _, st := range res {
		for _, m := range st.Messages {
			*last, woke = m.ID, true
		}
	}
	if woke {
		s.notify()
	}
	return nil
}
