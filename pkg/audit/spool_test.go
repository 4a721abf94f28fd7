package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// switchWriter is a log pipe that can break and come back.
type switchWriter struct {
	mu     sync.Mutex
	broken bool
	buf    bytes.Buffer
}

func (w *switchWriter) set(broken bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.broken = broken
}

func (w *switchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.broken {
		return 0, errors.New("broken pipe")
	}
	return w.buf.Write(p)
}

func (w *switchWriter) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

// TestSpoolKeepsARecordUntilASinkTakesIt: while the only sink is broken, a
// spooled record waits on disk, masked; once the sink is back it is written
// into the chain with its original time and detail.spooled.
func TestSpoolKeepsARecordUntilASinkTakesIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := &switchWriter{broken: true}
		path := filepath.Join(t.TempDir(), "audit.spool")
		l := newTestLogger(t, WithStdout(w), WithSpool(path, 0), WithSpoolRetry(time.Second))
		r := sampleRecord()
		r.Kind = KindOutcome
		if err := l.Write(t.Context(), r); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("write to a broken sink: %v", err)
		}
		if err := l.Spool(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		if n := l.Pending(); n != 1 {
			t.Fatalf("pending = %d, want 1", n)
		}
		onDisk := readFile(t, path)
		if bytes.Contains(onDisk, []byte("hunter2")) || !bytes.Contains(onDisk, []byte(maskPrefix)) {
			t.Fatalf("spool holds %s", onDisk)
		}
		time.Sleep(5 * time.Second) // retries while the sink stays broken
		synctest.Wait()
		if n := l.Pending(); n != 1 || len(w.Bytes()) != 0 {
			t.Fatalf("pending = %d, written %q while the sink is broken", n, w.Bytes())
		}

		w.set(false)
		time.Sleep(time.Second)
		synctest.Wait()
		if n := l.Pending(); n != 0 {
			t.Fatalf("pending = %d after the sink came back", n)
		}
		out := w.Bytes()
		mustVerify(t, bytes.NewReader(out), 1)
		rec := decodeLines(t, out)[0]
		if rec["kind"] != KindOutcome || rec["timestamp"] != "2026-11-28T10:00:00.123456Z" || rec["detail"].(map[string]any)["spooled"] != true {
			t.Errorf("written from the spool: %v", rec)
		}
		if st := l.Stats(); st.Spooled != 1 || st.Pending != 0 {
			t.Errorf("stats = %+v", st)
		}
		if data := readFile(t, path); len(data) != 0 {
			t.Errorf("spool still holds %q", data)
		}
	})
}

// TestSpoolSurvivesARestart: records left in the spool file when the
// process stops are written by the next one, in order.
func TestSpoolSurvivesARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.spool")
	first, err := New(WithHMACKey(testKey), WithStdout(failingWriter{}), WithSpool(path, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"dec-1", "dec-2"} {
		r := sampleRecord()
		r.DecisionID = id
		if err := first.Spool(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A crash tore a third record that Spool never returned for.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"timestamp":"2026-`)
	f.Close()

	var out tooltest.Buffer
	second := newTestLogger(t, WithStdout(&out), WithSpool(path, 0))
	if err := second.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := decodeLines(t, out.Bytes())
	if len(recs) != 2 || recs[0]["decision_id"] != "dec-1" || recs[1]["decision_id"] != "dec-2" {
		t.Fatalf("written after the restart: %v", recs)
	}
	mustVerify(t, bytes.NewReader(out.Bytes()), 2)
}

// TestSpoolIsBounded: a full spool refuses, and says so.
func TestSpoolIsBounded(t *testing.T) {
	l := newTestLogger(t, WithStdout(failingWriter{}), WithSpool("", 4096))
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = l.Spool(t.Context(), sampleRecord())
	}
	if !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("spooling past the bound: %v", err)
	}
	if n := l.Pending(); n == 0 || n >= 10 {
		t.Errorf("pending = %d", n)
	}
}

func TestSpoolOptionsAreChecked(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "audit.log")
	_, err := New(WithHMACKey(testKey), WithFile(file, 0, 0), WithSpool(file, -1))
	for _, want := range []string{"negative", "also a sink's file"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
