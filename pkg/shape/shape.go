package shape

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits on a remove_fields obligation: it comes from policy, and a policy
// is input like any other.
const (
	MaxFields    = 256
	maxFieldLen  = 256
	maxPathDepth = 16
)

// Remover removes fields from each object of an answer. The zero value
// removes nothing.
type Remover struct {
	paths [][]string
}

// NewRemover validates dotted paths ("profile.mobilePhone"), relative to
// each object the call returns.
func NewRemover(paths []string) (Remover, error) {
	if len(paths) > MaxFields {
		return Remover{}, fmt.Errorf("remove_fields: %d paths, at most %d", len(paths), MaxFields)
	}
	r := Remover{paths: make([][]string, 0, len(paths))}
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
		r.paths = append(r.paths, segs)
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

// Apply returns body without the fields: body is a JSON object or an array
// of objects (elements that are not objects are left as they are). An
// empty body, or an empty Remover, is returned unchanged.
func (r Remover) Apply(body []byte) ([]byte, error) {
	if r.Empty() || len(bytes.TrimSpace(body)) == 0 {
		return body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("remove fields: answer is not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("remove fields: answer has more than one JSON value")
	}
	switch d := doc.(type) {
	case map[string]any:
		r.strip(d)
	case []any:
		for _, e := range d {
			if obj, ok := e.(map[string]any); ok {
				r.strip(obj)
			}
		}
	default:
		return body, nil
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("remove fields: %w", err)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), nil
}

func (r Remover) strip(obj map[string]any) {
	for _, p := range r.paths {
		remove(obj, p)
	}
}

func remove(obj map[string]any, path []string) {
	for len(path) > 1 {
		next, ok := obj[path[0]].(map[string]any)
		if !ok {
			return
		}
		obj, path = next, path[1:]
	}
	delete(obj, path[0])
}
