package shape

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on a remove_fields obligation: it comes from policy, and a policy
// is input like any other.
const (
	MaxFields    = 256
	maxFieldLen  = 256
	maxPathDepth = 16
)

// MaxDepth is how deeply arrays and objects may nest in an answer that is
// shaped ("{}" is one level, "[{}]" two). Okta's answers nest a handful of
// levels; the limit keeps a hostile or broken answer from costing stack and
// time, and an answer beyond it is an error rather than passing unshaped.
const MaxDepth = 128

// Remover removes fields from every object of an answer. The zero value
// removes nothing. A Remover is never modified after NewRemover, so one
// value may serve concurrent calls.
type Remover struct {
	names []string   // as policy spelled them, for Hidden's answer
	paths [][]string // names split into segments
	root  *node
}

// node is one segment of the paths, merged so that an object is matched
// against each distinct first segment once, however many paths share it.
type node struct {
	seg  string
	end  bool // a path ends here: the whole member goes
	kids []*node
}

func (n *node) child(seg string) *node {
	for _, k := range n.kids {
		if strings.EqualFold(k.seg, seg) {
			return k
		}
	}
	k := &node{seg: seg}
	n.kids = append(n.kids, k)
	return k
}

// NewRemover validates dotted paths ("profile.mobilePhone"). Each path is
// relative to every object of the answer, at any depth, and its segments
// compare without regard to case.
func NewRemover(paths []string) (Remover, error) {
	if len(paths) > MaxFields {
		return Remover{}, fmt.Errorf("remove_fields: %d paths, at most %d", len(paths), MaxFields)
	}
	r := Remover{names: make([]string, 0, len(paths)), paths: make([][]string, 0, len(paths))}
	for _, p := range paths {
		if p == "" || len(p) > maxFieldLen {
			return Remover{}, fmt.Errorf("remove_fields: path %q must have 1 to %d characters", p, maxFieldLen)
		}
		segs := strings.Split(p, ".")
		if len(segs) > maxPathDepth {
			return Remover{}, fmt.Errorf("remove_fields: path %q is deeper than %d", p, maxPathDepth)
		}
		for _, s := range segs {
			if s == "" {
				return Remover{}, fmt.Errorf("remove_fields: path %q has an empty segment", p)
			}
		}
		r.names = append(r.names, p)
		r.paths = append(r.paths, segs)
	}
	if len(r.paths) > 0 {
		r.root = &node{}
		for _, segs := range r.paths {
			n := r.root
			for _, s := range segs {
				n = n.child(s)
			}
			n.end = true
		}
	}
	return r, nil
}

// FromObligation reads a remove_fields obligation: absent is no removal; any
// other shape than an array of strings is an error, so the call fails
// rather than leaks what policy meant to hide.
func FromObligation(v any, present bool) (Remover, error) {
	if !present {
		return Remover{}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return Remover{}, errors.New("remove_fields: not an array")
	}
	paths := make([]string, len(list))
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			return Remover{}, fmt.Errorf("remove_fields[%d]: not a string", i)
		}
		paths[i] = s
	}
	return NewRemover(paths)
}

// Empty reports whether r removes nothing.
func (r Remover) Empty() bool { return len(r.paths) == 0 }

// Apply returns body without the fields. Every path is removed relative to
// every object in body: the top-level one, each element of each array, and
// each object nested in another, because Okta embeds resources in others
// (_embedded.user of an app user, target[] of an event) and a field hidden
// in one place must be hidden in all. A path also steps through arrays
// ("profile.addresses.street" reaches each address of a list).
//
// An empty Remover, or a body that is only JSON whitespace, is returned as
// it is, and so is a body that is a single scalar. Anything else that is not
// exactly one JSON value nested at most MaxDepth levels is an error: an
// answer that cannot be shaped must not pass unshaped.
func (r Remover) Apply(body []byte) ([]byte, error) {
	if r.Empty() || len(bytes.Trim(body, jsonSpace)) == 0 {
		return body, nil
	}
	// Measured before decoding, so that a deep answer costs one pass over
	// its bytes and nothing more.
	if err := checkDepth(body); err != nil {
		return nil, err
	}
	if !json.Valid(body) {
		return nil, errors.New("remove fields: answer is not one JSON value")
	}
	switch bytes.TrimLeft(body, jsonSpace)[0] {
	case '{', '[':
	default:
		return body, nil // a scalar holds no member
	}
	if r.certainlyAbsent(body) {
		// Nothing to remove: the answer goes as Okta sent it.
		return body, nil
	}
	if out, ok := r.removeStream(body); ok {
		return out, nil
	}
	return r.removeTree(body)
}

// removeTree removes the paths by decoding body into maps, walking them
// and encoding the result, keys sorted. It is the reference the stream
// follows, used for an answer the stream does not take: one with duplicate
// keys, which must leave as one member each (the last), as a decoder would
// read it, never two for a reader that takes the first.
func (r Remover) removeTree(body []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("remove fields: answer is not JSON: %w", err)
	}
	r.walk(doc)
	var out bytes.Buffer
	out.Grow(len(body))
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("remove fields: %w", err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

const jsonSpace = " \t\r\n"

// certainlyAbsent reports that no member of body can be one a path
// removes, when that is certain from its bytes alone: a removed member's
// key is a path's last segment, so if no last segment appears anywhere in
// body as a quoted string, nothing is removed. It answers false whenever a
// key could be spelled in a way a byte search would miss: an escape
// (\u0050), or anything beyond ASCII, where case folding is not a byte
// matter (the Kelvin sign folds to k).
func (r Remover) certainlyAbsent(body []byte) bool {
	for _, c := range body {
		if c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	for _, segs := range r.paths {
		last := segs[len(segs)-1]
		for i := 0; i < len(last); i++ {
			if last[i] >= utf8.RuneSelf {
				return false
			}
		}
		if containsQuotedFold(body, last) {
			return false
		}
	}
	return true
}

// containsQuotedFold reports whether body holds "key", ASCII letters
// compared without regard to case.
func containsQuotedFold(body []byte, key string) bool {
	n := len(key) + 2
	for i := 0; i+n <= len(body); {
		j := bytes.IndexByte(body[i:], '"')
		if j < 0 {
			return false
		}
		i += j
		if i+n <= len(body) && body[i+n-1] == '"' && asciiEqualFold(body[i+1:i+n-1], key) {
			return true
		}
		i++
	}
	return false
}

func asciiEqualFold(b []byte, s string) bool {
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// checkDepth fails when arrays and objects in body nest deeper than
// MaxDepth. Brackets inside strings do not count; for a body that is not
// JSON the count may be wrong, but then decoding fails anyway.
func checkDepth(body []byte) error {
	depth := 0
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			if depth++; depth > MaxDepth {
				return fmt.Errorf("remove fields: answer nests deeper than %d levels", MaxDepth)
			}
		case ']', '}':
			depth--
		}
	}
	return nil
}

// walk removes every path from every object under v. Recursion is bounded
// by checkDepth, which Apply calls first.
func (r Remover) walk(v any) {
	switch x := v.(type) {
	case map[string]any:
		strip(x, r.root)
		for _, c := range x {
			r.walk(c)
		}
	case []any:
		for _, c := range x {
			r.walk(c)
		}
	}
}

// strip removes from v the rest of the paths below n. Removing before
// walking the remaining members both saves work and cannot let anything
// through: removal never makes a path appear.
func strip(v any, n *node) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			for _, kid := range n.kids {
				if !strings.EqualFold(k, kid.seg) {
					continue
				}
				if kid.end {
					delete(x, k)
				} else {
					strip(c, kid)
				}
				break
			}
		}
	case []any:
		for _, c := range x {
			strip(c, n)
		}
	}
}
