package hooks

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// Receiver is the http.Handler for the event hook URL registered with Okta.
// It is safe for concurrent use.
type Receiver struct {
	opts    options
	hub     *Hub
	secret  [sha256.Size]byte // hashed, so that comparing leaks no length
	dedupe  *dedupe
	closing atomic.Bool
}

var _ http.Handler = (*Receiver)(nil)

// NewReceiver returns a receiver that publishes to hub. WithAuth is
// required. Every problem with the options is reported at once.
func NewReceiver(hub *Hub, opts ...Option) (*Receiver, error) {
	o := defaultOptions
	for _, opt := range opts {
		opt(&o)
	}
	err := o.validate()
	if hub == nil {
		err = errors.Join(err, errors.New("hooks: no hub"))
	}
	if err != nil {
		return nil, err
	}
	if o.stream != nil && o.stream.hub != hub {
		return nil, errors.New("hooks: the shared stream feeds another hub")
	}
	r := &Receiver{opts: o, hub: hub, secret: sha256.Sum256(o.secret)}
	if o.stream == nil {
		r.dedupe = newDedupe(o.window, o.capacity)
	}
	clear(r.opts.secret) // only the hash is needed from now on
	r.opts.secret = nil
	return r, nil
}

// ServeHTTP answers Okta's verification GET and its deliveries.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		rc.refuse(w, req, http.StatusMethodNotAllowed, ReasonMethod, "only GET and POST")
		return
	}
	if rc.closing.Load() {
		rc.refuse(w, req, http.StatusServiceUnavailable, ReasonShuttingDown, "shutting down")
		return
	}
	if !rc.authorized(req) {
		rc.refuse(w, req, http.StatusUnauthorized, ReasonUnauthorized, "unauthorized")
		return
	}
	if req.Method == http.MethodGet {
		rc.verify(w, req)
		return
	}
	rc.deliver(w, req)
}

// authorized compares the header with the secret in constant time. Exactly
// one value is accepted: with two, which one a proxy would pass on is
// anyone's guess.
func (rc *Receiver) authorized(req *http.Request) bool {
	vals := req.Header.Values(rc.opts.header)
	if len(vals) != 1 {
		return false
	}
	got := sha256.Sum256([]byte(vals[0]))
	return subtle.ConstantTimeCompare(got[:], rc.secret[:]) == 1
}

// verify echoes Okta's one-time challenge, encoded as JSON so that the
// value can never be read as anything else.
func (rc *Receiver) verify(w http.ResponseWriter, req *http.Request) {
	vals := req.Header.Values("X-Okta-Verification-Challenge")
	if len(vals) != 1 || vals[0] == "" || len(vals[0]) > rc.opts.maxChallenge {
		rc.refuse(w, req, http.StatusBadRequest, ReasonChallenge, "expected one X-Okta-Verification-Challenge header of at most 1 KiB")
		return
	}
	body, err := json.Marshal(struct {
		Verification string `json:"verification"`
	}{vals[0]})
	if err != nil { // a string always encodes
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(body)
	rc.opts.log.InfoContext(req.Context(), "event hook verified")
}

// deliver validates a delivery, de-duplicates and publishes its events, and
// answers. Nothing here waits on a subscriber.
func (rc *Receiver) deliver(w http.ResponseWriter, req *http.Request) {
	ctx := req.Context()
	if !isJSON(req.Header.Get("Content-Type")) {
		rc.refuse(w, req, http.StatusUnsupportedMediaType, ReasonMediaType, "expected Content-Type application/json")
		return
	}
	body, status, reason := rc.read(w, req)
	if status != 0 {
		rc.refuse(w, req, status, reason, http.StatusText(status))
		return
	}
	id, events, err := parseDelivery(body, rc.opts.maxEvents)
	if err != nil {
		var pe *parseError
		errors.As(err, &pe)
		rc.refuse(w, req, http.StatusBadRequest, pe.reason, pe.msg)
		return
	}
	now := rc.opts.now()
	span := trace.SpanContextFromContext(ctx)
	for _, ev := range events {
		ev.Received, ev.Delivery, ev.Span = now, id, span
	}
	var (
		fresh []*Event
		dups  []string
	)
	if rc.opts.stream != nil {
		fresh, dups, err = rc.opts.stream.append(ctx, id, events, now, span)
	} else {
		fresh, dups = rc.dedupe.split(events, now)
		err = rc.hub.Publish(fresh...)
	}
	switch {
	case errors.Is(err, ErrClosed):
		// Shutdown closed the hub since the check above. The uuids stay
		// marked, which costs nothing: this process is going away.
		rc.refuse(w, req, http.StatusServiceUnavailable, ReasonShuttingDown, "shutting down")
		return
	case err != nil:
		// The fleet's stream could not take the events: neither stored
		// nor marked seen. A 503 makes Okta retry the delivery once
		// (perhaps to another replica); a 200 would lose the events.
		rc.opts.log.WarnContext(ctx, "event hook delivery not stored", "delivery", id, "error", err)
		rc.refuse(w, req, http.StatusServiceUnavailable, ReasonUnavailable, "events cannot be stored now; retry")
		return
	}
	rc.opts.obs.Delivered(ctx, Delivery{ID: id, Accepted: fresh, Duplicates: dups})
	w.WriteHeader(http.StatusOK)
	rc.opts.log.DebugContext(ctx, "event hook delivery accepted",
		"delivery", id, "events", len(events), "duplicates", len(dups))
}

// read reads the body up to the cap, or says why not.
func (rc *Receiver) read(w http.ResponseWriter, req *http.Request) ([]byte, int, Reason) {
	limit := rc.opts.maxBody
	if req.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge, ReasonTooLarge
	}
	var buf bytes.Buffer
	if req.ContentLength > 0 {
		buf.Grow(int(req.ContentLength) + bytes.MinRead) // read in one go
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, req.Body, limit)); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, http.StatusRequestEntityTooLarge, ReasonTooLarge
		}
		return nil, http.StatusBadRequest, ReasonRead
	}
	return buf.Bytes(), 0, ""
}

// isJSON accepts application/json with any parameters but a charset other
// than UTF-8, the only encoding JSON between systems may use (RFC 8259).
func isJSON(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return false
	}
	cs, ok := params["charset"]
	return !ok || strings.EqualFold(cs, "utf-8")
}

// refuse answers with a short reason that never quotes the request. Only an
// authenticated sender's mistakes are worth a warning: the rest is the
// noise any public endpoint gets, counted by the observer.
func (rc *Receiver) refuse(w http.ResponseWriter, req *http.Request, status int, reason Reason, msg string) {
	ctx := req.Context()
	rc.opts.obs.Rejected(ctx, reason)
	level := slog.LevelWarn
	switch reason {
	case ReasonMethod, ReasonShuttingDown, ReasonUnavailable: // logged where known
		level = slog.LevelDebug
	case ReasonUnauthorized:
		level = slog.LevelInfo
	}
	rc.opts.log.Log(ctx, level, "event hook request refused",
		"reason", string(reason), "status", status, "method", req.Method, "remote", req.RemoteAddr)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	http.Error(w, fmt.Sprintf("%s: %s", reason, msg), status)
}

// Shutdown makes the receiver answer 503 to every new request and closes
// the hub: subscribers get what they have buffered and then ErrClosed. A
// delivery already past its checks either publishes before the hub closes
// or is answered 503, and Okta retries it once (perhaps reaching another
// replica). Calling it again has no effect.
func (rc *Receiver) Shutdown() {
	rc.closing.Store(true)
	rc.hub.Close()
}
