package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// The record encoder is written by hand: encoding/json walks maps through
// reflection and sorts keys by allocating, which would cost more than the
// whole record budget. Values are the shapes that decoded JSON and the
// catalog produce; anything else goes through encoding/json once and is
// then encoded like decoded JSON, so masking still applies inside it.
//
// Output is canonical: object keys sorted by UTF-16 code units, strings with
// only the escapes JSON requires, numbers as ECMAScript prints them. This is
// RFC 8785 (JCS) for the values that occur in Okta requests, so a masked
// value's HMAC can be recomputed by tools outside Go.

const hexDigits = "0123456789abcdef"

// plain marks the bytes a JSON string holds as they are.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// in encoding/json, so a record is always valid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloat prints f the way ECMAScript (and encoding/json) does. NaN and
// infinities have no JSON form and never come from decoded JSON: null.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == 0 {
		return append(b, '0') // also -0, as ECMAScript prints it
	}
	abs, format := math.Abs(f), byte('f')
	if abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // 1e-07 → 1e-7
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// compareKeys orders object keys by UTF-16 code units (RFC 8785). It differs
// from byte order only between U+E000–U+FFFF and characters above U+FFFF.
func compareKeys(a, b string) int {
	for a != "" && b != "" {
		if a[0] < utf8.RuneSelf && b[0] < utf8.RuneSelf {
			if a[0] != b[0] {
				return int(a[0]) - int(b[0])
			}
			a, b = a[1:], b[1:]
			continue
		}
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return utf16First(ra) - utf16First(rb)
		}
		if na != nb || ra == utf8.RuneError && a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// utf16First maps r to a number that orders like its UTF-16 code units: a
// character above U+FFFF sorts by its high surrogate (U+D800–U+DBFF), below
// U+E000 and above, then by its low surrogate.
func utf16First(r rune) int {
	if r < 0x10000 {
		return int(r) << 10
	}
	r -= 0x10000
	return (0xD800+int(r>>10))<<10 | int(r&0x3FF)
}

// entry is one member of a map being encoded.
type entry[V any] struct {
	k string
	v V
}

// sortedEntries returns m's members in canonical order, in scratch when
// they fit: a map is read once, and small ones cost no allocation.
func sortedEntries[V any](m map[string]V, scratch []entry[V]) []entry[V] {
	out := scratch[:0]
	for k, v := range m {
		out = append(out, entry[V]{k, v})
	}
	slices.SortFunc(out, func(a, b entry[V]) int { return compareKeys(a.k, b.k) })
	return out
}

// appendStringMap encodes a map[string]string (resource ids) canonically.
func appendStringMap(b []byte, m map[string]string) []byte {
	var scratch [8]entry[string]
	b = append(b, '{')
	for i, e := range sortedEntries(m, scratch[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, e.k)
		b = append(b, ':')
		b = appendString(b, e.v)
	}
	return append(b, '}')
}

// appendTimestamp writes t in UTC with microseconds, the fixed-width
// form of RFC 3339 the schema requires, without time.Format's parsing.
func appendTimestamp(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	}
	h, mi, s := t.Clock()
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

func appendDigits(b []byte, v, width int) []byte {
	var buf [8]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[:width]...)
}

// appendStrings encodes a string list; nil becomes [] so the field's type
// never changes.
func appendStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// normalize turns a value of a type the encoder does not know into decoded
// JSON, through encoding/json. ok is false when it has no JSON form.
func normalize(v any) (any, bool) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep large integers exact
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, false
	}
	return out, true
}
