package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Event is one System Log event as Okta delivered it. Once published it is
// shared by every subscriber and must not be modified.
type Event struct {
	// Seq is the hub's sequence number for the event, and the cursor a
	// subscriber resumes after. Publish sets it.
	Seq uint64
	// UUID and Type are the event's uuid and eventType, copied out of Raw.
	UUID string
	Type string
	// Received is when the receiver accepted the delivery.
	Received time.Time
	// Delivery is Okta's eventId of the delivery that carried the event
	// first (a retry has its own); empty when Okta sent none.
	Delivery string
	// Span is the span of the delivery's request, when the receiver is
	// wrapped with tracing, so that stream sends can link to it.
	Span trace.SpanContext
	// Raw is the event object exactly as Okta sent it.
	Raw json.RawMessage

	decodeOnce sync.Once
	decoded    map[string]any
	decodeErr  error
}

// Object returns Raw decoded (objects as map[string]any, numbers as
// float64), decoded once however many subscribers ask: every watching agent
// has its copy of the event judged by policy. The map is shared and must not
// be modified.
func (e *Event) Object() (map[string]any, error) {
	e.decodeOnce.Do(func() {
		if err := json.Unmarshal(e.Raw, &e.decoded); err != nil {
			e.decodeErr = fmt.Errorf("decode event %s: %w", e.UUID, err)
		}
	})
	return e.decoded, e.decodeErr
}

// Message is what a subscription yields: an event, or a gap before the
// next one. Exactly one of Event and Gap is set.
type Message struct {
	Event *Event
	Gap   *Gap
}

// Gap tells a subscriber that events were lost before the next message.
type Gap struct {
	// Missed is how many events were lost: those dropped because the
	// subscriber's buffer was full (events its filter matched), or, on
	// resume, those no longer in the replay ring (whatever their type).
	Missed int
	// Unknown is true when the resume cursor did not come from this hub
	// (the process restarted, or the cursor was made up): an unknown
	// number of events may have been lost before this hub started, and
	// Missed counts only the hub's own events it no longer holds.
	Unknown bool
}

func (g Gap) any() bool { return g.Missed > 0 || g.Unknown }

// Reason says why the receiver refused a request. Reasons are stable: they
// label metrics.
type Reason string

// Reasons for a refusal.
const (
	ReasonMethod        Reason = "method"            // 405: neither GET nor POST
	ReasonUnauthorized  Reason = "unauthorized"      // 401: missing or wrong secret
	ReasonChallenge     Reason = "challenge"         // 400: GET without a usable challenge
	ReasonMediaType     Reason = "media_type"        // 415: not application/json
	ReasonTooLarge      Reason = "too_large"         // 413: body over the cap
	ReasonRead          Reason = "read"              // 400: the body could not be read
	ReasonBadJSON       Reason = "bad_json"          // 400: not a JSON object
	ReasonBadEnvelope   Reason = "bad_envelope"      // 400: not an event hook envelope
	ReasonTooManyEvents Reason = "too_many_events"   // 400: over the events-per-delivery cap
	ReasonBadEvent      Reason = "bad_event"         // 400: an event without a usable uuid or eventType
	ReasonShuttingDown  Reason = "shutting_down"     // 503: after Shutdown
	ReasonUnavailable   Reason = "state_unavailable" // 503: the shared stream could not take the events
)

// hookEventType is the eventType of every event hook envelope.
const hookEventType = "com.okta.event_hook"

// Okta's uuids are 36 characters and its event types well under 100: the
// bounds only keep a hostile value out of memory, logs and labels.
const (
	maxUUIDLen = 128
	maxTypeLen = 256
)

// parseError is a delivery the receiver refuses, with a short message that
// never quotes the body.
type parseError struct {
	reason Reason
	msg    string
}

func (e *parseError) Error() string { return e.msg }

func badRequest(r Reason, format string, args ...any) error {
	return &parseError{reason: r, msg: fmt.Sprintf(format, args...)}
}

// parseDelivery checks Okta's envelope and returns the delivery's eventId
// and its events, with UUID, Type and Raw set. The envelope is decoded in
// one pass; each event is then read as a map, so that its keys match
// exactly: encoding/json would accept "UUID" or "EventType" for a struct
// field, and the type the policy sees could differ from the one an agent
// reads in Raw. (The envelope's own keys do not reach agents.)
func parseDelivery(body []byte, maxEvents int) (string, []*Event, error) {
	var env struct {
		EventType json.RawMessage `json:"eventType"`
		EventID   json.RawMessage `json:"eventId"`
		Data      struct {
			Events []json.RawMessage `json:"events"`
		} `json:"data"`
	}
	if first := bytes.TrimLeft(body, " \t\r\n"); len(first) == 0 || first[0] != '{' {
		return "", nil, badRequest(ReasonBadJSON, "body is not a JSON object")
	}
	if err := json.Unmarshal(body, &env); err != nil {
		if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return "", nil, badRequest(ReasonBadEnvelope, "data is not an object with an events array")
		}
		return "", nil, badRequest(ReasonBadJSON, "body is not a JSON object")
	}
	if t, ok := str(env.EventType); !ok || t != hookEventType {
		return "", nil, badRequest(ReasonBadEnvelope, "eventType is not %s", hookEventType)
	}
	id, ok := str(env.EventID)
	if !ok || !token(id, maxUUIDLen) {
		id = "" // informational only: not worth refusing events for
	}
	raws := env.Data.Events
	if raws == nil {
		return "", nil, badRequest(ReasonBadEnvelope, "data.events is not an array")
	}
	if len(raws) > maxEvents {
		return "", nil, badRequest(ReasonTooManyEvents, "%d events, at most %d per delivery", len(raws), maxEvents)
	}
	events := make([]*Event, len(raws))
	for i, raw := range raws {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
			return "", nil, badRequest(ReasonBadEvent, "event %d is not an object", i)
		}
		uuid, ok := str(fields["uuid"])
		if !ok || !token(uuid, maxUUIDLen) {
			return "", nil, badRequest(ReasonBadEvent, "event %d has no valid uuid", i)
		}
		typ, ok := str(fields["eventType"])
		if !ok || !token(typ, maxTypeLen) {
			return "", nil, badRequest(ReasonBadEvent, "event %d has no valid eventType", i)
		}
		events[i] = &Event{UUID: uuid, Type: typ, Raw: raw}
	}
	return id, events, nil
}

// str decodes raw when it is a JSON string.
func str(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// token reports whether s is 1 to max printable ASCII characters without
// spaces: uuids and event types become map keys, log fields and metric
// labels, where nothing else belongs.
func token(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
