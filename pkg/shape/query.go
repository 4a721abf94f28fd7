package shape

import (
	"errors"
	"fmt"
	"strings"
)

// MaxExpressionLen bounds the search and filter expressions that
// HiddenInExpression reads, in bytes. Okta's own limits are of the same
// order; a longer expression is refused rather than scanned.
const MaxExpressionLen = 4096

// Hidden reports the first path of r that the attribute name attr reaches:
// attr is a hidden path, lies under one ("profile.mobilePhone.x" under
// "profile.mobilePhone"), or contains one ("profile" contains
// "profile.mobilePhone"). Names compare without regard to case.
//
// Searching, filtering or sorting on an attribute reveals its value as
// surely as reading it, so callers refuse a query on anything Hidden
// reports. Because Apply removes a path relative to every object at any
// depth, a path also counts when it starts at a later segment of attr:
// with "profile.mobilePhone" hidden, "_embedded.user.profile.mobilePhone"
// and "x.profile" are hidden too. Only whole segments match, so
// "profile.mobilePhoneX" is not under "profile.mobilePhone". Empty segments
// are ignored ("profile..mobilePhone" is "profile.mobilePhone"), so that a
// spelling Okta might read leniently cannot slip past; a name with no
// segments at all names nothing.
func (r Remover) Hidden(attr string) (path string, hidden bool) {
	if r.Empty() {
		return "", false
	}
	segs := strings.FieldsFunc(attr, func(c rune) bool { return c == '.' })
	for i, p := range r.paths {
		for off := range segs {
			if agree(segs[off:], p) {
				return r.names[i], true
			}
		}
	}
	return "", false
}

// agree reports whether a and p are equal over the shorter of the two: one
// of them is the other or lies under it.
func agree(a, p []string) bool {
	for i := range min(len(a), len(p)) {
		if !strings.EqualFold(a[i], p[i]) {
			return false
		}
	}
	return true
}

// HiddenInExpression reports the first hidden path named by an Okta search
// or filter expression (the search, filter parameters of list actions), e.g.
// `profile.department eq "Eng" and profile.mobilePhone sw "555"`.
// An expression it cannot read (an unterminated string, a character that has
// no place in Okta's expression grammar) is an error: the caller refuses it
// rather than guess. An empty Remover names nothing and never errors.
//
// expr is the parameter's decoded value. The expression is not parsed, only
// split into tokens, because what matters is which names it holds, not
// what it means: a filter on a hidden attribute is an oracle for its value
// ("sw" one digit at a time) whatever the rest of the expression says.
// Every bare token (a run of letters, digits and _ . : - $) is checked
// with Hidden. That includes operators, keywords and literals (eq, and,
// true, 42): none can reach a path unless policy hides a top-level name
// spelled like one, and then refusing is the safe side of the doubt.
// Text inside double quotes is a value and never a name. Parentheses must
// balance. Anything else outside quotes (single quotes, brackets, =, ;,
// non-ASCII letters) is an error: Okta's grammar has no place for it, and
// a reader that skipped it could be led to split a name the way Okta does
// not.
func (r Remover) HiddenInExpression(expr string) (path string, hidden bool, err error) {
	if r.Empty() {
		return "", false, nil
	}
	if len(expr) > MaxExpressionLen {
		return "", false, fmt.Errorf("expression of %d bytes, at most %d", len(expr), MaxExpressionLen)
	}
	// The whole expression is read even after a hit, so that an unreadable
	// one is always an error, whatever it names first.
	open := 0
	for i := 0; i < len(expr); {
		switch c := expr[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			open++
			i++
		case c == ')':
			if open--; open < 0 {
				return "", false, fmt.Errorf("expression: unmatched ) at byte %d", i)
			}
			i++
		case c == '"':
			end, ok := stringEnd(expr, i)
			if !ok {
				return "", false, fmt.Errorf("expression: unterminated string at byte %d", i)
			}
			i = end
		case isNameByte(c):
			j := i
			for j < len(expr) && isNameByte(expr[j]) {
				j++
			}
			if !hidden {
				path, hidden = r.Hidden(expr[i:j])
			}
			i = j
		default:
			return "", false, fmt.Errorf("expression: unexpected %q at byte %d", rune(c), i)
		}
	}
	if open > 0 {
		return "", false, errors.New("expression: unmatched (")
	}
	return path, hidden, nil
}

// stringEnd returns the index just past the string literal that starts
// with the quote at expr[start].
func stringEnd(expr string, start int) (int, bool) {
	for i := start + 1; i < len(expr); i++ {
		switch expr[i] {
		case '\\':
			i++ // the escaped byte, whatever it is, is part of the value
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '-' || c == '$'
}
