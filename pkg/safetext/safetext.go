// Package safetext shows text that an agent, a policy, Okta or a person
// wrote to the people who approve, in a terminal (package approvalcli) or
// a page (package console), so that it cannot change what is shown around
// it: control and format characters (escape sequences, bidi overrides,
// zero-width joiners, line and paragraph separators, the replacement
// character) are shown as \uXXXX. Everything else is kept as written; the
// page's own escaping (html/template) still applies.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
)

// Line is s for one line of a terminal: newlines and tabs are shown as
// \uXXXX too, so a value cannot break a table or forge a line.
func Line(s string) string { return escape(s, hidden) }

// Block is s for a block of text (a <pre>, a comment): newlines and tabs
// stay.
func Block(s string) string {
	return escape(s, func(r rune) bool { return r != '\n' && r != '\t' && hidden(r) })
}

func escape(s string, hide func(rune) bool) string {
	if strings.IndexFunc(s, hide) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hide(r) {
			fmt.Fprintf(&b, `\u%04X`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hidden is what may not be shown raw.
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar || r == '\u2028' || r == '\u2029'
}
