package oktasim

import (
	"net/http"
	"strings"
)

// Okta's Event Hooks management API. A hook created here starts ACTIVE but
// UNVERIFIED, and nothing is delivered to it until lifecycle/verify has
// succeeded, as at Okta.

func (s *Sim) renderHook(h *eventHook, base string) obj {
	headers := make([]obj, len(h.headers))
	for i, hh := range h.headers {
		headers[i] = obj{{"key", hh.key}, {"value", hh.value}}
	}
	var auth any
	if h.auth != nil {
		// The secret is write-only, as at Okta.
		auth = obj{{"type", "HEADER"}, {"key", h.auth.key}}
	}
	verification := "UNVERIFIED"
	if h.verified {
		verification = "VERIFIED"
	}
	var description any
	if h.description != "" {
		description = h.description
	}
	self := base + "/api/v1/eventHooks/" + h.id
	links := obj{
		{"self", hrefHints(self, "GET", "DELETE")},
		{"verify", hrefHints(self+"/lifecycle/verify", "POST")},
	}
	if h.status == HookActive {
		links = append(links, kv{"deactivate", hrefHints(self+"/lifecycle/deactivate", "POST")})
	} else {
		links = append(links, kv{"activate", hrefHints(self+"/lifecycle/activate", "POST")})
	}
	return obj{
		{"id", h.id},
		{"status", h.status},
		{"verificationStatus", verification},
		{"name", h.name},
		{"description", description},
		{"created", ts(h.created)},
		{"createdBy", h.createdBy},
		{"lastUpdated", ts(h.lastUpdated)},
		{"events", obj{{"type", "EVENT_TYPE"}, {"items", h.events}, {"filter", nil}}},
		{"channel", obj{{"type", "HTTP"}, {"version", "1.0.0"}, {"config", obj{
			{"uri", h.uri}, {"headers", headers}, {"method", "POST"}, {"authScheme", auth},
		}}}},
		{"_links", links},
	}
}

func (s *Sim) hookOr404(id string) (*eventHook, error) {
	if h := s.hookByID(id); h != nil {
		return h, nil
	}
	return nil, errNotFound(id, "EventHook")
}

func (s *Sim) listEventHooks(c *call) (int, any, error) {
	out := make([]obj, len(s.hooks))
	for i, h := range s.hooks {
		out[i] = s.renderHook(h, c.base)
	}
	return http.StatusOK, out, nil
}

func (s *Sim) getEventHook(c *call) (int, any, error) {
	h, err := s.hookOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderHook(h, c.base), nil
}

func (s *Sim) createEventHook(c *call) (int, any, error) {
	body, err := c.jsonBody()
	if err != nil {
		return 0, nil, err
	}
	h := &eventHook{status: HookActive, createdBy: c.actor.id}
	if h.name = getString(body, "name"); h.name == "" {
		return 0, nil, errValidation("name", "name: The field cannot be left blank.")
	}
	h.description = getString(body, "description")

	events, _ := getMap(body, "events")
	if getString(events, "type") != "EVENT_TYPE" {
		return 0, nil, errValidation("events.type", "events.type: The value must be EVENT_TYPE.")
	}
	items, _ := events["items"].([]any)
	var types []string
	for _, it := range items {
		t, _ := it.(string)
		types = append(types, t)
	}
	if h.events, err = checkEventTypes(types); err != nil {
		return 0, nil, errValidation("events.items", "events.items: Provide one or more valid event types.")
	}

	channel, _ := getMap(body, "channel")
	if getString(channel, "type") != "HTTP" || getString(channel, "version") != "1.0.0" {
		return 0, nil, errValidation("channel", "channel: The type must be HTTP and the version 1.0.0.")
	}
	config, _ := getMap(channel, "config")
	h.uri = getString(config, "uri")
	if checkHookURI(h.uri) != nil {
		return 0, nil, errValidation("channel.config.uri", "channel.config.uri: The URI must be an absolute HTTPS URL.")
	}
	rawHeaders, ok := config["headers"].([]any)
	if config["headers"] != nil && !ok {
		return 0, nil, errValidation("channel.config.headers", "channel.config.headers: The value must be a list of key and value pairs.")
	}
	for _, rh := range rawHeaders {
		m, _ := rh.(map[string]any)
		hh := hookHeader{key: getString(m, "key"), value: getString(m, "value")}
		if hh.key == "" || !validHeaderName(hh.key) {
			return 0, nil, errValidation("channel.config.headers", "channel.config.headers: Each header needs a valid key.")
		}
		h.headers = append(h.headers, hh)
	}
	if as, ok := getMap(config, "authScheme"); ok {
		hh := hookHeader{key: getString(as, "key"), value: getString(as, "value")}
		if getString(as, "type") != "HEADER" || hh.key == "" || !validHeaderName(hh.key) || hh.value == "" {
			return 0, nil, errValidation("channel.config.authScheme", "channel.config.authScheme: The type must be HEADER, with a key and a value.")
		}
		h.auth = &hh
	}
	s.addHook(h, s.orgBase(c.base), c.now)
	return http.StatusOK, s.renderHook(h, c.base), nil
}

// validHeaderName is RFC 9110's token.
func validHeaderName(k string) bool {
	for _, r := range k {
		if r > 0x7e || r <= 0x20 || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// verifyEventHook performs the handshake with s.mu released: it waits on
// the receiver for up to the hook timeout, and every other request would
// wait with it.
func (s *Sim) verifyEventHook(c *call) (int, any, error) {
	h, err := s.hookOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	uri, headers := h.uri, h.sendHeaders()
	var verr error
	s.withoutLock(func() { verr = s.verifyEndpoint(c.r.Context(), uri, headers) })
	// The hook may have been deleted meanwhile.
	if h, err = s.hookOr404(c.param(0)); err != nil {
		return 0, nil, err
	}
	if verr != nil {
		return 0, nil, errValidation("verification", "verification: "+verr.Error())
	}
	h.verified = true
	h.lastUpdated = s.now()
	return http.StatusOK, s.renderHook(h, c.base), nil
}

// withoutLock runs f with s.mu released, and takes it again however f
// ends, so that run's deferred unlock stays balanced.
func (s *Sim) withoutLock(f func()) {
	s.mu.Unlock()
	defer s.mu.Lock()
	f()
}

func (s *Sim) activateEventHook(c *call) (int, any, error) {
	return s.setHookStatus(c, HookActive)
}

func (s *Sim) deactivateEventHook(c *call) (int, any, error) {
	return s.setHookStatus(c, HookInactive)
}

// setHookStatus is idempotent. A deactivated hook gets no new events;
// those already queued are still delivered.
func (s *Sim) setHookStatus(c *call, status string) (int, any, error) {
	h, err := s.hookOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if h.status != status {
		h.status = status
		h.lastUpdated = c.now
	}
	return http.StatusOK, s.renderHook(h, c.base), nil
}

// deleteEventHook removes an INACTIVE hook; Okta refuses to delete an
// active one. Deliveries already queued still go out.
func (s *Sim) deleteEventHook(c *call) (int, any, error) {
	h, err := s.hookOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if h.status != HookInactive {
		return 0, nil, errValidation("status", "status: An event hook must be deactivated before it is deleted.")
	}
	for i, x := range s.hooks {
		if x == h {
			s.hooks = append(s.hooks[:i:i], s.hooks[i+1:]...)
			break
		}
	}
	if h.w != nil {
		close(h.w.queue)
	}
	return http.StatusNoContent, nil, nil
}
