package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// maskPrefix marks a masked value; the rest is the hex HMAC-SHA256 of the
// value's canonical JSON under the deployment's key.
const maskPrefix = "hmac-sha256:"

// masker computes masked values. Its states are pooled: hmac.New costs
// several allocations, and a record may mask a few values.
type masker struct {
	pool sync.Pool // of *macState
}

type macState struct {
	h     hash.Hash
	canon []byte
	sum   [sha256.Size]byte
}

func newMasker(key []byte) *masker {
	m := &masker{}
	m.pool.New = func() any { return &macState{h: hmac.New(sha256.New, key)} }
	return m
}

// appendMasked appends the masked form of v as a JSON string.
func (m *masker) appendMasked(b []byte, v any) []byte {
	st := m.pool.Get().(*macState)
	st.canon = appendValue(st.canon[:0], v, maskCtx{})
	return m.finish(b, st)
}

// appendMaskedString is appendMasked for a string, without boxing it.
func (m *masker) appendMaskedString(b []byte, s string) []byte {
	st := m.pool.Get().(*macState)
	st.canon = appendString(st.canon[:0], s)
	return m.finish(b, st)
}

// finish appends the HMAC of st.canon and returns st to the pool.
func (m *masker) finish(b []byte, st *macState) []byte {
	st.h.Reset()
	st.h.Write(st.canon)
	st.h.Sum(st.sum[:0])
	b = append(b, '"')
	b = append(b, maskPrefix...)
	b = hex.AppendEncode(b, st.sum[:])
	if cap(st.canon) > 64<<10 {
		st.canon = nil
	}
	m.pool.Put(st)
	return append(b, '"')
}

// MaskValue returns what a record holds in place of v, so that an
// investigator holding the key can check whether v was sent:
// MaskValue("hunter2") equals a masked "password" field that held it.
func (l *Logger) MaskValue(v any) string {
	b := l.masker.appendMasked(nil, v)
	return string(b[1 : len(b)-1])
}

// maskCtx says what to mask below the current point of params.
type maskCtx struct {
	m *masker // nil: encode as is (canonical JSON)
	// inPassword is set below a "password" object, whose "value" keys hold
	// the cleartext or hashed password ({"password": {"value": "..."}}).
	inPassword bool
	// paths are the rest of the Record.Mask paths that match so far.
	paths [][]string
	// secrets are values known to be secret wherever they appear: the
	// record's Resource values under a sensitive key (a session id).
	secrets []string
}

// objKind is what an object's own members say about it.
type objKind uint8

const (
	// kindJWK: a JSON Web Key (it has "kty"), whose private members are
	// masked.
	kindJWK objKind = 1 << iota
	// kindSession: an object of type "Session" (a System Log event's
	// target), whose "id" is the session id.
	kindSession
)

// kindOf reads an object's members once for the kinds that change what is
// masked in it.
func kindOf(entries []entry[any]) objKind {
	var kind objKind
	for _, e := range entries {
		switch e.k {
		case "kty":
			kind |= kindJWK
		case "type":
			if s, _ := e.v.(string); strings.EqualFold(s, "Session") {
				kind |= kindSession
			}
		}
	}
	return kind
}

// child returns what applies to the value under key k of an object of the
// given kind, and whether that whole value is to be masked.
func (c maskCtx) child(k string, v any, kind objKind) (maskCtx, bool) {
	if c.m == nil {
		return c, false
	}
	out := maskCtx{m: c.m, inPassword: c.inPassword, secrets: c.secrets}
	for _, p := range c.paths {
		if strings.EqualFold(p[0], k) {
			if len(p) == 1 {
				return out, true
			}
			out.paths = append(out.paths, p[1:])
		}
	}
	if c.inPassword && strings.EqualFold(k, "value") {
		return out, true
	}
	if kind&kindJWK != 0 && isJWKPrivate(k) || kind&kindSession != 0 && k == "id" {
		return out, true
	}
	if name, ok := sensitiveName(k); ok {
		// A password object keeps its shape ("hash", "hook", "value"), which
		// tells an investigator how the password was set; other credential
		// objects are masked whole.
		if _, obj := v.(map[string]any); obj && name == "password" {
			out.inPassword = true
			return out, false
		}
		return out, true
	}
	return out, false
}

// maskString reports whether a string value is itself a secret, whatever
// its key: a URL that carries one, or one of the record's secret values.
func (c maskCtx) maskString(s string) bool {
	return c.m != nil && (secretURL(s) || len(c.secrets) > 0 && containsSecret(s, c.secrets))
}

// appendValue encodes v as canonical JSON, masking what c says to.
func appendValue(b []byte, v any, c maskCtx) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		if c.maskString(v) {
			return c.m.appendMaskedString(b, v)
		}
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case float64:
		return appendFloat(b, v)
	case float32:
		return appendFloat(b, float64(v))
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return strconv.AppendInt(b, i, 10)
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return append(b, "null"...)
		}
		return appendFloat(b, f)
	case map[string]any:
		var scratch [16]entry[any]
		entries := sortedEntries(v, scratch[:])
		var kind objKind
		if c.m != nil {
			kind = kindOf(entries)
		}
		b = append(b, '{')
		for i, e := range entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e.k)
			b = append(b, ':')
			cc, whole := c.child(e.k, e.v, kind)
			if whole && e.v != nil {
				b = c.m.appendMasked(b, e.v)
			} else {
				b = appendValue(b, e.v, cc)
			}
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e, c) // arrays are transparent to mask paths
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if c.maskString(e) {
				b = c.m.appendMaskedString(b, e)
			} else {
				b = appendString(b, e)
			}
		}
		return append(b, ']')
	case map[string]string:
		if c.m == nil {
			return appendStringMap(b, v)
		}
	}
	n, ok := normalize(v)
	if !ok {
		return append(b, "null"...)
	}
	return appendValue(b, n, c)
}

// appendResource encodes Record.Resource: the ids acted on, in clear but
// for those under a sensitive key (a session id), which are masked like
// params so that an investigator with the key can still correlate them.
// It returns those secret values too (nil, without allocating, for most
// calls).
func appendResource(b []byte, res map[string]string, m *masker) ([]byte, []string) {
	var scratch [8]entry[string]
	var secrets []string
	b = append(b, '{')
	for i, e := range sortedEntries(res, scratch[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, e.k)
		b = append(b, ':')
		if e.v != "" && isSensitiveKey(e.k) {
			b = m.appendMaskedString(b, e.v)
			secrets = append(secrets, e.v)
		} else {
			b = appendString(b, e.v)
		}
	}
	return append(b, '}'), secrets
}

// splitPaths turns Record.Mask's dotted paths into segments.
func splitPaths(paths []string) [][]string {
	out := make([][]string, 0, len(paths))
	for _, p := range paths {
		// "params.body.x" and "body.x" name the same field.
		if p = strings.TrimPrefix(strings.TrimSpace(p), "params."); p != "" {
			out = append(out, strings.Split(p, "."))
		}
	}
	return out
}

// MaskedParams returns params as the record of a call with these path
// parameters (resource) and mask obligation paths holds them, as canonical
// JSON: credential fields, the paths and the values of secret path
// parameters replaced by their HMAC. For showing a call to a person (an
// approver) exactly as the audit log shows it, never more.
func (l *Logger) MaskedParams(params map[string]any, resource map[string]string, paths []string) []byte {
	_, secrets := appendResource(nil, resource, l.masker)
	c := maskCtx{m: l.masker, secrets: secrets}
	if len(paths) > 0 {
		c.paths = splitPaths(paths)
	}
	if params == nil {
		return []byte("{}")
	}
	return appendValue(nil, params, c)
}
