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

// sensitiveKeys are the object keys whose values carry credentials wherever
// they appear in a request (compared case-insensitively). They are Okta's
// names: user credentials, recovery answers, factor enrolment and
// verification, app client credentials and keys.
var sensitiveKeys = []string{
	"password", "answer", "secret", "sharedSecret", "passCode", "token",
	"accessToken", "refreshToken", "activationToken", "clientSecret",
	"privateKey", "apiKey", "otp", "verificationCode",
}

func isSensitiveKey(k string) bool {
	if len(k) < 3 || len(k) > 16 { // the shortest and longest names above
		return false
	}
	for _, s := range sensitiveKeys {
		if len(s) == len(k) && strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

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
}

// child returns what applies to the value under key k, and whether that
// whole value is to be masked.
func (c maskCtx) child(k string, v any) (maskCtx, bool) {
	if c.m == nil {
		return c, false
	}
	out := maskCtx{m: c.m, inPassword: c.inPassword}
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
	if isSensitiveKey(k) {
		// A password object keeps its shape ("hash", "hook", "value"), which
		// tells an investigator how the password was set; other credential
		// objects are masked whole.
		if _, obj := v.(map[string]any); obj && strings.EqualFold(k, "password") {
			out.inPassword = true
			return out, false
		}
		return out, true
	}
	return out, false
}

// appendValue encodes v as canonical JSON, masking what c says to.
func appendValue(b []byte, v any, c maskCtx) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
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
		b = append(b, '{')
		for i, e := range sortedEntries(v, scratch[:]) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e.k)
			b = append(b, ':')
			cc, whole := c.child(e.k, e.v)
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
		return appendStrings(b, v)
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
