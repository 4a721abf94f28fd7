package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ErrSpoolFull is returned by Spool when the spool holds its maximum.
var ErrSpoolFull = errors.New("audit spool full")

// Spool defaults: big enough for minutes of outcomes while every sink is
// down, small enough not to fill the pod's disk.
const (
	defaultSpoolMaxBytes = 64 << 20
	defaultSpoolRetry    = time.Second
)

// spool keeps records that no sink could take, to write them once one can.
// It holds encoded bodies (masked exactly as a sink would have written them,
// so nothing secret reaches the spool), one per line, in order; on disk when
// a path is set, so that they survive a restart, in memory otherwise.
//
// A record written from the spool joins each sink's chain at the point it
// is written, with its original timestamp and detail.spooled set.
type spool struct {
	path     string
	maxBytes int64
	retry    time.Duration

	mu    sync.Mutex // held across a drain, so that order is kept
	f     *os.File   // nil for a memory spool
	mem   [][]byte
	size  int64
	count atomic.Int64

	spooled   atomic.Uint64
	closeOnce sync.Once
	kick      chan struct{}
	stop      chan struct{}
	exited    chan struct{}
}

// WithSpool keeps records that Spool is given while no sink can take them
// in the file at path (created 0600; an existing one is written out first),
// up to maxBytes (0: 64 MiB), and writes them once a sink can. An empty path
// keeps them in memory: they are then lost if the process ends first.
func WithSpool(path string, maxBytes int64) Option {
	return func(o *options) { o.spoolPath, o.spoolMaxBytes, o.spool = path, maxBytes, true }
}

// WithSpoolRetry sets how often the spool tries to write what it holds
// (default 1s).
func WithSpoolRetry(d time.Duration) Option { return func(o *options) { o.spoolRetry = d } }

func openSpool(o options) (*spool, error) {
	sp := &spool{path: o.spoolPath, maxBytes: o.spoolMaxBytes, retry: o.spoolRetry,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{})}
	if sp.maxBytes == 0 {
		sp.maxBytes = defaultSpoolMaxBytes
	}
	if sp.retry <= 0 {
		sp.retry = defaultSpoolRetry
	}
	if sp.path == "" {
		return sp, nil
	}
	f, err := os.OpenFile(sp.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open audit spool: %w", err)
	}
	lines, err := readLines(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read audit spool %s: %w", sp.path, err)
	}
	sp.f = f
	for _, l := range lines {
		sp.size += int64(len(l)) + 1
	}
	if st, err := f.Stat(); err == nil && st.Size() != sp.size {
		if err := sp.rewrite(lines); err != nil { // drop a torn last line
			sp.f.Close()
			return nil, fmt.Errorf("repair audit spool %s: %w", sp.path, err)
		}
	}
	sp.count.Store(int64(len(lines)))
	if len(lines) > 0 {
		sp.kick <- struct{}{}
	}
	return sp, nil
}

// Spool keeps r to be written once a sink can take it, for a record that
// must not be lost but whose call has already happened (the outcome of a
// call Okta carried out): the caller answers, and the record follows. r is
// encoded now, masked, with its time (now when zero) and detail.spooled set.
// It returns an error wrapping ErrSpoolFull, or the spool file's, when the
// record could not be kept either.
func (l *Logger) Spool(ctx context.Context, r *Record) error {
	if r == nil {
		return errors.New("audit: nil record")
	}
	sp := l.spool
	if sp == nil {
		return errors.New("audit: no spool configured")
	}
	c := *r
	if c.Time.IsZero() {
		c.Time = l.opts.now()
	}
	c.Detail = make(map[string]any, len(r.Detail)+1)
	maps.Copy(c.Detail, r.Detail)
	c.Detail["spooled"] = true
	line := appendBody(nil, &c, c.Time, l.masker)
	if err := sp.add(line); err != nil {
		l.opts.log.Error("audit record could not be spooled", "kind", c.Kind, "decision_id", c.DecisionID, "error", err)
		return err
	}
	l.opts.log.Warn("audit record spooled: no sink could take it", "kind", c.Kind, "decision_id", c.DecisionID)
	select {
	case sp.kick <- struct{}{}:
	default:
	}
	return nil
}

func (sp *spool) add(line []byte) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.size+int64(len(line))+1 > sp.maxBytes {
		return fmt.Errorf("%w: %d bytes held", ErrSpoolFull, sp.size)
	}
	if sp.f != nil {
		// Durable before the caller answers: this is the only copy.
		if _, err := sp.f.Write(append(line, '\n')); err != nil {
			return fmt.Errorf("write audit spool: %w", err)
		}
		if err := sp.f.Sync(); err != nil {
			return fmt.Errorf("sync audit spool: %w", err)
		}
	} else {
		sp.mem = append(sp.mem, line)
	}
	sp.size += int64(len(line)) + 1
	sp.count.Add(1)
	sp.spooled.Add(1)
	return nil
}

// Pending returns how many spooled records wait for a sink.
func (l *Logger) Pending() int {
	if l.spool == nil {
		return 0
	}
	return int(l.spool.count.Load())
}

// runSpool writes the spool out whenever it is kicked or the retry
// interval passes, until Close.
func (l *Logger) runSpool() {
	sp := l.spool
	defer close(sp.exited)
	t := time.NewTicker(sp.retry)
	defer t.Stop()
	for {
		select {
		case <-sp.stop:
			return
		case <-sp.kick:
		case <-t.C:
		}
		if sp.count.Load() > 0 {
			l.drainSpool()
		}
	}
}

// drainSpool writes spooled records in order while a sink takes them, and
// keeps the rest.
func (l *Logger) drainSpool() {
	sp := l.spool
	sp.mu.Lock()
	defer sp.mu.Unlock()
	lines := sp.mem
	if sp.f != nil {
		var err error
		if lines, err = readLines(sp.f); err != nil {
			l.opts.log.Error("read audit spool", "error", err)
			return
		}
	}
	written := 0
	for _, line := range lines {
		// Tried even while every sink is unhealthy: a sink is healthy
		// again only after a write succeeds. A stuck one is not waited for.
		j := l.jobs.Get().(*job)
		j.reset()
		j.body = append(j.body[:0], line...)
		if l.send(j) != nil {
			break
		}
		written++
	}
	if written == 0 {
		return
	}
	rest := lines[written:]
	if sp.f != nil {
		if err := sp.rewrite(rest); err != nil {
			// The written records stay in the spool and are written again
			// next time: a duplicate, never a loss.
			l.opts.log.Error("rewrite audit spool", "error", err)
			return
		}
	} else {
		sp.mem = append(sp.mem[:0:0], rest...)
	}
	sp.size = 0
	for _, r := range rest {
		sp.size += int64(len(r)) + 1
	}
	sp.count.Store(int64(len(rest)))
	l.opts.log.Info("spooled audit records written", "records", written, "still_pending", len(rest))
}

// rewrite replaces the spool file's content with rest, atomically.
func (sp *spool) rewrite(rest [][]byte) error {
	tmp := sp.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, r := range rest {
		buf.Write(r)
		buf.WriteByte('\n')
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, sp.path); err != nil {
		return err
	}
	nf, err := os.OpenFile(sp.path, os.O_RDWR|os.O_APPEND, fileMode)
	if err != nil {
		return err
	}
	sp.f.Close()
	sp.f = nf
	return nil
}

// closeSpool stops the retries, writes out what a sink still takes, and
// closes the file; what is left stays in it for the next start.
func (l *Logger) closeSpool() error {
	sp := l.spool
	first := false
	sp.closeOnce.Do(func() { close(sp.stop); first = true })
	<-sp.exited
	if !first {
		return nil
	}
	if sp.count.Load() > 0 {
		l.drainSpool()
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if n := sp.count.Load(); n > 0 {
		if sp.f == nil {
			l.opts.log.Error("audit records lost: no sink took them before shutdown and the spool is in memory", "records", n)
		} else {
			l.opts.log.Warn("audit records left in the spool for the next start", "records", n, "spool", sp.path)
		}
	}
	if sp.f != nil {
		return sp.f.Close()
	}
	return nil
}

// readLines reads a spool file from its start. A last line without its
// newline was torn by a crash before Spool returned: its caller was never
// told it was kept, and it is dropped.
func readLines(f *os.File) ([][]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	var lines [][]byte
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, err
		}
		if len(line) > 1 {
			lines = append(lines, line[:len(line)-1])
		}
	}
}
