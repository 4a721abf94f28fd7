package oktasim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

// Event hook statuses and the header of the verification handshake, as Okta
// names them.
const (
	HookActive   = "ACTIVE"
	HookInactive = "INACTIVE"

	// VerificationHeader carries the challenge a hook's endpoint must echo.
	VerificationHeader = "X-Okta-Verification-Challenge"
)

const (
	prefixEventHook = "who"
	maxHookBody     = 64 << 10 // what is read of a receiver's answer
)

// Errors callers can test for with errors.Is.
var (
	// ErrHookVerification is returned when a hook's endpoint fails Okta's
	// one-time verification: unreachable, too slow, not 200, or a wrong echo.
	ErrHookVerification = errors.New("oktasim: event hook verification failed")
	// ErrClosed is returned by RegisterEventHook after Close.
	ErrClosed = errors.New("oktasim: simulator closed")
)

// EventHook is an event hook to register with RegisterEventHook.
type EventHook struct {
	// Name is shown in the management API; "" names the hook after its URL.
	Name string
	// URL receives the verification GET and the delivery POSTs. Okta
	// demands HTTPS; the simulator also takes plain http to a literal
	// loopback IP, where a test or dev-mode receiver listens.
	URL string
	// Headers are sent with every verification and delivery, e.g. the
	// Authorization header the receiver checks. An Authorization header is
	// shown as Okta's authScheme, without its value.
	Headers map[string]string
	// EventTypes are the System Log event types to deliver
	// ("user.lifecycle.create", ...); at least one.
	EventTypes []string
}

// EventHookStats counts what happened to the events for one hook.
type EventHookStats struct {
	Queued     int // events queued for delivery
	Delivered  int // deliveries the receiver answered 2xx (a duplicate counts again)
	Failed     int // deliveries that failed, after the retry where there was one
	Retries    int // second attempts after a failure or a timeout
	Duplicates int // deliveries sent twice on purpose (WithEventHookDuplicates)
	Dropped    int // events not delivered: the queue was full, or Close came first
}

type hookHeader struct{ key, value string }

// eventHook is a registered hook. Its configuration is fixed once created;
// status, verification and stats are guarded by s.mu.
type eventHook struct {
	id, name, description string
	status                string
	verified              bool
	created, lastUpdated  time.Time
	createdBy             string
	events                []string
	uri                   string
	headers               []hookHeader // custom headers, in the order given
	auth                  *hookHeader  // Okta's authScheme HEADER; its value is never rendered
	stats                 EventHookStats
	sent                  int         // deliveries taken from the queue, for the duplicate cadence
	w                     *hookWorker // nil when the hook was created after Close
}

func (h *eventHook) subscribes(eventType string) bool { return slices.Contains(h.events, eventType) }

// sendHeaders is every header the hook is configured to send.
func (h *eventHook) sendHeaders() []hookHeader {
	out := slices.Clone(h.headers)
	if h.auth != nil {
		out = append(out, *h.auth)
	}
	return out
}

// RegisterEventHook registers a hook the way an admin does at Okta: it
// performs the verification handshake at once (a GET with
// X-Okta-Verification-Challenge and the configured headers, answered 200
// with {"verification": <the challenge>}) and, only if that succeeds, adds
// the hook ACTIVE and VERIFIED and returns its id. From then on, each System
// Log event of a subscribed type is POSTed to the URL in Okta's envelope,
// asynchronously. A failed handshake registers nothing and returns an error
// wrapping ErrHookVerification that says why.
func (s *Sim) RegisterEventHook(ctx context.Context, hook EventHook) (string, error) {
	events, err := checkEventTypes(hook.EventTypes)
	if err != nil {
		return "", err
	}
	if err := checkHookURI(hook.URL); err != nil {
		return "", err
	}
	h := &eventHook{name: hook.Name, uri: hook.URL, events: events, status: HookActive}
	if h.name == "" {
		h.name = redactURL(hook.URL)
	}
	keys := make([]string, 0, len(hook.Headers))
	for k := range hook.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		hh := hookHeader{key: k, value: hook.Headers[k]}
		if strings.EqualFold(k, "Authorization") {
			h.auth = &hh
			continue
		}
		h.headers = append(h.headers, hh)
	}
	if err := s.verifyEndpoint(ctx, h.uri, h.sendHeaders()); err != nil {
		return "", err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hooksClosed {
		return "", ErrClosed
	}
	now := s.now()
	h.verified = true
	h.createdBy = SeedUserAdmin
	s.addHook(h, s.orgBase(""), now)
	return h.id, nil
}

// EventHookStats returns the delivery counts of a hook, false when there is
// no such hook.
func (s *Sim) EventHookStats(id string) (EventHookStats, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hookByID(id)
	if h == nil {
		return EventHookStats{}, false
	}
	return h.stats, true
}

// addHook gives h an id and its delivery worker. Callers hold s.mu.
func (s *Sim) addHook(h *eventHook, base string, now time.Time) {
	h.id = s.newID(prefixEventHook)
	h.created, h.lastUpdated = now, now
	if !s.hooksClosed {
		h.w = s.startWorker(h, base+"/api/v1/eventHooks/"+h.id)
	}
	s.hooks = append(s.hooks, h)
}

func (s *Sim) hookByID(id string) *eventHook {
	for _, h := range s.hooks {
		if h.id == id {
			return h
		}
	}
	return nil
}

// orgBase is the org URL a hook names as its deliveries' source: the
// request's origin when it came through the API, else where Serve listens,
// else a name that cannot resolve. Callers hold s.mu.
func (s *Sim) orgBase(requestBase string) string {
	switch {
	case requestBase != "":
		return requestBase
	case s.orgURL != "":
		return s.orgURL
	default:
		return "https://oktasim.invalid"
	}
}

// verifyEndpoint performs Okta's one-time verification of a hook endpoint.
// It must not be called with s.mu held: it waits on the network.
func (s *Sim) verifyEndpoint(ctx context.Context, uri string, headers []hookHeader) error {
	challenge := randomChallenge()
	ctx, cancel := context.WithTimeout(ctx, s.hookCfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHookVerification, err)
	}
	for _, hh := range headers {
		req.Header.Set(hh.key, hh.value)
	}
	req.Header.Set(VerificationHeader, challenge)
	resp, err := s.hookClient().Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w: no answer from %s within %s", ErrHookVerification, redactURL(uri), s.hookCfg.timeout)
		}
		return fmt.Errorf("%w: %s unreachable: %v", ErrHookVerification, redactURL(uri), errors.Unwrap(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxHookBody))
	if err != nil {
		return fmt.Errorf("%w: read the answer of %s: %v", ErrHookVerification, redactURL(uri), err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s answered %d, want 200", ErrHookVerification, redactURL(uri), resp.StatusCode)
	}
	var got struct {
		Verification *string `json:"verification"`
	}
	if err := json.Unmarshal(raw, &got); err != nil || got.Verification == nil {
		return fmt.Errorf("%w: %s did not answer a JSON object with verification", ErrHookVerification, redactURL(uri))
	}
	if *got.Verification != challenge {
		return fmt.Errorf("%w: %s echoed a different challenge", ErrHookVerification, redactURL(uri))
	}
	return nil
}

func (s *Sim) hookClient() *http.Client {
	if s.hookCfg.client != nil {
		return s.hookCfg.client
	}
	return defaultHookClient
}

// defaultHookClient does not follow redirects: Okta wants its answer from
// the URL it was given.
var defaultHookClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func randomChallenge() string {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomUUID is a delivery's eventId. It comes from crypto/rand rather than
// the seeded id source, so deliveries leave the org's ids as they were.
func randomUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// redactURL drops userinfo and the query, which may carry a secret.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the endpoint"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// checkHookURI accepts an absolute https URL, or http to a literal loopback
// IP: deliveries carry the hook's Authorization header.
func checkHookURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("oktasim: event hook URL %q is not an absolute http(s) URL", raw)
	}
	if u.Scheme == "http" && !loopback.Host(u.Hostname()) {
		return fmt.Errorf("oktasim: event hook URL %q must use HTTPS (plain http only to a literal loopback IP)", raw)
	}
	return nil
}

// checkEventTypes validates and de-duplicates a hook's event types.
func checkEventTypes(types []string) ([]string, error) {
	if len(types) == 0 {
		return nil, errors.New("oktasim: an event hook needs at least one event type")
	}
	var out []string
	for _, t := range types {
		if !validEventType(t) {
			return nil, fmt.Errorf("oktasim: %q is not an event type", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// validEventType is the shape of Okta's event types: dotted lower-case
// words. Okta also checks each against its list of hook-eligible types;
// the simulator takes any.
func validEventType(t string) bool {
	parts := strings.Split(t, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return false
		}
	}
	return true
}
