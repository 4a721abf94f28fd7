package gateway

import (
	"bytes"
	"errors"
	"math"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Field numbers of google.protobuf.Value, Struct (and its map entries) and
// ListValue (google/protobuf/struct.proto).
const (
	valueNull   protowire.Number = 1
	valueNumber protowire.Number = 2
	valueString protowire.Number = 3
	valueBool   protowire.Number = 4
	valueStruct protowire.Number = 5
	valueList   protowire.Number = 6

	structFields protowire.Number = 1
	entryKey     protowire.Number = 1
	entryValue   protowire.Number = 2
	listValues   protowire.Number = 1
)

// appendValueField appends field num of a message holding Okta's JSON
// answer as a google.protobuf.Value, in protobuf's wire form: the bytes
// proto.Marshal would write for the Value protojson makes of data (map
// entries in the answer's order). The answers Okta sends (ASCII without
// escapes) are encoded in one pass, with no Value built and no reflection;
// anything else goes through protojson and proto.Marshal, so the two
// cannot disagree on what a string holds or on what is an error.
//
// Building the Value and then marshalling it cost about a fifth of the
// sidecar's CPU for each Execute of one user (docs/performance.md).
func appendValueField(dst []byte, num protowire.Number, data []byte) ([]byte, error) {
	if plainJSON(data) {
		e := wireEncoder{valueParser: valueParser{in: data}, out: dst}
		start := e.open(num)
		err := e.value()
		if err == nil {
			e.space()
			if e.pos != len(e.in) {
				err = errors.New("more than one JSON value")
			}
		}
		if err == nil {
			e.close(start)
			return e.out, nil
		}
	}
	// protojson's own answer, or its own error, for the same input.
	var v structpb.Value
	if err := protojson.Unmarshal(data, &v); err != nil {
		return dst, err
	}
	b, err := proto.Marshal(&v)
	if err != nil {
		return dst, err
	}
	return protowire.AppendBytes(protowire.AppendTag(dst, num, protowire.BytesType), b), nil
}

// wireEncoder reads ASCII JSON without escapes and writes the wire form of
// the Value it holds.
type wireEncoder struct {
	valueParser
	out []byte
	// keys are the keys of the objects being read, innermost last, to
	// refuse a key given twice as protojson does.
	keys [][]byte
}

// open starts a length-delimited field with a one-byte length, the common
// case; close writes the real length, moving the content when it needs
// more bytes than that.
func (e *wireEncoder) open(num protowire.Number) int {
	e.out = protowire.AppendTag(e.out, num, protowire.BytesType)
	e.out = append(e.out, 0)
	return len(e.out)
}

func (e *wireEncoder) close(start int) {
	n := len(e.out) - start
	if extra := protowire.SizeVarint(uint64(n)) - 1; extra > 0 {
		e.out = append(e.out, make([]byte, extra)...)
		copy(e.out[start+extra:], e.out[start:start+n])
	}
	protowire.AppendVarint(e.out[:start-1], uint64(n)) // in place
}

// value writes the Value's one field for the JSON value at pos.
func (e *wireEncoder) value() error {
	e.space()
	if e.pos >= len(e.in) {
		return errSyntax
	}
	switch c := e.in[e.pos]; {
	case c == '{', c == '[':
		if e.depth++; e.depth > maxValueDepth {
			return errSyntax
		}
		defer func() { e.depth-- }()
		if c == '{' {
			start := e.open(valueStruct)
			if err := e.object(); err != nil {
				return err
			}
			e.close(start)
			return nil
		}
		start := e.open(valueList)
		if err := e.array(); err != nil {
			return err
		}
		e.close(start)
		return nil
	case c == '"':
		s, err := e.strBytes()
		if err != nil {
			return err
		}
		e.out = protowire.AppendBytes(protowire.AppendTag(e.out, valueString, protowire.BytesType), s)
		return nil
	case c == 't':
		return e.word("true", valueBool, 1)
	case c == 'f':
		return e.word("false", valueBool, 0)
	case c == 'n':
		return e.word("null", valueNull, 0)
	case c == '-' || '0' <= c && c <= '9':
		f, err := e.float()
		if err != nil {
			return err
		}
		e.out = protowire.AppendFixed64(protowire.AppendTag(e.out, valueNumber, protowire.Fixed64Type), math.Float64bits(f))
		return nil
	}
	return errSyntax
}

// word writes a literal's field: a bool, or NULL_VALUE (0).
func (e *wireEncoder) word(w string, num protowire.Number, v uint64) error {
	if len(e.in)-e.pos < len(w) || string(e.in[e.pos:e.pos+len(w)]) != w {
		return errSyntax
	}
	e.pos += len(w)
	e.out = protowire.AppendVarint(protowire.AppendTag(e.out, num, protowire.VarintType), v)
	return nil
}

// array writes a ListValue's content: each element one Value.
func (e *wireEncoder) array() error {
	for more := !e.empty(']'); more; {
		start := e.open(listValues)
		if err := e.value(); err != nil {
			return err
		}
		e.close(start)
		var err error
		if more, err = e.more(']'); err != nil {
			return err
		}
	}
	return nil
}

// object writes a Struct's content: one map entry (key, Value) a member.
func (e *wireEncoder) object() error {
	base := len(e.keys)
	defer func() { e.keys = e.keys[:base] }()
	var seen map[string]bool // for objects with many keys
	for more := !e.empty('}'); more; {
		k, err := e.key()
		if err != nil {
			return err
		}
		if dup := e.seen(k, base, &seen); dup {
			return errSyntax // protojson refuses a key given twice
		}
		entry := e.open(structFields)
		e.out = protowire.AppendBytes(protowire.AppendTag(e.out, entryKey, protowire.BytesType), k)
		val := e.open(entryValue)
		if err := e.value(); err != nil {
			return err
		}
		e.close(val)
		e.close(entry)
		if more, err = e.more('}'); err != nil {
			return err
		}
	}
	return nil
}

// manyKeys is where an object's keys go into a map rather than being
// compared one by one.
const manyKeys = 32

// seen records key k of the object whose keys start at base, and reports
// whether the object had it already.
func (e *wireEncoder) seen(k []byte, base int, m *map[string]bool) bool {
	own := e.keys[base:]
	if *m == nil && len(own) < manyKeys {
		for _, o := range own {
			if bytes.Equal(o, k) {
				return true
			}
		}
		e.keys = append(e.keys, k)
		return false
	}
	if *m == nil {
		*m = make(map[string]bool, 2*manyKeys)
		for _, o := range own {
			(*m)[string(o)] = true
		}
	}
	if (*m)[string(k)] {
		return true
	}
	(*m)[string(k)] = true
	return false
}
