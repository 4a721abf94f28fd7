package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

const every = time.Minute

// writeAt writes n records stamped now (the bubble's clock).
func writeAt(t *testing.T, l *Logger, n int) {
	t.Helper()
	for range n {
		r := sampleRecord()
		r.Time = time.Time{}
		if err := l.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
}

// tick lets one checkpoint interval pass and the sinks write its checkpoint.
func tick(d time.Duration) {
	time.Sleep(d) // the bubble's clock: no real wait
	synctest.Wait()
}

func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	data := readFile(t, path)
	return bytes.SplitAfter(data, []byte("\n"))[:bytes.Count(data, []byte("\n"))]
}

func kinds(t *testing.T, ls [][]byte) string {
	t.Helper()
	var out []string
	for _, m := range decodeLines(t, bytes.Join(ls, nil)) {
		k := m["kind"].(string)
		if k == KindCheckpoint {
			k = "C:" + m["detail"].(map[string]any)["reason"].(string)
		}
		out = append(out, k)
	}
	return strings.Join(out, " ")
}

// verifyFiles runs VerifyFiles and returns what it printed, followed by
// its error.
func verifyFiles(t *testing.T, o VerifyOptions, files ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := VerifyFiles(t.Context(), files, o, &out)
	if err != nil {
		return out.String() + err.Error(), err
	}
	return out.String(), nil
}

// at is a clock stopped at t.
func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// TestCheckpoints: a checkpoint every interval, idle or not, and one at
// Close; each seals the record before it, and its head is reported.
func TestCheckpoints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.log")
		var mu sync.Mutex
		var seen []Checkpoint
		l := newTestLogger(t, WithFile(path, 0, 0), WithCheckpointInterval(every),
			WithCheckpointObserver(func(c Checkpoint) { mu.Lock(); seen = append(seen, c); mu.Unlock() }))
		writeAt(t, l, 3)
		tick(every)
		tick(every) // idle: a heartbeat all the same
		writeAt(t, l, 2)
		if err := l.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		ls := lines(t, path)
		if got, want := kinds(t, ls), "C:start call call call C:interval C:interval call call C:close"; got != want {
			t.Fatalf("records: %s, want %s", got, want)
		}
		if len(seen) != 4 {
			t.Fatalf("observer saw %d checkpoints, want 4", len(seen))
		}
		recs := decodeLines(t, bytes.Join(ls, nil))
		for i, c := range seen {
			idx := int(c.Seq) - 1
			rec := recs[idx]
			if c.Hash != rec["hash"] || c.HeadHash != rec["prev_hash"] || c.HeadSeq != c.Seq-1 {
				t.Errorf("checkpoint %d = %+v does not match record %v", i, c, rec)
			}
			if c.Sink != "file:"+path || c.Interval != every {
				t.Errorf("checkpoint %d = %+v", i, c)
			}
		}
		var since []uint64
		for _, c := range seen {
			since = append(since, c.RecordsSince)
		}
		if fmt.Sprint(since) != "[0 3 0 2]" {
			t.Errorf("records_since = %v, want [0 3 0 2]", since)
		}
		if seen[0].HeadHash != genesis || seen[0].Reason != SealStart {
			t.Errorf("first checkpoint = %+v, want the genesis head sealed at start", seen[0])
		}
		if cs := l.Checkpoints(); len(cs) != 1 || cs[0] != seen[3] {
			t.Errorf("Checkpoints() = %+v, want the last one seen", cs)
		}
		if bytes.Contains(bytes.Join(ls, nil), testKey) {
			t.Error("the HMAC key is in the log")
		}
		// Checkpoints are not counted as records written.
		if st := l.Stats(); st.Sinks[0].Written != 5 {
			t.Errorf("stats = %+v, want 5 records written", st)
		}
		out, err := verifyFiles(t, VerifyOptions{Key: testKey, HeadSeq: seen[3].Seq, HeadHash: seen[3].Hash,
			MaxAge: 2 * time.Minute, Now: at(time.Now())}, path)
		if err != nil {
			t.Fatal(out)
		}
		if !strings.Contains(out, "last checkpoint seq 9") || !strings.Contains(out, "MAC checked") {
			t.Errorf("summary does not report the last seal:\n%s", out)
		}
	})
}

// A file whose last whole records were cut is still a valid chain: Verify
// alone passes it. An exported head, or the age of the last seal, finds it.
func TestCutTail(t *testing.T) {
	dir := t.TempDir()
	path, cut, newer := filepath.Join(dir, "audit.log"), filepath.Join(dir, "cut.log"), filepath.Join(dir, "newer.log")
	var head Checkpoint
	var now time.Time
	synctest.Test(t, func(t *testing.T) {
		l := newTestLogger(t, WithFile(path, 0, 0), WithCheckpointInterval(every))
		for range 3 {
			writeAt(t, l, 2)
			tick(every)
		}
		writeAt(t, l, 2)
		head = l.Checkpoints()[0] // seq 10, the third interval's
		synctest.Wait()
		now = time.Now().Add(30 * time.Second) // the sidecar is still running
		ls := lines(t, path)
		if got, want := kinds(t, ls), "C:start call call C:interval call call C:interval call call C:interval call call"; got != want {
			t.Fatalf("records: %s, want %s", got, want)
		}
		// Back to before the second interval's checkpoint: the last 6
		// whole records.
		if err := os.WriteFile(cut, bytes.Join(ls[:6], nil), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(newer, bytes.Join(ls[10:], nil), 0o600); err != nil {
			t.Fatal(err)
		}
		if n, err := Verify(bytes.NewReader(readFile(t, cut))); err != nil || n != 6 {
			t.Fatalf("Verify = %d, %v: the cut file should pass the chain alone", n, err)
		}
	})
	for _, tc := range []struct {
		name string
		o    VerifyOptions
		file string
		want string // "" for success
	}{
		{"intact, all checks", VerifyOptions{Key: testKey, HeadSeq: head.Seq, HeadHash: head.Hash, MaxAge: 90 * time.Second, Now: at(now)}, path, ""},
		{"chain alone", VerifyOptions{}, cut, ""},
		{"head", VerifyOptions{HeadSeq: head.Seq, HeadHash: head.Hash}, cut, "truncated record: the records end at seq 6, before the head given (seq 10)"},
		{"max age", VerifyOptions{Key: testKey, MaxAge: 90 * time.Second, Now: at(now)}, cut, "truncated record: the last checkpoint (seq 4 at"},
		{"head of another chain", VerifyOptions{HeadSeq: 4, HeadHash: strings.Repeat("ab", 32)}, path, "seq 4 has another hash"},
		{"head before the files", VerifyOptions{HeadSeq: head.Seq, HeadHash: head.Hash}, newer, "before the first record given (seq 11)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := verifyFiles(t, tc.o, tc.file)
			if (tc.want == "") != (err == nil) || !strings.Contains(out, tc.want) {
				t.Errorf("verify %s with %+v:\n%s\nwant %q", tc.file, tc.o, out, tc.want)
			}
		})
	}
}

// Someone without the key cuts the tail and appends records of their own
// with a valid chain: the records after the last seal span more than its
// interval, and no checkpoint can be forged for them.
func TestUnsealedTail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.log")
		l := newTestLogger(t, WithFile(path, 0, 0), WithCheckpointInterval(every))
		writeAt(t, l, 2)
		tick(every)
		writeAt(t, l, 2)
		tick(every)
		l.Close(t.Context())
		ls := lines(t, path)
		forged := filepath.Join(t.TempDir(), "forged.log")
		os.WriteFile(forged, bytes.Join(ls[:4], nil), 0o600) // up to the first interval's checkpoint
		// The forger's appender: the same code, no checkpoints.
		f := newTestLogger(t, WithFile(forged, 0, 0))
		writeAt(t, f, 1)
		time.Sleep(2 * every)
		writeAt(t, f, 1)
		f.Close(t.Context())
		if _, err := Verify(bytes.NewReader(readFile(t, forged))); err != nil {
			t.Fatalf("the forged chain does not verify: %v", err)
		}
		out, err := verifyFiles(t, VerifyOptions{MaxAge: 10 * time.Minute, Now: at(time.Now())}, forged)
		if err == nil || !strings.Contains(out, "2 record(s) after the last checkpoint (seq 4") {
			t.Errorf("verify:\n%s\nwant an unsealed tail", out)
		}
	})
}

// A checkpoint is checked with the key: a forged or edited one fails, even
// when the chain was rehashed around it.
func TestForgedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	synctest.Test(t, func(t *testing.T) {
		l := newTestLogger(t, WithFile(path, 0, 0), WithCheckpointInterval(every))
		writeAt(t, l, 2)
		tick(every)
		writeAt(t, l, 1)
		l.Close(t.Context())
	})
	ls := lines(t, path)
	last := len(ls) - 1 // the close checkpoint
	edit := func(old, new string) string {
		e := make([][]byte, len(ls))
		copy(e, ls)
		e[last] = rehash(t, bytes.Replace(ls[last], []byte(old), []byte(new), 1))
		p := filepath.Join(t.TempDir(), "edited.log")
		os.WriteFile(p, bytes.Join(e, nil), 0o600)
		return p
	}
	later := edit(`"timestamp":"2000`, `"timestamp":"2001`) // a fresher seal, to pass --max-age
	wrongHead := edit(`"head_seq":5`, `"head_seq":4`)
	other := []byte("another key, 32 bytes long......")
	for _, tc := range []struct {
		name string
		key  []byte
		file string
		want string
	}{
		{"intact", testKey, path, ""},
		{"wrong key", other, path, "line 1 (seq 1): seal record: the checkpoint's MAC does not match"},
		{"edited, without the key", nil, later, ""},
		{"edited, with the key", testKey, later, "seal record: the checkpoint's MAC does not match"},
		{"wrong head", nil, wrongHead, "seal record: the checkpoint names head seq 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := verifyFiles(t, VerifyOptions{Key: tc.key}, tc.file)
			if (tc.want == "") != (err == nil) || !strings.Contains(out, tc.want) {
				t.Errorf("verify %s:\n%s\nwant %q", tc.file, out, tc.want)
			}
		})
	}
}

// A key file is read as the sidecar reads audit.hmac_key_file, and a head
// as the sidecar exports it; `sidecar audit verify` reads its flags with
// these (cmd/sidecar tests the flags).
func TestParseKeyAndHead(t *testing.T) {
	if key, err := ParseKey(append(append([]byte(" "), testKey...), '\n')); err != nil || !bytes.Equal(key, testKey) {
		t.Errorf("ParseKey = %q, %v; want the key without the white space around it", key, err)
	}
	if _, err := ParseKey([]byte("short\n")); err == nil || !strings.Contains(err.Error(), "want at least 16") {
		t.Errorf("ParseKey of a short key: %v", err)
	}
	if _, _, err := ParseHead("12"); err == nil || !strings.Contains(err.Error(), "want SEQ:HASH") {
		t.Errorf("ParseHead without a hash: %v", err)
	}
	c := Checkpoint{Seq: 10, Hash: strings.Repeat("ab", 32)}
	if seq, hash, err := ParseHead(c.Head()); err != nil || seq != c.Seq || hash != c.Hash {
		t.Errorf("ParseHead(%q) = %d, %q, %v: not the head exported", c.Head(), seq, hash, err)
	}
}

// Rotation: the chain and its checkpoints run on across files, and the
// files verify together with every check.
func TestCheckpointsAcrossRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.log")
		l := newTestLogger(t, WithFile(path, 4096, 3), WithCheckpointInterval(every))
		for range 4 {
			writeAt(t, l, 2)
			tick(every)
		}
		l.Close(t.Context())
		head := l.Checkpoints()[0]
		files := []string{path + ".3", path + ".2", path + ".1", path}
		withSeal := 0
		for _, f := range files {
			if bytes.Contains(readFile(t, f), checkpointKind) {
				withSeal++
			}
		}
		if withSeal < 2 {
			t.Errorf("checkpoints in %d file(s), want several", withSeal)
		}
		out, err := verifyFiles(t, VerifyOptions{Key: testKey, HeadSeq: head.Seq, HeadHash: head.Hash,
			MaxAge: time.Minute, Now: at(time.Now())}, files...)
		if err != nil || strings.Count(out, "continues") != 3 {
			t.Errorf("verify:\n%s", out)
		}
	})
}

// A restarted sink seals the head it resumes before it adds to it.
func TestCheckpointOnResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.log")
		first, err := New(WithHMACKey(testKey), WithFile(path, 0, 0)) // no checkpoints: a crash leaves it like this
		if err != nil {
			t.Fatal(err)
		}
		writeAt(t, first, 2)
		first.Close(t.Context())
		l := newTestLogger(t, WithFile(path, 0, 0), WithCheckpointInterval(every))
		writeAt(t, l, 1)
		l.Close(t.Context())
		if got, want := kinds(t, lines(t, path)), "call call C:start call C:close"; got != want {
			t.Fatalf("records: %s, want %s", got, want)
		}
		var d map[string]any
		json.Unmarshal(lines(t, path)[2], &d)
		if det := d["detail"].(map[string]any); det["head_seq"] != float64(2) || det["records_since"] != float64(0) {
			t.Errorf("start checkpoint detail = %v", det)
		}
		if out, err := verifyFiles(t, VerifyOptions{Key: testKey}, path); err != nil {
			t.Error(out)
		}
	})
}

func TestVerifyWith(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out tooltest.Buffer
		l := newTestLogger(t, WithStdout(&out), WithCheckpointInterval(every))
		writeAt(t, l, 3)
		l.Close(t.Context())
		now := time.Now()
		sum, err := VerifyWith(bytes.NewReader(out.Bytes()), VerifyOptions{Key: testKey, MaxAge: time.Second,
			Now: func() time.Time { return now }})
		if err != nil || sum.Records != 5 || sum.Seals != 2 || !sum.Authenticated || sum.LastSeal.Reason != SealClose {
			t.Errorf("VerifyWith = %+v, %v", sum, err)
		}
		_, err = VerifyWith(bytes.NewReader(out.Bytes()), VerifyOptions{MaxAge: time.Second,
			Now: func() time.Time { return now.Add(time.Minute) }})
		if ce, ok := err.(*ChainError); !ok || ce.Problem != ProblemTruncated {
			t.Errorf("VerifyWith a minute later = %v, want a stale seal", err)
		}
	})
}

func TestCheckpointIntervalNegative(t *testing.T) {
	if _, err := New(WithHMACKey(testKey), WithStdout(&tooltest.Buffer{}), WithCheckpointInterval(-time.Second)); err == nil ||
		!strings.Contains(err.Error(), "negative") {
		t.Errorf("New = %v", err)
	}
}
