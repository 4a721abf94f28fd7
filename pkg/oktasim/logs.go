package oktasim

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// logEvent is one System Log entry, rendered once when it is recorded: the
// log is append-only, as Okta's is.
type logEvent struct {
	seq       uint64 // order of recording: the System Log cursor
	uuid      string
	published time.Time
	eventType string
	actorID   string
	actorType string
	agent     string
	targetIDs []string
	message   string
	rendered  obj
	text      string // lower-cased JSON, for the q keyword search
}

// Event is a System Log event as tests see it.
type Event struct {
	UUID           string
	Published      time.Time
	EventType      string
	ActorID        string
	ActorType      string // "User" for an SSWS token's admin, "PublicClientApp" for a service app
	TargetIDs      []string
	DisplayMessage string
	UserAgent      string // client.userAgent.rawUserAgent: the request's User-Agent
}

// Events returns the System Log, oldest first.
func (s *Sim) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, e := range s.events {
		out[i] = Event{UUID: e.uuid, Published: e.published, EventType: e.eventType, ActorID: e.actorID,
			ActorType: e.actorType, TargetIDs: append([]string(nil), e.targetIDs...), DisplayMessage: e.message,
			UserAgent: e.agent}
	}
	return out
}

// target is an object an event acts on, in Okta's LogEvent target shape.
type target struct {
	id, typ, alternateID, displayName string
	detail                            obj
}

func (t target) render() obj {
	o := obj{{"id", t.id}, {"type", t.typ}, {"alternateId", t.alternateID}, {"displayName", t.displayName}, {"detailEntry", nil}}
	if t.detail != nil {
		o[4].v = t.detail
	}
	return o
}

// eventSpec is everything needed to render an event.
type eventSpec struct {
	eventType, message string
	severity, result   string
	reason             any
	actor              target
	targets            []target
	reqID, ip, agent   string
	uri                string
	published          time.Time
	sessionID          string // authenticationContext.externalSessionId, when a session is known
}

// record appends an event for a change made by an API call. The actor is
// who authenticated the call, as in a real org: the admin who owns the SSWS
// token, or the service app an access token was issued to.
func (s *Sim) record(c *call, eventType, message string, targets ...target) {
	s.appendEvent(eventSpec{
		eventType: eventType, message: message, severity: "INFO", result: "SUCCESS",
		actor: c.actor, targets: targets,
		reqID: c.reqID, ip: c.remoteIP, agent: c.r.UserAgent(), uri: c.r.URL.RequestURI(),
		published: c.now,
	})
}

func (s *Sim) appendEvent(e eventSpec) {
	targets := make([]obj, len(e.targets))
	ids := make([]string, len(e.targets))
	for i, t := range e.targets {
		targets[i] = t.render()
		ids[i] = t.id
	}
	path, _, _ := strings.Cut(e.uri, "?")
	uuid := s.requestID.uuid()
	sessionID := e.sessionID
	if sessionID == "" {
		sessionID = "unknown"
	}
	o := obj{
		{"actor", e.actor.render()},
		{"client", obj{
			{"userAgent", obj{{"rawUserAgent", e.agent}, {"os", "Unknown"}, {"browser", "UNKNOWN"}}},
			{"zone", "null"}, {"device", "Unknown"}, {"id", nil}, {"ipAddress", e.ip},
			{"geographicalContext", nil},
		}},
		{"device", nil},
		{"authenticationContext", obj{
			{"authenticationProvider", nil}, {"credentialProvider", nil}, {"credentialType", nil},
			{"issuer", nil}, {"interface", nil}, {"authenticationStep", 0}, {"externalSessionId", sessionID},
		}},
		{"displayMessage", e.message},
		{"eventType", e.eventType},
		{"outcome", obj{{"result", e.result}, {"reason", e.reason}}},
		{"published", ts(e.published)},
		{"securityContext", obj{{"asNumber", nil}, {"asOrg", nil}, {"isp", nil}, {"domain", nil}, {"isProxy", nil}}},
		{"severity", e.severity},
		{"debugContext", obj{{"debugData", obj{{"requestId", e.reqID}, {"requestUri", path}, {"url", e.uri}}}}},
		{"legacyEventType", nil},
		{"transaction", obj{{"type", "WEB"}, {"id", e.reqID}, {"detail", obj{}}}},
		{"uuid", uuid},
		{"version", "0"},
		{"request", obj{{"ipChain", []obj{{{"ip", e.ip}, {"geographicalContext", nil}, {"version", "V4"}, {"source", nil}}}}}},
		{"target", targets},
	}
	raw, _ := encodeJSON(o)
	s.eventSeq++
	le := &logEvent{
		seq: s.eventSeq, uuid: uuid, published: e.published, eventType: e.eventType, actorID: e.actor.id,
		actorType: e.actor.typ, agent: e.agent, targetIDs: ids, message: e.message, rendered: o,
		text: strings.ToLower(string(raw)),
	}
	s.events = append(s.events, le)
	if len(s.events) > maxEvents {
		s.events = append([]*logEvent(nil), s.events[len(s.events)-maxEvents:]...)
	}
	s.notifyHooks(le)
}

func (s *Sim) listLogs(c *call) (int, any, error) {
	until, err := timeQuery(c, "until", c.now)
	if err != nil {
		return 0, nil, err
	}
	// Okta's default window is the last seven days.
	since, err := timeQuery(c, "since", until.Add(-7*24*time.Hour))
	if err != nil {
		return 0, nil, err
	}
	order := c.query.Get("sortOrder")
	if order != "" && order != "ASCENDING" && order != "DESCENDING" {
		return 0, nil, errValidation("sortOrder", "sortOrder: The value must be ASCENDING or DESCENDING.")
	}
	filter, err := parseFilter(c, "filter")
	if err != nil {
		return 0, nil, err
	}
	keywords := strings.Fields(strings.ToLower(c.query.Get("q")))
	p, err := parsePage(c, logsDefault, logsMax)
	if err != nil {
		return 0, nil, err
	}

	// The cursor is the sequence number of the last event returned, so a
	// walk resumes right after it however many events were recorded since,
	// and a page scans from there rather than from the oldest event.
	var after uint64
	if p.after != "" {
		if after, err = strconv.ParseUint(p.after, 10, 64); err != nil {
			return 0, nil, errValidation("after", "after: The cursor is not valid.")
		}
	}
	i, step := 0, 1
	if p.after != "" {
		i = sort.Search(len(s.events), func(k int) bool { return s.events[k].seq > after })
	}
	if order == "DESCENDING" {
		i, step = len(s.events)-1, -1
		if p.after != "" {
			i = sort.Search(len(s.events), func(k int) bool { return s.events[k].seq >= after }) - 1
		}
	}
	out := make([]obj, 0, min(p.limit, 64))
	var last *logEvent
	next := ""
	for ; i >= 0 && i < len(s.events); i += step {
		e := s.events[i]
		if e.published.Before(since) || e.published.After(until) ||
			(filter != nil && !filter.match(objectGetter(e.rendered))) || !containsAll(e.text, keywords) {
			continue
		}
		if len(out) == p.limit {
			next = strconv.FormatUint(last.seq, 10)
			break
		}
		out = append(out, e.rendered)
		last = e
	}
	c.setLinks(next)
	return http.StatusOK, out, nil
}

func containsAll(text string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

func timeQuery(c *call, name string, def time.Time) (time.Time, error) {
	v := c.query.Get(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errValidation(name, name+": The date must be in ISO 8601 format, e.g. 2024-01-01T00:00:00.000Z.")
	}
	return t, nil
}
