package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

func TestRotation(t *testing.T) {
	const maxBytes, backups = 4096, 2
	path := filepath.Join(t.TempDir(), "audit.log")
	var all tooltest.Buffer
	l := newTestLogger(t, WithFile(path, maxBytes, backups), WithStdout(&all))
	const n = 40 // about 1 KiB each: several rotations
	for range n {
		if err := l.Write(t.Context(), sampleRecord()); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	files := []string{path + ".2", path + ".1", path}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > maxBytes {
			t.Errorf("%s has %d bytes, limit %d", f, st.Size(), maxBytes)
		}
		if st.Mode().Perm() != fileMode {
			t.Errorf("%s mode %v", f, st.Mode())
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("%s.3 exists: more than %d backups kept", path, backups)
	}
	var out bytes.Buffer
	if err := VerifyFiles(t.Context(), files, VerifyOptions{}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if strings.Count(out.String(), "continues") != 2 {
		t.Errorf("files not linked:\n%s", out.String())
	}
	// The kept files are exactly the tail of what stdout saw.
	var kept []byte
	for _, f := range files {
		kept = append(kept, readFile(t, f)...)
	}
	if !bytes.HasSuffix(all.Bytes(), kept) {
		t.Error("the rotated files are not the last records written")
	}
}

func TestRecordLargerThanLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := newTestLogger(t, WithFile(path, 100, 1))
	for range 2 {
		if err := l.Write(t.Context(), sampleRecord()); err != nil {
			t.Fatal(err)
		}
	}
	l.Close(t.Context())
	var out bytes.Buffer
	if err := VerifyFiles(t.Context(), []string{path + ".1", path}, VerifyOptions{}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

func TestRestartContinuesChain(t *testing.T) {
	for _, tc := range []struct {
		name     string
		between  func(t *testing.T, path string) // what happens while stopped
		problem  string                          // what Verify then reports, if anything
		maxBytes int64
	}{
		{name: "clean"},
		{name: "torn last line", between: func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(`{"timestamp":"2026-`) // a crash mid-write
			f.Close()
		}, problem: ProblemMalformed},
		{name: "rotated, new file empty", maxBytes: 1 << 20, between: func(t *testing.T, path string) {
			os.Rename(path, path+".1")
			os.WriteFile(path, nil, fileMode)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.log")
			opts := []Option{WithHMACKey(testKey), WithFile(path, tc.maxBytes, 1)}
			for run := range 2 {
				l, err := New(opts...)
				if err != nil {
					t.Fatal(err)
				}
				for range 3 {
					if err := l.Write(t.Context(), sampleRecord()); err != nil {
						t.Fatal(err)
					}
				}
				if err := l.Close(t.Context()); err != nil {
					t.Fatal(err)
				}
				if run == 0 && tc.between != nil {
					tc.between(t, path)
				}
			}
			var data []byte
			if _, err := os.Stat(path + ".1"); err == nil {
				data = readFile(t, path+".1")
			}
			data = append(data, readFile(t, path)...)
			n, err := Verify(bytes.NewReader(data))
			if tc.problem == "" {
				if err != nil || n != 6 {
					t.Fatalf("Verify = %d, %v; want 6 records in one chain", n, err)
				}
				if recs := decodeLines(t, data); recs[5]["seq"] != float64(6) {
					t.Errorf("last seq = %v, want 6", recs[5]["seq"])
				}
				return
			}
			ce, ok := err.(*ChainError)
			if !ok || ce.Problem != tc.problem || ce.Line != 4 {
				t.Fatalf("Verify = %v, want %s at line 4", err, tc.problem)
			}
			// After the torn line, the chain goes on from the last whole record.
			lines := bytes.SplitAfter(data, []byte("\n"))
			mustVerify(t, bytes.NewReader(bytes.Join(append(lines[:3:3], lines[4:]...), nil)), 6)
		})
	}
}
