package oktasim

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// contentType is what Okta sends on JSON responses.
const contentType = "application/json;charset=UTF-8"

// maxRequests bounds the request record.
const maxRequests = 10000

// Request is one request the simulator answered, for tests that check what a
// client sent (or that it sent nothing). Status is 0 when no response was
// written (an aborted or abandoned request).
type Request struct {
	Method    string
	Path      string
	RawQuery  string
	RequestID string
	Status    int
	// AuthScheme is the Authorization scheme presented, canonical case:
	// AuthSSWS, AuthBearer or AuthDPoP; "" when there was none or an unknown
	// one, and for token requests, which authenticate with a client
	// assertion instead.
	AuthScheme string
	// ClientID is the service app behind the access token used, or the app
	// a token request authenticated as (a service app, or a PeopleClient at
	// the people's token endpoint); "" otherwise.
	ClientID string
	// Scopes are the scopes of the access token used, once it was found
	// valid; nil for SSWS, which has none.
	Scopes    []string
	UserAgent string
}

// Requests returns the requests answered so far, oldest first.
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	for i := range out {
		out[i].Scopes = slices.Clone(out[i].Scopes)
	}
	return out
}

// handlerFunc serves one route. It runs with s.mu held and returns the
// status and the body to encode (nil for 204), or an error to render.
type handlerFunc func(s *Sim, c *call) (int, any, error)

// call is what a handler knows about its request.
type call struct {
	r        *http.Request
	header   http.Header // response headers, e.g. Link
	base     string      // scheme://host of the request, for absolute links
	params   []string    // path parameters in order
	query    url.Values
	body     []byte
	reqID    string
	now      time.Time
	remoteIP string
	secret   []byte // seals pagination cursors
	actor    target // who the System Log names for changes
}

func (c *call) param(i int) string { return c.params[i] }

// jsonBody decodes the request body as a JSON object. Okta answers anything
// else, including an empty body, with E0000003.
func (c *call) jsonBody() (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(string(c.body)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errMalformed()
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errMalformed()
	}
	return m, nil
}

// boolQuery reads a boolean query parameter, def when absent.
func (c *call) boolQuery(name string, def bool) (bool, error) {
	v := c.query.Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errValidation(name, name+": The value must be true or false.")
	}
	return b, nil
}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	segs, pathOK := splitPath(r.URL.EscapedPath())
	now := s.now()
	h := w.Header()
	// Okta stamps every response; from the sim clock, a test with a frozen
	// clock sees the same Date the rate-limit reset is computed from.
	h.Set("Date", now.Format(http.TimeFormat))

	s.mu.Lock()
	reqID := s.nextRequestID()
	admitted := s.admit()
	var (
		rate   rateState
		fault  Fault
		faulty bool
	)
	if admitted {
		rate = s.take(bucketFor(segs), now)
		fault, faulty = s.takeFault(r)
	} else {
		rate = s.concurrencyState(now)
	}
	s.mu.Unlock()
	if admitted {
		// Released when the response is written, panics included: the
		// request is in flight until then.
		defer s.release()
	}

	h.Set("X-Okta-Request-Id", reqID)
	setRateHeaders(h, rate)

	var rep reply
	if admitted {
		rep = s.answer(w, r, segs, pathOK, reqID, rate, fault, faulty)
	} else {
		rep = s.errorReply(errRateLimited())
	}

	// Record before writing, so that a client that has its response can
	// already see its request in Requests.
	s.mu.Lock()
	if len(s.requests) >= maxRequests {
		// Dev mode runs for hours; keep the newest requests only.
		s.requests = append(s.requests[:0:0], s.requests[len(s.requests)-maxRequests/2:]...)
	}
	scheme := ""
	if !isTokenPath(segs) {
		scheme = presentedScheme(r)
	}
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, RequestID: reqID,
		Status: rep.status, AuthScheme: scheme, ClientID: rep.auth.clientID, Scopes: rep.auth.scopes,
		UserAgent: r.UserAgent()})
	s.mu.Unlock()
	// The path and method only: query strings may carry search terms about
	// people, and the token is never logged.
	s.logger.Debug("okta request", "method", r.Method, "path", r.URL.Path, "status", rep.status, "request_id", reqID)

	switch {
	case rep.abort:
		panic(http.ErrAbortHandler)
	case rep.status == 0:
		// The client went away; there is no one to answer.
	case rep.status == http.StatusNoContent || rep.payload == nil:
		w.WriteHeader(rep.status)
	default:
		ct := rep.contentType
		if ct == "" {
			ct = contentType
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(rep.payload)))
		w.WriteHeader(rep.status)
		_, _ = w.Write(rep.payload)
	}
}

// reply is a response ready to write. Status 0 means none is written.
type reply struct {
	status  int
	payload []byte
	abort   bool
	auth    authResult // who the request authenticated as, for Requests
	// contentType replaces the JSON one, for the sign-in page's HTML.
	contentType string
}

// answer works out the response. It may set headers on w but writes
// nothing.
func (s *Sim) answer(w http.ResponseWriter, r *http.Request, segs []string, pathOK bool, reqID string, rate rateState, fault Fault, faulty bool) reply {
	if !rate.allowed {
		return s.errorReply(errRateLimited())
	}
	if faulty {
		if !wait(r.Context(), fault.Delay) {
			return reply{}
		}
		if fault.Abort {
			return reply{abort: true}
		}
		if fault.Status != 0 {
			if fault.Status == http.StatusTooManyRequests {
				w.Header().Set("X-Rate-Limit-Remaining", "0")
			}
			return s.errorReply(fault.apiError())
		}
	}
	if isTokenPath(segs) {
		return s.serveToken(w, r, reqID)
	}
	if pathOK && isPeopleASPath(segs) {
		return s.servePeopleAS(w, r, segs, reqID)
	}
	var (
		rt            *route
		params, allow []string
	)
	if pathOK {
		rt, params, allow = match(r.Method, segs)
	}
	scope := ""
	if rt != nil {
		scope = rt.scope
	}
	base := baseURL(r)
	who, aerr := s.authenticate(r, base, scope)
	if aerr != nil {
		return aerr.reply(s, w.Header(), who)
	}
	rep := s.dispatch(w, r, rt, params, allow, reqID, base, who)
	rep.auth = who
	if faulty && fault.AbortAfter {
		return reply{abort: true, auth: who}
	}
	return rep
}

// dispatch serves an authenticated request: Okta answers an unknown path
// only once the caller has proved who it is, and checks the token's scope
// before it looks at the objects named.
func (s *Sim) dispatch(w http.ResponseWriter, r *http.Request, rt *route, params, allow []string, reqID, base string, who authResult) reply {
	if rt == nil {
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return s.errorReply(newError(http.StatusMethodNotAllowed, CodeMethodNotSupported, "The endpoint does not support the provided HTTP method"))
		}
		return s.errorReply(newError(http.StatusNotFound, CodePathNotFound, "The requested path was not found"))
	}
	if !who.allows(rt.scope) {
		w.Header().Set("WWW-Authenticate", challenge(who.scheme, base, rt.scope, r.URL.Path,
			"insufficient_scope", "The access token provided does not contain the required scopes."))
		return s.errorReply(errForbidden())
	}

	var body []byte
	if r.Body != nil {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return s.errorReply(newError(http.StatusRequestEntityTooLarge, CodeValidation, "Api validation failed: body",
				"body: The request body must not exceed "+strconv.Itoa(MaxBodyBytes)+" bytes."))
		}
		if err != nil {
			return reply{}
		}
	}

	c := &call{
		r:        r,
		header:   http.Header{},
		base:     base,
		params:   params,
		query:    r.URL.Query(),
		body:     body,
		reqID:    reqID,
		remoteIP: remoteIP(r),
		secret:   s.secret,
		actor:    who.actor,
	}
	status, payload, err := s.run(rt, c)
	if err != nil {
		return s.errorReply(newError(http.StatusInternalServerError, CodeInternal, "Internal Server Error"))
	}
	for k, vs := range c.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	return reply{status: status, payload: payload}
}

// run calls the handler and encodes its answer with s.mu held; the deferred
// unlock keeps the simulator usable if a handler panics. The one handler
// that waits on the network (an event hook's verification) lets go of the
// lock meanwhile, through withoutLock.
func (s *Sim) run(rt *route, c *call) (int, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.now = s.now()
	status, out, err := rt.h(s, c)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = newError(http.StatusInternalServerError, CodeInternal, "Internal Server Error")
		}
		payload, err := encodeJSON(s.errorBody(ae))
		return ae.status, payload, err
	}
	if out == nil {
		return status, nil, nil
	}
	payload, err := encodeJSON(out)
	return status, payload, err
}

func (s *Sim) errorReply(e *apiError) reply {
	s.mu.Lock()
	body := s.errorBody(e)
	s.mu.Unlock()
	b, _ := encodeJSON(body)
	return reply{status: e.status, payload: b}
}

func setRateHeaders(h http.Header, st rateState) {
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(st.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(st.remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(st.reset.Unix(), 10))
}

// baseURL is the origin the client used, so that links in bodies and Link
// headers point back at the simulator wherever it listens.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// splitPath splits an escaped URL path into unescaped segments. Splitting
// before unescaping keeps an escaped "/" inside one segment.
func splitPath(escaped string) ([]string, bool) {
	escaped = strings.TrimSuffix(strings.TrimPrefix(escaped, "/"), "/")
	if escaped == "" {
		return nil, true
	}
	raw := strings.Split(escaped, "/")
	out := make([]string, len(raw))
	for i, seg := range raw {
		u, err := url.PathUnescape(seg)
		if err != nil || u == "" {
			return nil, false
		}
		out[i] = u
	}
	return out, true
}

// match finds the route for method and path. When the path exists but not
// for this method, it returns the methods that do exist.
func match(method string, segs []string) (*route, []string, []string) {
	var allow []string
	for i := range routes {
		rt := &routes[i]
		params, ok := rt.match(segs)
		if !ok {
			continue
		}
		if rt.method == method {
			return rt, params, nil
		}
		allow = append(allow, rt.method)
	}
	sort.Strings(allow)
	return nil, nil, allow
}
