package hooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Observer is told what the receiver does, for metrics, audit and spans.
// Its methods run on the request, before the answer, and must be quick and
// safe for concurrent use.
type Observer interface {
	// Delivered is called for every delivery accepted, duplicates included.
	Delivered(ctx context.Context, d Delivery)
	// Rejected is called for every request refused.
	Rejected(ctx context.Context, reason Reason)
}

// Delivery is one accepted POST from Okta.
type Delivery struct {
	// ID is Okta's eventId of the delivery, or empty.
	ID string
	// Accepted are the events published, with their sequence numbers; they
	// are shared with subscribers and must not be modified.
	Accepted []*Event
	// Duplicates are the uuids of the events already seen, not published.
	Duplicates []string
}

type nopObserver struct{}

func (nopObserver) Delivered(context.Context, Delivery) {}
func (nopObserver) Rejected(context.Context, Reason)    {}

type options struct {
	header       string
	secret       []byte
	maxBody      int64
	maxEvents    int
	maxChallenge int
	window       time.Duration
	capacity     int
	now          func() time.Time
	log          *slog.Logger
	obs          Observer
	stream       *Stream
}

var defaultOptions = options{
	// Okta's deliveries are a few KiB; a MiB leaves room for a large batch
	// and keeps a hostile body from costing more.
	maxBody:      1 << 20,
	maxEvents:    1000,
	maxChallenge: 1 << 10,
	// Okta retries once, within seconds: an hour catches the retry with a
	// wide margin, and 100,000 uuids (about 10 MiB) bound the memory it
	// costs when deliveries are many.
	window:   time.Hour,
	capacity: 100_000,
	now:      time.Now,
	log:      slog.New(slog.DiscardHandler),
	obs:      nopObserver{},
}

// Option configures a Receiver.
type Option func(*options)

// WithAuth sets the header Okta is configured to send (for example
// "Authorization") and its secret value. Both are required: a receiver
// without a secret refuses to start. The secret is copied.
func WithAuth(header string, secret []byte) Option {
	return func(o *options) {
		o.header = header
		o.secret = append([]byte(nil), secret...)
	}
}

// WithMaxBodyBytes caps a delivery's body (default 1 MiB); a larger one is
// refused with 413.
func WithMaxBodyBytes(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithMaxEvents caps the events in one delivery (default 1,000).
func WithMaxEvents(n int) Option { return func(o *options) { o.maxEvents = n } }

// WithDedupe sets how long an event's uuid is remembered (default an hour)
// and how many uuids at most (default 100,000); the oldest is forgotten
// first when either bound is reached.
func WithDedupe(window time.Duration, capacity int) Option {
	return func(o *options) { o.window, o.capacity = window, capacity }
}

// WithClock replaces the clock that stamps events and ages uuids, for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets where refusals are logged. Nothing about the secret and
// no payload is ever logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithStream de-duplicates and publishes through the fleet's shared stream
// instead of in this process (WithDedupe then has no effect): the hub gets
// the events from the stream's reader, like every other replica's.
func WithStream(s *Stream) Option { return func(o *options) { o.stream = s } }

// WithObserver sets the Observer told of every delivery and refusal.
func WithObserver(obs Observer) Option { return func(o *options) { o.obs = obs } }

// validate reports every problem at once.
func (o *options) validate() error {
	var errs []error
	switch {
	case o.header == "":
		errs = append(errs, errors.New("hooks: no auth header name: set WithAuth"))
	case !validHeaderName(o.header):
		errs = append(errs, fmt.Errorf("hooks: auth header name %q is not a valid HTTP header name", o.header))
	default:
		o.header = http.CanonicalHeaderKey(o.header)
	}
	switch {
	case len(o.secret) == 0:
		errs = append(errs, errors.New("hooks: empty auth secret: every request would be refused, or none"))
	case !validHeaderValue(o.secret):
		// Go's server trims surrounding blanks and refuses control bytes,
		// so such a secret could never match; most often it is the newline
		// at the end of a Secret file.
		errs = append(errs, errors.New("hooks: auth secret has a control byte or surrounding blanks (a trailing newline from a file?)"))
	}
	if o.maxBody <= 0 {
		errs = append(errs, fmt.Errorf("hooks: max body bytes %d is not positive", o.maxBody))
	}
	if o.maxEvents <= 0 {
		errs = append(errs, fmt.Errorf("hooks: max events %d is not positive", o.maxEvents))
	}
	if o.window <= 0 || o.capacity <= 0 {
		errs = append(errs, fmt.Errorf("hooks: dedupe window %v and capacity %d must be positive", o.window, o.capacity))
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.log == nil {
		o.log = defaultOptions.log
	}
	if o.obs == nil {
		o.obs = nopObserver{}
	}
	return errors.Join(errs...)
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c > '~' || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

func validHeaderValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	blank := func(c byte) bool { return c == ' ' || c == '\t' }
	return len(b) > 0 && !blank(b[0]) && !blank(b[len(b)-1])
}

type hubOptions struct {
	replay      int
	replayBytes int
	maxAge      time.Duration
	maxSubs     int
	buffer      int
	now         func() time.Time
	gaps        func(missed int)
}

// maxBuffer bounds a subscriber's buffer whatever is asked: a caller may
// pass an agent's wish straight through.
const maxBuffer = 1 << 16

var defaultHubOptions = hubOptions{
	// Enough for an agent to reconnect after a blip; the age bound keeps
	// a cursor from resurrecting events long after they happened.
	replay:      1024,
	replayBytes: 16 << 20,
	maxAge:      5 * time.Minute,
	maxSubs:     1000,
	buffer:      256,
	now:         time.Now,
}

// HubOption configures a Hub.
type HubOption func(*hubOptions)

// WithReplay sets the replay ring: at most events events (default 1,024)
// and bytes of their Raw JSON (default 16 MiB), none older than maxAge
// (default 5 minutes). events 0 turns replay off.
func WithReplay(events, bytes int, maxAge time.Duration) HubOption {
	return func(o *hubOptions) { o.replay, o.replayBytes, o.maxAge = events, bytes, maxAge }
}

// WithMaxSubscribers bounds the subscriptions open at once (default 1,000).
func WithMaxSubscribers(n int) HubOption { return func(o *hubOptions) { o.maxSubs = n } }

// WithDefaultBuffer sets the buffer of a subscription that does not choose
// one (default 256 events).
func WithDefaultBuffer(n int) HubOption { return func(o *hubOptions) { o.buffer = n } }

// WithHubClock replaces the clock that ages the replay ring and starts the
// sequence, for tests.
func WithHubClock(now func() time.Time) HubOption { return func(o *hubOptions) { o.now = now } }

// WithGapObserver is told how many events subscribers lost to full buffers
// in each Publish that lost some, for metrics. It runs on the publisher
// after the hub's locks are released and must be quick.
func WithGapObserver(f func(missed int)) HubOption { return func(o *hubOptions) { o.gaps = f } }

func (o *hubOptions) validate() error {
	var errs []error
	if o.replay < 0 || o.replayBytes < 0 || o.maxAge < 0 {
		errs = append(errs, fmt.Errorf("hooks: replay of %d events, %d bytes, %v is negative", o.replay, o.replayBytes, o.maxAge))
	}
	if o.maxSubs <= 0 {
		errs = append(errs, fmt.Errorf("hooks: max subscribers %d is not positive", o.maxSubs))
	}
	if o.buffer <= 0 || o.buffer > maxBuffer {
		errs = append(errs, fmt.Errorf("hooks: default buffer %d is not within 1..%d", o.buffer, maxBuffer))
	}
	if o.now == nil {
		o.now = time.Now
	}
	return errors.Join(errs...)
}

type subOptions struct {
	types  map[string]bool
	filter func(*Event) bool
	cursor uint64
	buffer int
}

// SubscribeOption configures a Subscription.
type SubscribeOption func(*subOptions)

// WithTypes keeps only events of these types. Without it, or with no
// types, every event matches. Repeated, it widens the set.
func WithTypes(types ...string) SubscribeOption {
	return func(o *subOptions) {
		if len(types) == 0 {
			return
		}
		if o.types == nil {
			o.types = make(map[string]bool, len(types))
		}
		for _, t := range types {
			o.types[t] = true
		}
	}
}

// WithFilter keeps only events for which f returns true, after WithTypes.
// f runs on the publisher with the hub locked, so it must be quick and must
// not call the hub; per-event policy checks belong after Next instead.
func WithFilter(f func(*Event) bool) SubscribeOption {
	return func(o *subOptions) { o.filter = f }
}

// WithCursor resumes after the event with sequence number seq: the events
// after it still in the replay ring come first. 0 (the default) starts
// with the next event published.
func WithCursor(seq uint64) SubscribeOption { return func(o *subOptions) { o.cursor = seq } }

// WithBuffer sets how many events may wait for the subscriber before it
// loses some (1 to 65,536; default the hub's).
func WithBuffer(n int) SubscribeOption { return func(o *subOptions) { o.buffer = n } }
