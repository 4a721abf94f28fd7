package safetext

import "testing"

func TestLineAndBlock(t *testing.T) {
	for _, c := range []struct{ in, line, block string }{
		{"Carol Admin", "Carol Admin", "Carol Admin"},
		{"ok\u202Eevil", `ok\u202Eevil`, `ok\u202Eevil`},
		{"a\nb\tc", `a\u000Ab\u0009c`, "a\nb\tc"},
		{"\x1b[2Jwiped", `\u001B[2Jwiped`, `\u001B[2Jwiped`},
		{"zero\u200Dwidth\u2028sep\uFFFD", `zero\u200Dwidth\u2028sep\uFFFD`, `zero\u200Dwidth\u2028sep\uFFFD`},
		{"日本語 ümlaut", "日本語 ümlaut", "日本語 ümlaut"},
	} {
		if got := Line(c.in); got != c.line {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.line)
		}
		if got := Block(c.in); got != c.block {
			t.Errorf("Block(%q) = %q, want %q", c.in, got, c.block)
		}
	}
}
