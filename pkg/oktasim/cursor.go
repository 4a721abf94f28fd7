package oktasim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// Okta's after cursors are opaque: a client must follow the rel="next" link,
// not build a cursor from an id. The simulator makes its cursors opaque too,
// so that a client that builds one fails here as it would at Okta: a cursor
// is base64url(key || mac), where key is the position (the last id of the
// page, or a System Log sequence number) and mac an HMAC over the list's path
// and the key under the Sim's secret. Binding the path keeps a cursor of one
// list from being replayed on another. The position is a key rather than an
// offset, so a page starts right after the last object seen even when objects
// were created or deleted in between.

// cursorMACLen is the bytes of HMAC-SHA256 kept: 96 bits is far beyond
// guessing, and keeps a cursor near 50 characters.
const cursorMACLen = 12

func cursorMAC(secret []byte, path, key string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("cursor\x00"))
	m.Write([]byte(path))
	m.Write([]byte{0})
	m.Write([]byte(key))
	return m.Sum(nil)[:cursorMACLen]
}

// sealCursor turns a position in the list at path into an after value.
func sealCursor(secret []byte, path, key string) string {
	raw := append([]byte(key), cursorMAC(secret, path, key)...)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// openCursor returns the position an after value names, false when the value
// was not made by sealCursor for this list.
func openCursor(secret []byte, path, cursor string) (string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) <= cursorMACLen {
		return "", false
	}
	key, mac := string(raw[:len(raw)-cursorMACLen]), raw[len(raw)-cursorMACLen:]
	if !hmac.Equal(mac, cursorMAC(secret, path, key)) {
		return "", false
	}
	return key, true
}
