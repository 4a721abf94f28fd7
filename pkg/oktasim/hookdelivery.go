package oktasim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"
)

// hookWorker delivers one hook's events, one at a time and in order. Its
// fields are fixed when it starts.
type hookWorker struct {
	id      string
	uri     string
	source  string // the envelope's source: the hook's URL at the org
	headers []hookHeader
	queue   chan delivery
}

// delivery is one System Log event on its way to a hook.
type delivery struct {
	event     obj       // the rendered event; immutable once recorded
	eventTime time.Time // sim clock when the event was queued
	due       time.Time // wall clock: not before (WithEventHookDelay)
}

// startWorker starts h's delivery goroutine. Callers hold s.mu and have
// checked that the simulator is not closed, so the WaitGroup's Add happens
// before Close's Wait.
func (s *Sim) startWorker(h *eventHook, source string) *hookWorker {
	w := &hookWorker{id: h.id, uri: h.uri, source: source, headers: h.sendHeaders(),
		queue: make(chan delivery, s.hookCfg.queueSize)}
	s.hookWG.Add(1)
	go s.runWorker(w)
	return w
}

// notifyHooks queues e for every active, verified hook that subscribes to
// its type. It runs with s.mu held, right where the event is recorded, so a
// hook's queue is in System Log order. A full queue drops the event: the
// API call that caused it never waits on a receiver.
func (s *Sim) notifyHooks(e *logEvent) {
	if s.hooksClosed {
		return
	}
	for _, h := range s.hooks {
		if h.w == nil || h.status != HookActive || !h.verified || !h.subscribes(e.eventType) {
			continue
		}
		d := delivery{event: e.rendered, eventTime: e.published, due: time.Now().Add(s.hookCfg.delay)}
		select {
		case h.w.queue <- d:
			h.stats.Queued++
			s.addPending(1)
		default:
			h.stats.Dropped++
			s.logger.Warn("okta event hook queue full", "hook", h.id, "event_type", e.eventType)
		}
	}
}

// addPending counts deliveries queued or in flight, for FlushEventHooks.
// Callers hold s.mu.
func (s *Sim) addPending(n int) {
	if s.hookPending == 0 && n > 0 {
		s.hookIdle = make(chan struct{})
	}
	s.hookPending += n
	if s.hookPending == 0 {
		close(s.hookIdle)
	}
}

func (s *Sim) runWorker(w *hookWorker) {
	defer s.hookWG.Done()
	for d := range w.queue {
		if !s.waitDue(d.due) {
			s.finish(w.id, func(st *EventHookStats) { st.Dropped++ })
			continue
		}
		body, err := encodeJSON(w.envelope(d))
		if err != nil { // cannot happen with rendered events
			s.finish(w.id, func(st *EventHookStats) { st.Failed++ })
			continue
		}
		s.mu.Lock()
		h := s.hookByID(w.id)
		twice := false
		if h != nil {
			h.sent++
			twice = s.hookCfg.dupEvery > 0 && h.sent%s.hookCfg.dupEvery == 0
		}
		s.mu.Unlock()
		ok, retried := s.deliver(w, body)
		if twice {
			ok2, retried2 := s.deliver(w, body)
			s.finish(w.id, func(st *EventHookStats) {
				st.Duplicates++
				count(st, ok, retried)
				count(st, ok2, retried2)
			})
			continue
		}
		s.finish(w.id, func(st *EventHookStats) { count(st, ok, retried) })
	}
}

func count(st *EventHookStats, ok, retried bool) {
	if ok {
		st.Delivered++
	} else {
		st.Failed++
	}
	if retried {
		st.Retries++
	}
}

// waitDue waits for a delayed delivery's time, or reports false once Close
// has begun: what is still queued then is dropped, not sent.
func (s *Sim) waitDue(due time.Time) bool {
	select {
	case <-s.hookStop:
		return false
	default:
	}
	d := time.Until(due)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.hookStop:
		return false
	}
}

// finish records a delivery's outcome and that it is no longer pending.
func (s *Sim) finish(id string, update func(*EventHookStats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hookByID(id); h != nil {
		update(&h.stats)
	}
	s.addPending(-1)
}

// deliver POSTs body, and once more if that fails or times out, as Okta
// does. A 4xx is the receiver refusing the event, which Okta does not
// retry.
func (s *Sim) deliver(w *hookWorker, body []byte) (ok, retried bool) {
	status, err := s.post(w, body)
	if err == nil && status/100 == 2 {
		return true, false
	}
	if err == nil && status/100 == 4 {
		s.logger.Warn("okta event hook delivery refused", "hook", w.id, "status", status)
		return false, false
	}
	status, err = s.post(w, body)
	if err == nil && status/100 == 2 {
		return true, true
	}
	s.logger.Warn("okta event hook delivery failed", "hook", w.id, "status", status, "error", err)
	return false, true
}

func (s *Sim) post(w *hookWorker, body []byte) (int, error) {
	// Not tied to Close: an attempt under way is finished, not abandoned.
	ctx, cancel := context.WithTimeout(context.Background(), s.hookCfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.uri, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	for _, hh := range w.headers {
		req.Header.Set(hh.key, hh.value)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hookClient().Do(req)
	if err != nil {
		// Without the URL, whose query may hold a secret: this is logged.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxHookBody))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// envelope is Okta's event hook request body around one System Log event.
func (w *hookWorker) envelope(d delivery) obj {
	return obj{
		{"eventType", "com.okta.event_hook"},
		{"eventTypeVersion", "1.0"},
		{"cloudEventsVersion", "0.1"},
		{"source", w.source},
		{"eventId", randomUUID()},
		{"eventTime", ts(d.eventTime)},
		{"contentType", "application/json"},
		{"data", obj{{"events", []obj{d.event}}}},
	}
}

// FlushEventHooks waits until every queued event hook delivery is done
// (answered, failed after its retry, or dropped), or ctx ends. Deliveries
// queued meanwhile are waited for too.
func (s *Sim) FlushEventHooks(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.hookPending == 0 {
			s.mu.Unlock()
			return nil
		}
		idle := s.hookIdle
		s.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops event hook delivery: nothing more is queued, deliveries not
// yet started are dropped (and counted), and Close returns once the ones
// under way are finished, retry included. Call FlushEventHooks first to
// deliver everything queued. The API keeps serving; Close is idempotent and
// never fails.
func (s *Sim) Close() error {
	s.mu.Lock()
	if !s.hooksClosed {
		s.hooksClosed = true
		close(s.hookStop)
		for _, h := range s.hooks {
			if h.w != nil {
				close(h.w.queue)
			}
		}
	}
	s.mu.Unlock()
	s.hookWG.Wait()
	return nil
}
