package approvers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/identity"
)

var (
	errTokenExpired = errors.New("the caller's token expired")
	errShutdown     = errors.New("the server is closing")
)

// WatchApprovals streams the approvals the caller is an approver of.
func (s *Server) WatchApprovals(_ *bollardv1.WatchApprovalsRequest, stream grpc.ServerStreamingServer[bollardv1.WatchApprovalsResponse]) error {
	return s.run(stream.Context(), rpcWatch, func(ctx context.Context, c *call) error {
		return s.watch(ctx, c, stream)
	})
}

// watch sends every pending approval, then each approval the caller may
// approve whenever it is created or changes. It reads the store again at
// each change rather than queue the changes: a watcher that is slow to
// read (its Send blocks) then gets the latest state of each approval that
// changed meanwhile, and the store never waits for it. It ends when the
// caller's token expires (checked before every message), when the caller
// goes away, and at Close.
func (s *Server) watch(ctx context.Context, c *call, stream grpc.ServerStreamingServer[bollardv1.WatchApprovalsResponse]) error {
	p, err := s.authenticate(ctx)
	if err != nil {
		return err
	}
	c.subject = p.Subject
	if !s.watches.take(p.Subject) {
		return &failure{kind: kindTooManyWatches, err: fmt.Errorf("watches: %d open for this person or %d in all", s.watches.perPerson, s.watches.max)}
	}
	defer s.watches.give(p.Subject)
	expiry := s.now()
	if !p.Expires.After(expiry) {
		return tokenExpired()
	}
	tokenDone := s.after(p.Expires.Sub(expiry))
	// Taken before the first read, so that no change after it is missed.
	changed := s.store.Changed()
	w := &watcher{person: p.Person, seen: map[string]version{}}
	all, err := s.store.List()
	if err != nil {
		return storeFailure(err, approval.Approval{})
	}
	send := w.start(all)
	overdue := false
	for {
		for _, a := range send {
			select {
			case <-tokenDone:
				return tokenExpired()
			case <-s.closed:
				return &failure{kind: kindShutdown, err: errShutdown}
			case <-ctx.Done():
				return ctx.Err()
			default:
			}
			msg, ok := s.shown(ctx, a)
			if !ok {
				continue
			}
			if err := stream.Send(&bollardv1.WatchApprovalsResponse{Approval: msg}); err != nil {
				return &failure{kind: kindCanceled, err: fmt.Errorf("send: %w", err)}
			}
			c.sent++
		}
		// An approval's expiry is a change the store applies when it is
		// next read: read it then, or at once if it is due already. Due
		// twice in a row, the store's clock is behind ours: do not spin.
		var lapse <-chan time.Time
		if next := w.nextExpiry; !next.IsZero() {
			d := next.Sub(s.now())
			if d <= 0 && overdue {
				d = time.Second
			}
			overdue = d <= 0
			lapse = s.after(d)
		}
		select {
		case <-tokenDone:
			return tokenExpired()
		case <-s.closed:
			return &failure{kind: kindShutdown, err: errShutdown}
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-lapse:
		}
		changed = s.store.Changed()
		if all, err = s.store.List(); err != nil {
			// The store the fleet shares cannot be reached: the caller
			// watches again, and is sent every pending approval then.
			return storeFailure(err, approval.Approval{})
		}
		send = w.changes(all)
	}
}

func tokenExpired() *failure {
	return &failure{kind: kindUnauthenticated, meta: map[string]string{"detail": identity.ReasonExpired}, err: errTokenExpired}
}

// version tells one state of an approval from the next: its state and
// its votes only change, and votes are only added.
type version struct {
	state approval.State
	votes int
}

func versionOf(a approval.Approval) version { return version{a.State, len(a.Votes)} }

// watcher is what one watch has told its caller.
type watcher struct {
	person approval.Person
	seen   map[string]version
	// nextExpiry is the earliest expiry of an approval that can still
	// expire, or zero.
	nextExpiry time.Time
}

// start takes all approvals (the store's List, oldest first) and returns
// the pending ones the person may approve; the others are known as they
// are, and sent when they change.
func (w *watcher) start(all []approval.Approval) []approval.Approval {
	var send []approval.Approval
	w.nextExpiry = time.Time{}
	for _, a := range all {
		if !a.Requirement.Qualifies(w.person) {
			continue
		}
		w.seen[a.ID] = versionOf(a)
		w.track(a)
		if a.State == approval.Pending {
			send = append(send, a)
		}
	}
	return send
}

// changes returns the approvals the person may approve that are new or
// changed since last seen, oldest first, and forgets those the store has.
func (w *watcher) changes(all []approval.Approval) []approval.Approval {
	var send []approval.Approval
	present := make(map[string]bool, len(w.seen))
	w.nextExpiry = time.Time{}
	for _, a := range all {
		if !a.Requirement.Qualifies(w.person) {
			continue
		}
		present[a.ID] = true
		w.track(a)
		v := versionOf(a)
		if old, ok := w.seen[a.ID]; ok && old == v {
			continue
		}
		w.seen[a.ID] = v
		send = append(send, a)
	}
	for id := range w.seen {
		if !present[id] {
			delete(w.seen, id)
		}
	}
	return send
}

func (w *watcher) track(a approval.Approval) {
	if (a.State == approval.Pending || a.State == approval.Approved) && (w.nextExpiry.IsZero() || a.Expires.Before(w.nextExpiry)) {
		w.nextExpiry = a.Expires
	}
}

// watchCount is the watches open, per person (subject) and in all.
type watchCount struct {
	mu             sync.Mutex
	max, perPerson int
	total          int
	held           map[string]int
}

// take counts one more watch for subject, unless a bound is reached.
func (w *watchCount) take(subject string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.total >= w.max || w.held[subject] >= w.perPerson {
		return false
	}
	w.total++
	w.held[subject]++
	return true
}

func (w *watchCount) give(subject string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.total--
	if w.held[subject]--; w.held[subject] <= 0 {
		delete(w.held, subject)
	}
}
