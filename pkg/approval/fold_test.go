package approval

import (
	"strings"
	"testing"
)

// foldPool holds the strings that make case folding hard: ASCII cases,
// runes that fold into ASCII (the Kelvin sign, the long s), orbits of
// three or more (sigma, the titlecase digraphs, mu), a rune with no
// simple fold of the obvious kind (dotted I), invalid bytes (which
// EqualFold reads as U+FFFD) and U+FFFD itself.
var foldPool = []string{
	"", "a", "A", "k", "K", "\u212a", "s", "S", "\u017f", "ß", "\u1e9e", "σ", "Σ", "ς", "\u01c4", "\u01c5", "\u01c6",
	"µ", "μ", "Μ", "i", "I", "\u0130", "\u0131", "\xff", "\xfe", "\ufffd", "@", "ann@example.com", "ANN@Example.COM",
}

// foldKey(a) == foldKey(b) exactly when strings.EqualFold(a, b): on every
// pair of strings made of two pieces of the pool.
func TestFoldKeyIsEqualFold(t *testing.T) {
	var all []string
	for _, a := range foldPool {
		for _, b := range foldPool {
			all = append(all, a+b)
		}
	}
	for _, a := range all {
		for _, b := range all {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Fatalf("%q, %q: same fold key %v, EqualFold %v", a, b, got, want)
			}
		}
	}
	if hexFold("") != "" || hexFold("a") == "" {
		t.Error("hexFold must be empty for the empty string alone")
	}
}

func FuzzFoldKey(f *testing.F) {
	for _, a := range foldPool {
		f.Add(a, strings.ToUpper(a))
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
			t.Fatalf("%q, %q: same fold key %v, EqualFold %v", a, b, got, want)
		}
	})
}
