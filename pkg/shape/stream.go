package shape

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// removeStream copies body (one valid JSON value, depth already checked)
// without the members the paths remove, in one pass over its bytes and
// without decoding it into maps: the same removal as walk and strip, whose
// rule it follows member by member. Every object is matched against the
// root of the paths, and against the nodes its ancestors' members reached;
// a member whose key (compared as strings.EqualFold compares) ends a path
// from any of them is left out. What is kept is copied byte for byte,
// without the whitespace between tokens.
//
// It gives up (false) on an object with a key twice: see removeTree.
func (r Remover) removeStream(body []byte) ([]byte, bool) {
	c := copier{in: body, out: make([]byte, 0, len(body)), root: r.root}
	c.value(nil)
	return c.out, !c.dup
}

type copier struct {
	in   []byte
	pos  int
	out  []byte
	root *node
	dup  bool // an object has a key twice
}

func (c *copier) skipSpace() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\r', '\n':
			c.pos++
		default:
			return
		}
	}
}

// value copies the value at pos, which the nodes in cont continue into.
func (c *copier) value(cont []*node) {
	c.skipSpace()
	switch c.in[c.pos] {
	case '{':
		c.object(cont)
	case '[':
		c.out = append(c.out, '[')
		c.pos++
		first := true
		for {
			c.skipSpace()
			if c.in[c.pos] == ']' {
				c.pos++
				c.out = append(c.out, ']')
				return
			}
			if c.in[c.pos] == ',' {
				c.pos++
				continue
			}
			if !first {
				c.out = append(c.out, ',')
			}
			first = false
			c.value(cont) // a path steps through arrays
		}
	case '"':
		start := c.pos
		c.skipString()
		c.out = append(c.out, c.in[start:c.pos]...)
	default: // number, true, false, null
		start := c.pos
		for c.pos < len(c.in) && !strings.ContainsRune(" \t\r\n,]}", rune(c.in[c.pos])) {
			c.pos++
		}
		c.out = append(c.out, c.in[start:c.pos]...)
	}
}

// object copies the object at pos. Its nodes are the root and cont.
func (c *copier) object(cont []*node) {
	set := make([]*node, 0, 1+len(cont))
	set = append(append(set, c.root), cont...)
	c.out = append(c.out, '{')
	c.pos++
	written := false
	var (
		next   []*node
		remove bool
		keys   []string // this object's keys, to find one given twice
	)
	for {
		c.skipSpace()
		switch c.in[c.pos] {
		case '}':
			c.pos++
			c.out = append(c.out, '}')
			return
		case ',':
			c.pos++
			continue
		}
		keyStart := c.pos
		c.skipString()
		rawKey := c.in[keyStart:c.pos]
		c.skipSpace()
		c.pos++ // ':'
		key, ascii := keyOf(rawKey)
		if slices.Contains(keys, key) {
			c.dup = true
		}
		keys = append(keys, key)
		next, remove = match(set, key, ascii, next[:0])
		if remove {
			c.skipValue()
			continue
		}
		if written {
			c.out = append(c.out, ',')
		}
		written = true
		c.out = append(c.out, rawKey...)
		c.out = append(c.out, ':')
		c.value(next)
	}
}

// match finds, for each node of set, its child named by the key: remove
// when one ends a path there, else the children the member's value
// continues into (appended to next).
func match(set []*node, key string, ascii bool, next []*node) ([]*node, bool) {
	for _, n := range set {
		for _, kid := range n.kids {
			if !foldEqual(key, ascii, kid.seg) {
				continue
			}
			if kid.end {
				return next, true
			}
			next = append(next, kid)
			break
		}
	}
	return next, false
}

// keyOf is a member's key as encoding/json decodes it: the bytes between
// the quotes when they hold no escape and only ASCII, else decoded (escapes
// resolved, invalid UTF-8 replaced) exactly as the tree walk would see it.
func keyOf(raw []byte) (string, bool) {
	inner := raw[1 : len(raw)-1]
	for _, b := range inner {
		if b == '\\' || b >= utf8.RuneSelf {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return string(inner), false
			}
			return s, false
		}
	}
	return string(inner), true
}

// foldEqual is strings.EqualFold, by bytes when both sides are ASCII (then
// the two agree: no ASCII letter folds to another ASCII letter but its own
// case).
func foldEqual(key string, ascii bool, seg string) bool {
	if ascii && len(key) == len(seg) && isASCII(seg) {
		return asciiEqualFold([]byte(key), seg)
	}
	return strings.EqualFold(key, seg)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// skipString moves pos past the string that starts there.
func (c *copier) skipString() {
	c.pos++ // opening quote
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case '\\':
			c.pos += 2
		case '"':
			c.pos++
			return
		default:
			c.pos++
		}
	}
}

// skipValue moves pos past the value that starts there.
func (c *copier) skipValue() {
	c.skipSpace()
	switch c.in[c.pos] {
	case '"':
		c.skipString()
	case '{', '[':
		depth := 0
		for c.pos < len(c.in) {
			switch c.in[c.pos] {
			case '"':
				c.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					c.pos++
					return
				}
			}
			c.pos++
		}
	default:
		for c.pos < len(c.in) && !strings.ContainsRune(" \t\r\n,]}", rune(c.in[c.pos])) {
			c.pos++
		}
	}
}
