package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrUnknownAction is returned for an action name that is not in the catalog.
var ErrUnknownAction = errors.New("unknown action")

// FieldViolation names one bad parameter. Field is the parameter name as the
// agent sent it ("params.userId"), Description says what is wrong without
// echoing the value.
type FieldViolation struct {
	Field       string
	Description string
}

// ValidationError lists every problem with a request's parameters at once.
type ValidationError struct {
	Action     string
	Violations []FieldViolation
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Description
	}
	return fmt.Sprintf("invalid parameters for %s: %s", e.Action, strings.Join(parts, "; "))
}

// Call is a validated request for one action, ready to send to Okta.
type Call struct {
	Action *Action
	// Path is the request path with every path parameter escaped.
	Path string
	// Query holds the query parameters, already formatted as Okta expects.
	Query url.Values
	// Body is the JSON-encoded request body, or nil.
	Body []byte
	// Resource maps each path parameter to its (unescaped, validated) value:
	// the ids of the objects the call acts on.
	Resource map[string]string
	// Params is the validated parameters in their JSON form, for policy input
	// and for binding a confirmation to the exact request.
	Params map[string]any
	// Lookup marks a read Bollard makes for itself to decide a call
	// (pkg/target), not one an agent asked for; its User-Agent says so.
	Lookup bool
}

// Bind validates params against the named action and builds the Call.
// params is the decoded JSON object the agent sent (numbers as float64).
func Bind(name string, params map[string]any) (*Call, error) {
	a, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownAction, truncate(name, 64))
	}
	return a.Bind(params)
}

// Bind validates params against the action and builds the Call.
func (a *Action) Bind(params map[string]any) (*Call, error) {
	verr := &ValidationError{Action: a.Name}
	add := func(field, format string, args ...any) {
		verr.Violations = append(verr.Violations, FieldViolation{Field: "params." + field, Description: fmt.Sprintf(format, args...)})
	}
	if len(params) > MaxParams {
		add("", "at most %d parameters are accepted", MaxParams)
		return nil, verr
	}
	// Unknown parameters are refused, in a stable order.
	var unknown []string
	for k := range params {
		if _, ok := a.Param(k); !ok {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		add(safeField(k), "unknown parameter for %s", a.Name)
	}

	call := &Call{Action: a, Query: url.Values{}, Resource: map[string]string{}, Params: map[string]any{}}
	for _, p := range a.Params {
		v, present := params[p.Name]
		if !present || v == nil {
			if p.Required {
				add(p.Name, "required")
			}
			continue
		}
		norm, text, problem := p.check(v)
		if problem != "" {
			add(p.Name, "%s", problem)
			continue
		}
		call.Params[p.Name] = norm
		switch p.In {
		case InPath:
			call.Resource[p.Name] = text
		case InQuery:
			call.Query.Set(p.Name, text)
		case InBody:
			call.Body = []byte(text)
		}
	}
	if len(verr.Violations) > 0 {
		return nil, verr
	}
	call.Path = buildPath(a.Path, call.Resource)
	return call, nil
}

// buildPath fills the template with escaped values. Every path parameter is
// required, so each placeholder has a value once Bind has succeeded.
func buildPath(tmpl string, values map[string]string) string {
	var b strings.Builder
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		end := strings.IndexByte(tmpl[open:], '}') + open
		b.WriteString(tmpl[:open])
		b.WriteString(url.PathEscape(values[tmpl[open+1:end]]))
		tmpl = tmpl[end+1:]
	}
}

// check validates one value and returns it normalised for policy input, its
// text form for the Okta request, or a description of the problem.
func (p Param) check(v any) (norm any, text string, problem string) {
	switch p.Kind {
	case KindID, KindUserRef, KindString, KindCursor, KindTime, KindEnum:
		s, ok := v.(string)
		if !ok {
			return nil, "", "must be a string"
		}
		if problem := p.checkString(s); problem != "" {
			return nil, "", problem
		}
		return s, s, ""
	case KindInt:
		f, ok := v.(float64)
		if !ok {
			return nil, "", "must be a number"
		}
		if f != math.Trunc(f) || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, "", "must be a whole number"
		}
		if f < float64(p.Min) || f > float64(p.Max) {
			return nil, "", fmt.Sprintf("must be between %d and %d", p.Min, p.Max)
		}
		return f, strconv.FormatInt(int64(f), 10), ""
	case KindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, "", "must be true or false"
		}
		return b, strconv.FormatBool(b), ""
	case KindObject:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, "", "must be a JSON object"
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(obj); err != nil {
			return nil, "", "must be encodable as JSON"
		}
		if buf.Len() > MaxBodyBytes {
			return nil, "", fmt.Sprintf("must be at most %d bytes of JSON", MaxBodyBytes)
		}
		return obj, strings.TrimSuffix(buf.String(), "\n"), ""
	}
	return nil, "", "has an unsupported kind"
}

func (p Param) checkString(s string) string {
	max := p.MaxLen
	if max == 0 {
		max = maxIDLen
	}
	if s == "" {
		return "must not be empty"
	}
	if len(s) > max {
		return fmt.Sprintf("must be at most %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "must not contain control characters"
		}
	}
	switch p.Kind {
	case KindID:
		for i := 0; i < len(s); i++ {
			if !isIDByte(s[i]) {
				return "must be an Okta id (letters, digits, '-' and '_')"
			}
		}
	case KindUserRef:
		if s == "." || strings.Contains(s, "..") {
			return "must not contain '..'"
		}
		for i := 0; i < len(s); i++ {
			if !isIDByte(s[i]) && !strings.ContainsRune(".@+'", rune(s[i])) {
				return "must be a user id, login or login short name"
			}
		}
	case KindEnum:
		for _, e := range p.Enum {
			if s == e {
				return ""
			}
		}
		return "must be one of " + strings.Join(p.Enum, ", ")
	case KindTime:
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return "must be an RFC 3339 timestamp"
		}
	}
	return ""
}

func isIDByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// safeField keeps an unknown parameter name printable and short before it is
// echoed back in an error.
func safeField(k string) string {
	k = truncate(k, 64)
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, k)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// WithQuery returns a copy of the call with one query parameter set, for
// following a page cursor; the original call is not changed. Only the query
// differs: the cursor came from Okta, not from the agent, so the policy
// decision on the original call still covers it.
func (c *Call) WithQuery(name, value string) *Call {
	cp := *c
	cp.Query = make(map[string][]string, len(c.Query)+1)
	for k, v := range c.Query {
		cp.Query[k] = v
	}
	cp.Query.Set(name, value)
	return &cp
}
