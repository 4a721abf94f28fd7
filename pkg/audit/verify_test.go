package audit

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// chainOf returns n records as one sink writes them, one line each.
func chainOf(t *testing.T, n int) [][]byte {
	t.Helper()
	var out tooltest.Buffer
	l := newTestLogger(t, WithStdout(&out))
	for i := range n {
		r := sampleRecord()
		r.DecisionID = fmt.Sprintf("dec-%d", i+1)
		if err := l.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	return bytes.SplitAfter(out.Bytes(), []byte("\n"))[:n]
}

// rehash recomputes a line's hash after an edit, as a careful forger would.
func rehash(t *testing.T, line []byte) []byte {
	lk, err := parseLink(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(line, []byte(lk.hash), []byte(lk.sum(sha256.New())), 1)
}

func TestVerify(t *testing.T) {
	for _, tc := range []struct {
		name     string
		edit     func(lines [][]byte) [][]byte
		line     int
		problems []string // any of these
		records  int      // verified before the problem
	}{
		{"intact", func(l [][]byte) [][]byte { return l }, 0, nil, 5},
		{"empty", func([][]byte) [][]byte { return nil }, 0, nil, 0},
		{"edited", func(l [][]byte) [][]byte {
			l[2] = bytes.Replace(l[2], []byte("onboarding-bot"), []byte("innocent-bot"), 1)
			return l
		}, 3, []string{ProblemBroken}, 2},
		{"edited and rehashed", func(l [][]byte) [][]byte {
			l[2] = rehash(t, bytes.Replace(l[2], []byte(`"result":"ok"`), []byte(`"result":"denied"`), 1))
			return l
		}, 4, []string{ProblemBroken}, 3},
		{"deleted", func(l [][]byte) [][]byte { return append(l[:2:2], l[3:]...) }, 3, []string{ProblemMissing}, 2},
		{"deleted first", func(l [][]byte) [][]byte { return l[1:] }, 0, nil, 4}, // anchored: Verify alone cannot tell
		{"reordered", func(l [][]byte) [][]byte { l[1], l[2] = l[2], l[1]; return l }, 2, []string{ProblemMissing, ProblemOrder}, 1},
		{"duplicated", func(l [][]byte) [][]byte { return append(l[:3:3], l[2:]...) }, 4, []string{ProblemOrder}, 3},
		{"truncated last line", func(l [][]byte) [][]byte { l[4] = l[4][:len(l[4])-20]; return l }, 5, []string{ProblemTruncated}, 4},
		{"last newline cut", func(l [][]byte) [][]byte { l[4] = l[4][:len(l[4])-1]; return l }, 5, []string{ProblemTruncated}, 4},
		{"garbage line", func(l [][]byte) [][]byte {
			return append(l[:1:1], append([][]byte{[]byte("hello\n")}, l[1:]...)...)
		}, 2, []string{ProblemMalformed}, 1},
		{"hash member moved", func(l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte(`{"timestamp"`), []byte(`{"hash":"x","timestamp"`), 1)
			return l
		}, 1, []string{ProblemBroken, ProblemMalformed}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Join(tc.edit(chainOf(t, 5)), nil)
			n, err := Verify(bytes.NewReader(data))
			if n != tc.records {
				t.Errorf("verified %d records, want %d", n, tc.records)
			}
			if tc.problems == nil {
				if err != nil {
					t.Fatalf("Verify = %v", err)
				}
				return
			}
			var ce *ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("Verify = %v, want a ChainError", err)
			}
			if ce.Line != tc.line || !contains(tc.problems, ce.Problem) {
				t.Errorf("Verify = %v (line %d, %s), want line %d, %v", err, ce.Line, ce.Problem, tc.line, tc.problems)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A restarted process starts a new chain on stdout; Verify accepts it.
func TestVerifyAcceptsNewChain(t *testing.T) {
	data := bytes.Join(append(chainOf(t, 3), chainOf(t, 2)...), nil)
	mustVerify(t, bytes.NewReader(data), 5)
}

func TestVerifyFiles(t *testing.T) {
	dir := t.TempDir()
	lines := chainOf(t, 6)
	write := func(name string, l [][]byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Join(l, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	older, newer := write("a.log.1", lines[:3]), write("a.log", lines[3:])
	gap := write("gap.log", lines[4:])
	edited := write("edited.log", [][]byte{lines[3], bytes.Replace(lines[4], []byte("dec-5"), []byte("dec-X"), 1)})
	for _, tc := range []struct {
		name  string
		files []string
		want  string // in the output, or in the error
		fails bool
	}{
		{"in order", []string{older, newer}, "ok: 6 records in 2 file(s)", false},
		{"newer alone is anchored", []string{newer}, "anchored to earlier records", false},
		{"wrong order", []string{newer, older}, "not in order", true},
		{"gap between files", []string{older, gap}, "does not continue", true},
		{"edited", []string{older, edited}, "edited.log line 2 (seq 5): broken record", true},
		{"missing file", []string{filepath.Join(dir, "nope")}, "no such file", true},
		{"no file", nil, "no file given", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := VerifyFiles(t.Context(), tc.files, VerifyOptions{InFlight: DefaultInFlight}, &out)
			if tc.fails != (err != nil) {
				t.Fatalf("VerifyFiles = %v\n%s", err, out.String())
			}
			text := out.String()
			if err != nil {
				text += err.Error()
			}
			if !strings.Contains(text, tc.want) {
				t.Errorf("output does not contain %q:\n%s", tc.want, text)
			}
		})
	}
}

// FuzzVerify: whatever a file holds, Verify answers without panicking.
func FuzzVerify(f *testing.F) {
	var out tooltest.Buffer
	l, err := New(WithHMACKey(testKey), WithStdout(&out))
	if err != nil {
		f.Fatal(err)
	}
	for range 2 {
		l.Write(f.Context(), sampleRecord())
	}
	l.Close(f.Context())
	f.Add(out.Bytes())
	f.Add([]byte("{}\n"))
	var sealed tooltest.Buffer
	if l, err = New(WithHMACKey(testKey), WithStdout(&sealed), WithCheckpointInterval(time.Minute)); err != nil {
		f.Fatal(err)
	}
	l.Write(f.Context(), sampleRecord())
	l.Close(f.Context())
	f.Add(sealed.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := Verify(bytes.NewReader(data))
		if err == nil && n > bytes.Count(data, []byte("\n")) {
			t.Fatalf("%d records from %d lines", n, bytes.Count(data, []byte("\n")))
		}
		// The sealed-tail checks read checkpoints' details too.
		sum, err := VerifyWith(bytes.NewReader(data), VerifyOptions{Key: testKey, HeadSeq: 2, HeadHash: genesis,
			MaxAge: time.Minute, Now: func() time.Time { return testTime }})
		if sum.Records != n || err == nil && sum.LastSeal == nil {
			t.Fatalf("VerifyWith = %+v, %v after Verify = %d", sum, err, n)
		}
	})
}
