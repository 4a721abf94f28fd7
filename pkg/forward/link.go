package forward

import (
	"net/url"
	"strings"
)

// maxCursorLen matches the catalog's bound on the after parameter, so a
// cursor Bollard hands out is always one it will accept back.
const maxCursorLen = 512

// nextCursor finds the rel="next" link among Okta's Link headers (one header
// per link, or several links joined with commas in one header) and returns its
// after parameter.
func nextCursor(headers []string) string {
	for _, h := range headers {
		for _, link := range splitLinks(h) {
			target, rels, ok := parseLink(link)
			if !ok || !hasRel(rels, "next") {
				continue
			}
			u, err := url.Parse(target)
			if err != nil {
				continue
			}
			after := u.Query().Get("after")
			if len(after) > maxCursorLen {
				return ""
			}
			return after
		}
	}
	return ""
}

// splitLinks splits a Link header value at the commas that separate links,
// ignoring commas inside <...> and quoted strings.
func splitLinks(h string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c == '"' && depth == 0:
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>' && depth > 0:
			depth--
		case c == ',' && depth == 0:
			out = append(out, h[start:i])
			start = i + 1
		}
	}
	return append(out, h[start:])
}

// parseLink parses `<target>; rel="next"; other=x`.
func parseLink(s string) (target string, rels []string, ok bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "<") {
		return "", nil, false
	}
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return "", nil, false
	}
	target = s[1:end]
	for _, param := range strings.Split(s[end+1:], ";") {
		k, v, found := strings.Cut(strings.TrimSpace(param), "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		rels = append(rels, strings.Fields(strings.Trim(strings.TrimSpace(v), `"`))...)
	}
	return target, rels, true
}

func hasRel(rels []string, want string) bool {
	for _, r := range rels {
		if strings.EqualFold(r, want) {
			return true
		}
	}
	return false
}
