package oktasim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Okta's search and filter parameters take SCIM-style expressions:
//
//	profile.department eq "Engineering" and (status eq "ACTIVE" or status eq "STAGED")
//	lastUpdated gt "2024-01-01T00:00:00.000Z"
//	eventType eq "user.lifecycle.create"
//
// The simulator supports the operators eq, ne, gt, ge, lt, le, sw, co, ew
// and pr, joined by and/or with parentheses, on any attribute path of the
// rendered object. String comparisons ignore case as Okta's search does.

// matcher is a parsed expression. get returns every value at an attribute
// path (several for paths through arrays, none when absent).
type matcher interface {
	match(get func(attr string) []any) bool
}

type andExpr struct{ l, r matcher }
type orExpr struct{ l, r matcher }
type cmpExpr struct {
	attr, op string
	val      any // string, bool, json.Number or nil
}

func (e andExpr) match(get func(string) []any) bool { return e.l.match(get) && e.r.match(get) }
func (e orExpr) match(get func(string) []any) bool  { return e.l.match(get) || e.r.match(get) }

func (e cmpExpr) match(get func(string) []any) bool {
	vals := get(e.attr)
	switch e.op {
	case "pr":
		for _, v := range vals {
			if v != nil && v != "" {
				return true
			}
		}
		return false
	case "ne":
		return !cmpExpr{attr: e.attr, op: "eq", val: e.val}.match(get)
	case "eq":
		if e.val == nil && len(vals) == 0 {
			return true
		}
	}
	for _, v := range vals {
		if compare(v, e.op, e.val) {
			return true
		}
	}
	return false
}

func compare(have any, op string, want any) bool {
	if want == nil || have == nil {
		return op == "eq" && want == nil && have == nil
	}
	if wb, ok := want.(bool); ok {
		hb, ok := have.(bool)
		return ok && op == "eq" && hb == wb
	}
	hs, ws := fmt.Sprint(have), fmt.Sprint(want)
	switch op {
	case "eq":
		return strings.EqualFold(hs, ws)
	case "sw":
		return strings.HasPrefix(strings.ToLower(hs), strings.ToLower(ws))
	case "ew":
		return strings.HasSuffix(strings.ToLower(hs), strings.ToLower(ws))
	case "co":
		return strings.Contains(strings.ToLower(hs), strings.ToLower(ws))
	}
	c, ok := order(hs, ws)
	if !ok {
		return false
	}
	switch op {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

// order compares timestamps as times, numbers as numbers, anything else as
// text.
func order(a, b string) (int, bool) {
	if ta, err := time.Parse(time.RFC3339Nano, a); err == nil {
		tb, err := time.Parse(time.RFC3339Nano, b)
		if err != nil {
			return 0, false
		}
		return ta.Compare(tb), true
	}
	if fa, err := strconv.ParseFloat(a, 64); err == nil {
		fb, err := strconv.ParseFloat(b, 64)
		if err != nil {
			return 0, false
		}
		switch {
		case fa < fb:
			return -1, true
		case fa > fb:
			return 1, true
		}
		return 0, true
	}
	return strings.Compare(a, b), true
}

var operators = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true, "lt": true, "le": true, "sw": true, "co": true, "ew": true, "pr": true}

// parseExpr parses an expression; the error text is safe to return in an
// errorCause.
func parseExpr(s string) (matcher, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &exprParser{toks: toks}
	m, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return m, nil
}

type token struct {
	text   string
	quoted bool
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')':
			toks = append(toks, token{text: string(c)})
			i++
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string")
			}
			toks = append(toks, token{text: b.String(), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '(' && s[j] != ')' && s[j] != '"' {
				j++
			}
			toks = append(toks, token{text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

type exprParser struct {
	toks []token
	pos  int
}

func (p *exprParser) peekWord(w string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *exprParser) or() (matcher, error) {
	l, err := p.and()
	for err == nil && p.peekWord("or") {
		p.pos++
		var r matcher
		if r, err = p.and(); err == nil {
			l = orExpr{l, r}
		}
	}
	return l, err
}

func (p *exprParser) and() (matcher, error) {
	l, err := p.primary()
	for err == nil && p.peekWord("and") {
		p.pos++
		var r matcher
		if r, err = p.primary(); err == nil {
			l = andExpr{l, r}
		}
	}
	return l, err
}

func (p *exprParser) primary() (matcher, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("unexpected end of expression")
	}
	if p.peekWord("(") {
		p.pos++
		m, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peekWord(")") {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return m, nil
	}
	attr := p.toks[p.pos]
	if attr.quoted || !validAttr(attr.text) {
		return nil, fmt.Errorf("invalid attribute %q", attr.text)
	}
	p.pos++
	if p.pos >= len(p.toks) || p.toks[p.pos].quoted || !operators[strings.ToLower(p.toks[p.pos].text)] {
		return nil, fmt.Errorf("missing operator after %q", attr.text)
	}
	op := strings.ToLower(p.toks[p.pos].text)
	p.pos++
	if op == "pr" {
		return cmpExpr{attr: attr.text, op: op}, nil
	}
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("missing value after %q", op)
	}
	v := p.toks[p.pos]
	p.pos++
	if v.quoted {
		return cmpExpr{attr: attr.text, op: op, val: v.text}, nil
	}
	switch strings.ToLower(v.text) {
	case "true":
		return cmpExpr{attr: attr.text, op: op, val: true}, nil
	case "false":
		return cmpExpr{attr: attr.text, op: op, val: false}, nil
	case "null":
		return cmpExpr{attr: attr.text, op: op, val: nil}, nil
	}
	if _, err := strconv.ParseFloat(v.text, 64); err == nil {
		return cmpExpr{attr: attr.text, op: op, val: json.Number(v.text)}, nil
	}
	return nil, fmt.Errorf("invalid value %q", v.text)
}

func validAttr(s string) bool {
	if s == "" || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '_' && r != ':' {
			return false
		}
	}
	return true
}

// objectGetter resolves attribute paths against a rendered object.
func objectGetter(o obj) func(string) []any {
	return func(attr string) []any { return lookupPath(o, strings.Split(attr, ".")) }
}

// parseFilter parses the named query parameter, nil when absent.
func parseFilter(c *call, name string) (matcher, error) {
	v := c.query.Get(name)
	if v == "" {
		return nil, nil
	}
	m, err := parseExpr(v)
	if err != nil {
		return nil, errInvalidSearch(name + ": " + err.Error())
	}
	return m, nil
}
