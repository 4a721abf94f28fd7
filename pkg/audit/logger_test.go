package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

func TestWriteStdoutAndFile(t *testing.T) {
	var out tooltest.Buffer
	path := filepath.Join(t.TempDir(), "audit.log")
	l := newTestLogger(t, WithStdout(&out), WithFile(path, 0, 0))
	for i := range 3 {
		r := sampleRecord()
		r.DecisionID = fmt.Sprintf("dec-%d", i)
		if err := l.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	// Write returns once one sink has a record; Close waits for the rest.
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	fromFile, fromStdout := readFile(t, path), out.Bytes()
	if !bytes.Equal(fromFile, fromStdout) {
		t.Errorf("file and stdout differ:\n%s\n%s", fromFile, fromStdout)
	}
	recs := decodeLines(t, fromFile)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for i, r := range recs {
		if r["decision_id"] != fmt.Sprintf("dec-%d", i) || r["seq"] != float64(i+1) {
			t.Errorf("record %d: decision_id %v seq %v", i, r["decision_id"], r["seq"])
		}
	}
	first := recs[0]
	if first["prev_hash"] != genesis {
		t.Errorf("first prev_hash = %v, want genesis", first["prev_hash"])
	}
	if got := first["timestamp"]; got != "2026-11-28T10:00:00.123456Z" {
		t.Errorf("timestamp = %v", got)
	}
	if got := first["agent"].(map[string]any)["id"]; got != "onboarding-bot" {
		t.Errorf("agent.id = %v", got)
	}
	if got := first["okta"].(map[string]any)["status"]; got != float64(200) {
		t.Errorf("okta.status = %v", got)
	}
	if got := first["latency_us"]; got != float64(1234) {
		t.Errorf("latency_us = %v", got)
	}
	if bytes.Contains(fromFile, []byte("hunter2")) || bytes.Contains(fromFile, []byte("Rex")) {
		t.Error("a credential was written in clear")
	}
	mustVerify(t, bytes.NewReader(fromFile), 3)
	st := l.Stats()
	if st.Written != 3 || st.Failed != 0 || st.Sinks[0].Written != 3 || st.Sinks[1].Written != 3 {
		t.Errorf("stats = %+v", st)
	}
}

func TestReady(t *testing.T) {
	l := newTestLogger(t, WithStdout(&tooltest.Buffer{}))
	if err := l.Ready(); err != nil {
		t.Errorf("Ready = %v", err)
	}
	l.Close(t.Context())
	if err := l.Ready(); !errors.Is(err, ErrClosed) {
		t.Errorf("Ready after Close = %v", err)
	}
}

func TestRecordFieldOrderIsStable(t *testing.T) {
	var out tooltest.Buffer
	l := newTestLogger(t, WithStdout(&out))
	if err := l.Write(t.Context(), &Record{Time: testTime}); err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(out.Bytes()))
	want := `{"timestamp":"2026-11-28T10:00:00.123456Z","kind":"call","decision_id":"","trace_id":"","agent":{"id":"","auth_method":""},"front":"",` +
		`"action":"","area":"","access":"","destructive":false,"resource":{},"params":{},"result":"","deny_codes":[],"deny_reasons":[],` +
		`"obligations":{},"confirmation_used":false,"policy_revision":"","context":{},"dry_run":false,"shadow":null,"detail":{},"okta":{"status":0,"request_id":""},"latency_us":0,` +
		`"seq":1,"prev_hash":"` + genesis + `","hash":"`
	if !strings.HasPrefix(line, want) {
		t.Errorf("record:\n%s\nwant prefix:\n%s", line, want)
	}
}

// The stuck-sink tests run in a synctest bubble: the write timeout and the
// time a sink has been stuck are read from the bubble's clock, so they pass
// at once and measure exact durations instead of racing a real timer.

func TestStuckSinkDoesNotHangWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var good tooltest.Buffer
		const timeout = 100 * time.Millisecond
		l := newTestLogger(t, WithStdout(newBlockingWriter(t)), WithStdout(&good), WithWriteTimeout(timeout))
		start := time.Now()
		if err := l.Write(t.Context(), sampleRecord()); err != nil {
			t.Fatalf("Write = %v, want nil: the other sink has the record", err)
		}
		if d := time.Since(start); d >= timeout {
			t.Errorf("Write took %v: it waited for the stuck sink", d)
		}
		time.Sleep(2 * timeout) // the first write is now stuck for longer than the timeout
		for range 5 {
			if err := l.Write(t.Context(), sampleRecord()); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Ready(); err != nil {
			t.Errorf("Ready = %v, want nil: one sink is fine", err)
		}
		// Each Write returned once the good sink had its record.
		mustVerify(t, bytes.NewReader(good.Bytes()), 6)
		st := l.Stats()
		if st.Sinks[0].Healthy || st.Sinks[0].TimedOut != 5 || st.Sinks[0].Written != 0 || !st.Sinks[1].Healthy || st.Written != 6 {
			t.Errorf("stats = %+v", st)
		}
	})
}

func TestOnlySinkStuck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const timeout = 30 * time.Millisecond
		l := newTestLogger(t, WithStdout(newBlockingWriter(t)), WithWriteTimeout(timeout))
		start := time.Now()
		if err := l.Write(t.Context(), sampleRecord()); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Write = %v, want ErrUnavailable", err)
		}
		if d := time.Since(start); d != timeout {
			t.Errorf("Write took %v with a %v timeout", d, timeout)
		}
		// Now known to be stuck: not waited for again.
		start = time.Now()
		if err := l.Write(t.Context(), sampleRecord()); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Write = %v, want ErrUnavailable", err)
		}
		if d := time.Since(start); d != 0 { // waiting would take the whole timeout
			t.Errorf("Write to a known-stuck sink took %v", d)
		}
		if err := l.Ready(); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Ready = %v", err)
		}
		if st := l.Stats(); st.Failed != 2 || st.Sinks[0].TimedOut != 2 || st.Sinks[0].Healthy {
			t.Errorf("stats = %+v", st)
		}
	})
}

func TestAllSinksFailing(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		t.Run(fmt.Sprintf("failOpen=%v", failOpen), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				opts := []Option{WithStdout(failingWriter{}), WithStdout(newBlockingWriter(t)),
					WithWriteTimeout(20 * time.Millisecond), WithFailOpen(failOpen)}
				if _, err := os.Stat("/dev/full"); err == nil {
					opts = append(opts, WithFile("/dev/full", 0, 0)) // every write: ENOSPC
				}
				l := newTestLogger(t, opts...)
				for range 3 {
					err := l.Write(t.Context(), sampleRecord())
					if failOpen && err != nil {
						t.Fatalf("Write = %v, want nil when failing open", err)
					}
					if !failOpen && !errors.Is(err, ErrUnavailable) {
						t.Fatalf("Write = %v, want ErrUnavailable", err)
					}
				}
				st := l.Stats()
				if st.Failed != 3 || st.Written != 0 {
					t.Errorf("stats = %+v, want 3 failed", st)
				}
				for _, s := range st.Sinks {
					if s.Healthy || s.Written != 0 {
						t.Errorf("sink %+v", s)
					}
				}
				err := l.Ready()
				if failOpen != (err == nil) || !failOpen && !errors.Is(err, ErrUnavailable) {
					t.Errorf("Ready = %v with failOpen=%v", err, failOpen)
				}
			})
		})
	}
}

// flakyWriter fails while broken is set, as a full disk would.
type flakyWriter struct {
	tooltest.Buffer
	mu     sync.Mutex
	broken bool
}

func (w *flakyWriter) set(broken bool) { w.mu.Lock(); w.broken = broken; w.mu.Unlock() }

func (w *flakyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	broken := w.broken
	w.mu.Unlock()
	if broken {
		return 0, errors.New("no space left on device")
	}
	return w.Buffer.Write(p)
}

func TestSinkRecovers(t *testing.T) {
	w := &flakyWriter{broken: true}
	l := newTestLogger(t, WithStdout(w))
	if err := l.Write(t.Context(), sampleRecord()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Write = %v", err)
	}
	if l.Ready() == nil {
		t.Error("Ready = nil after a failed write")
	}
	w.set(false)
	for range 2 {
		if err := l.Write(t.Context(), sampleRecord()); err != nil {
			t.Fatalf("Write after recovery = %v", err)
		}
	}
	if err := l.Ready(); err != nil {
		t.Errorf("Ready = %v after a successful write", err)
	}
	// The failed record took no place in the chain.
	mustVerify(t, bytes.NewReader(w.Bytes()), 2)
}

func TestCloseFlushes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := New(WithHMACKey(testKey), WithFile(path, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range n / 4 {
				if err := l.Write(t.Context(), sampleRecord()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(readFile(t, path), []byte("\n")); got != n {
		t.Errorf("%d lines after Close, want %d", got, n)
	}
	if err := l.Write(t.Context(), sampleRecord()); !errors.Is(err, ErrClosed) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("Write after Close = %v", err)
	}
	if err := l.Close(t.Context()); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestCloseGivesUpOnStuckSink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newTestLogger(t, WithStdout(newBlockingWriter(t)), WithWriteTimeout(10*time.Millisecond), WithFailOpen(true))
		l.Write(t.Context(), sampleRecord())
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := l.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 20*time.Millisecond {
			t.Errorf("Close took %v, want its context's 20ms", d)
		}
	})
}

func TestConcurrentWritesKeepOneChain(t *testing.T) {
	var out tooltest.Buffer
	path := filepath.Join(t.TempDir(), "audit.log")
	l := newTestLogger(t, WithStdout(&out), WithFile(path, 64<<10, 3))
	const goroutines, each = 16, 100
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r := sampleRecord()
				r.DecisionID = fmt.Sprintf("g%d-%d", g, i)
				if err := l.Write(t.Context(), r); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, bytes.NewReader(out.Bytes()), goroutines*each)
	files := []string{path + ".3", path + ".2", path + ".1", path}
	var report bytes.Buffer
	if err := VerifyFiles(t.Context(), files, VerifyOptions{}, &report); err != nil {
		t.Fatalf("%v\n%s", err, report.String())
	}
	if got := strings.Count(report.String(), "continues"); got != 3 || !strings.Contains(report.String(), "chain intact") {
		t.Errorf("want 3 linked files, report:\n%s", report.String())
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		opts []Option
		want string
	}{
		{"no sink", []Option{WithHMACKey(testKey)}, "no sink"},
		{"no key", []Option{WithStdout(&bytes.Buffer{})}, "no HMAC key"},
		{"short key", []Option{WithStdout(&bytes.Buffer{}), WithHMACKey([]byte("short"))}, "at least 16"},
		{"timeout", []Option{WithStdout(&bytes.Buffer{}), WithHMACKey(testKey), WithWriteTimeout(0)}, "not positive"},
		{"no backups", []Option{WithFile(filepath.Join(dir, "a"), 100, 0), WithHMACKey(testKey)}, "keeps no backup"},
		{"twice", []Option{WithFile(filepath.Join(dir, "b"), 0, 0), WithFile(filepath.Join(dir, "b"), 0, 0), WithHMACKey(testKey)}, "twice"},
		{"missing dir", []Option{WithFile(filepath.Join(dir, "no", "such"), 0, 0), WithHMACKey(testKey)}, "open audit file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := New(tc.opts...)
			if err == nil {
				l.Close(t.Context())
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	l, err := New(WithStdout(&bytes.Buffer{}), WithRandomHMACKey())
	if err != nil {
		t.Fatalf("random key: %v", err)
	}
	l.Close(t.Context())
}

func TestObserverSeesEachSinksOutcome(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][2]int{}
	l := newTestLogger(t, WithStdout(io.Discard), WithStdout(failingWriter{}), WithObserver(func(sink string, written bool) {
		mu.Lock()
		defer mu.Unlock()
		c := seen[sink]
		if written {
			c[0]++
		} else {
			c[1]++
		}
		seen[sink] = c
	}))
	for range 3 {
		if err := l.Write(t.Context(), sampleRecord()); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var written, failed int
	for _, c := range seen {
		written += c[0]
		failed += c[1]
	}
	if written != 3 || failed != 3 {
		t.Errorf("observed %v: want 3 written by one sink and 3 failed by the other", seen)
	}
}
