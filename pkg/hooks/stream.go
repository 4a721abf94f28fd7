package hooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/bollard-dev/bollard/pkg/state"
)

// Stream is the event stream a fleet of sidecars shares in Redis. The
// receiver of whichever replica Okta reaches de-duplicates a delivery's
// events by uuid and appends the new ones to it, in one script; every
// replica's Run reads it and relays each event to its own hub, so that
// watchers on any replica see every event once, under the same number.
type Stream struct {
	store  *state.Store
	hub    *Hub
	opts   streamOptions
	stream string // the Redis Stream
	meta   string // a hash: zero (the incarnation) and seq (the last number)
	maxlen int
	// running makes Run single: one reader per replica.
	running atomic.Bool
	// ready is closed once Run has loaded the retained events.
	ready chan struct{}
}

type streamOptions struct {
	events     int
	maxAge     time.Duration
	dedupe     time.Duration
	block      time.Duration
	readCount  int
	minStored  int
	log        *slog.Logger
	metaTTL    time.Duration
	retryFloor time.Duration
	retryCeil  time.Duration
}

var defaultStreamOptions = streamOptions{
	events: defaultHubOptions.replay, maxAge: defaultHubOptions.maxAge,
	// At least Okta's retry horizon (one retry, within seconds), as the
	// local window.
	dedupe: defaultOptions.window,
	// Long enough to cost nothing when idle, short enough that stopping
	// the reader never waits long: go-redis does not interrupt a blocked
	// read when its context ends.
	block:     time.Second,
	readCount: 1024,
	// One delivery's events always fit, so that a reader never loses
	// part of one to trimming however small the replay window.
	minStored: defaultOptions.maxEvents,
	log:       slog.New(slog.DiscardHandler),
	// The numbering outlives a quiet week, so that a watcher's cursor
	// stays comparable; it is one small hash.
	metaTTL:    7 * 24 * time.Hour,
	retryFloor: 50 * time.Millisecond,
	retryCeil:  2 * time.Second,
}

// StreamOption configures a Stream.
type StreamOption func(*streamOptions)

// WithRetention bounds the stream as the hub's replay ring is bounded: the
// last events events (the stream keeps at least 1,000, so that one
// delivery is never trimmed before the readers have it) and none older
// than maxAge. Give the hub the same bounds (WithReplay).
func WithRetention(events int, maxAge time.Duration) StreamOption {
	return func(o *streamOptions) { o.events, o.maxAge = events, maxAge }
}

// WithSharedDedupe sets how long an event's uuid is remembered fleet-wide
// (default an hour): at least Okta's retry horizon.
func WithSharedDedupe(ttl time.Duration) StreamOption {
	return func(o *streamOptions) { o.dedupe = ttl }
}

// WithBlock sets how long one read waits for new events (default 1s):
// also how long stopping the reader may take.
func WithBlock(d time.Duration) StreamOption { return func(o *streamOptions) { o.block = d } }

// WithStreamLogger sets where the reader logs losing and finding the store.
func WithStreamLogger(l *slog.Logger) StreamOption { return func(o *streamOptions) { o.log = l } }

// NewStream returns the shared stream of the store, relayed to hub. The
// hub's own numbering is replaced by the stream's: Publish on it fails
// from now on. Every problem with the options is reported at once.
func NewStream(store *state.Store, hub *Hub, opts ...StreamOption) (*Stream, error) {
	o := defaultStreamOptions
	for _, opt := range opts {
		opt(&o)
	}
	var errs []error
	if store == nil || hub == nil {
		errs = append(errs, errors.New("hooks: a shared stream needs a store and a hub"))
	}
	if o.events < 0 || o.maxAge <= 0 || o.dedupe <= 0 || o.block <= 0 {
		errs = append(errs, fmt.Errorf("hooks: stream retention %d events, %v; dedupe %v; block %v must be positive",
			o.events, o.maxAge, o.dedupe, o.block))
	}
	if o.log == nil {
		o.log = defaultStreamOptions.log
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	hub.share()
	return &Stream{store: store, hub: hub, opts: o, maxlen: max(o.events, o.minStored), ready: make(chan struct{}),
		stream: store.Key("hooks", "events"), meta: store.Key("hooks", "meta")}, nil
}

// Ready is closed once Run has loaded the retained events into the hub:
// a watcher that subscribes before then may miss an event appended while
// the store was being read, so the sidecar starts Run before it serves.
func (s *Stream) Ready() <-chan struct{} { return s.ready }

// appendScript de-duplicates a delivery's events and appends the new ones,
// atomically: a uuid is marked seen exactly when its event is in the
// stream, so a delivery that fails is wholly retried by Okta, and one whose
// answer was lost finds its events already there.
//
// KEYS: the stream, the meta hash, then one seen-key per event.
// ARGV: maxlen, max age (ms), stream TTL (ms), meta TTL (ms), dedupe TTL
// (ms), received (unix ms), delivery id, span, then uuid, type, raw per
// event. Returns each event's number, 0 for a duplicate.
//
// Numbers are formatted with %.0f: they stay below 2^53, exact in Lua's
// doubles, and Redis would otherwise format them as it pleases.
var appendScript = redis.NewScript(`
local t = redis.call('TIME')
local zero = redis.call('HGET', KEYS[2], 'zero')
if not zero then
  zero = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[2], 'zero', zero, 'seq', zero)
end
local out = {}
for i = 1, #KEYS - 2 do
  local a = 8 + 3 * (i - 1)
  if redis.call('SET', KEYS[i + 2], '1', 'NX', 'PX', ARGV[5]) then
    local n = redis.call('HINCRBY', KEYS[2], 'seq', 1)
    redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'n', string.format('%.0f', n), 'z', zero,
      't', ARGV[6], 'u', ARGV[a + 1], 'y', ARGV[a + 2], 'd', ARGV[7], 's', ARGV[8], 'r', ARGV[a + 3])
    out[i] = n
  else
    out[i] = 0
  end
end
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cutoff = now - tonumber(ARGV[2])
if cutoff > 0 then
  redis.call('XTRIM', KEYS[1], 'MINID', string.format('%.0f', cutoff) .. '-0')
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return out
`)

// append de-duplicates events fleet-wide and appends the new ones to the
// stream, in one round trip. It returns the new events, numbered, and the
// uuids of the others. An error wraps state.ErrUnavailable: the events are
// neither stored nor marked, and the delivery must be answered so that
// Okta retries it.
func (s *Stream) append(ctx context.Context, delivery string, events []*Event, now time.Time, span trace.SpanContext) (fresh []*Event, dups []string, err error) {
	if !s.store.Available() {
		return nil, nil, fmt.Errorf("hooks: append events: %w", state.ErrUnavailable)
	}
	keys := make([]string, 2, 2+len(events))
	keys[0], keys[1] = s.stream, s.meta
	args := make([]any, 0, 8+3*len(events))
	args = append(args, s.maxlen, s.opts.maxAge.Milliseconds(), (s.opts.maxAge + time.Minute).Milliseconds(),
		s.opts.metaTTL.Milliseconds(), s.opts.dedupe.Milliseconds(), now.UnixMilli(), delivery, formatSpan(span))
	for _, ev := range events {
		keys = append(keys, s.store.Key("hooks", "seen", ev.UUID))
		args = append(args, ev.UUID, ev.Type, []byte(ev.Raw))
	}
	nums, err := appendScript.Run(ctx, s.store.Client(), keys, args...).Int64Slice()
	s.store.Observe(err)
	if err != nil {
		return nil, nil, fmt.Errorf("hooks: append events: %w: %w", state.ErrUnavailable, err)
	}
	if len(nums) != len(events) {
		return nil, nil, fmt.Errorf("hooks: append events: %w: %d answers for %d events", state.ErrUnavailable, len(nums), len(events))
	}
	fresh = make([]*Event, 0, len(events))
	for i, ev := range events {
		if nums[i] <= 0 {
			dups = append(dups, ev.UUID)
			continue
		}
		ev.Seq = uint64(nums[i])
		fresh = append(fresh, ev)
	}
	return fresh, dups, nil
}

// formatSpan keeps the delivery's span with each event, so that a send on
// any replica links to the request that brought it.
func formatSpan(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}

func parseSpan(s string) trace.SpanContext {
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return trace.SpanContext{}
	}
	tid, err1 := trace.TraceIDFromHex(parts[0])
	sid, err2 := trace.SpanIDFromHex(parts[1])
	flags, err3 := strconv.ParseUint(parts[2], 16, 8)
	if err1 != nil || err2 != nil || err3 != nil {
		return trace.SpanContext{}
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid,
		TraceFlags: trace.TraceFlags(flags), Remote: true})
}
