package approval

import (
	"encoding/hex"
	"unicode"
	"unicode/utf8"
)

// foldKey is s case-folded so that strings.EqualFold(a, b) holds exactly
// when foldKey(a) == foldKey(b): each rune (an invalid byte reads as
// utf8.RuneError, as EqualFold reads it) becomes the smallest rune of its
// unicode.SimpleFold orbit, the set EqualFold matches it against. The
// shared store's scripts compare emails by these keys, so that a vote is
// refused there for exactly the reasons it is refused in one process.
func foldKey(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = utf8.AppendRune(b, foldRune(r))
	}
	return string(b)
}

// foldRune is the smallest rune of r's orbit.
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// hexOf is how the scripts hold a string they compare: hex, so that no
// encoding on the way (JSON, the script's) can make two different strings
// equal or two equal ones different.
func hexOf(s string) string { return hex.EncodeToString([]byte(s)) }

// hexFold is hexOf(foldKey(s)), "" for "" (no email: no match by email).
func hexFold(s string) string {
	if s == "" {
		return ""
	}
	return hexOf(foldKey(s))
}
