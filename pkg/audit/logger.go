package audit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

var (
	// ErrUnavailable is returned by Write when no sink took the record, and
	// by Ready when no sink can. Fail-closed callers refuse the call.
	ErrUnavailable = errors.New("audit log unavailable")
	// ErrClosed is returned (wrapped in ErrUnavailable) after Close.
	ErrClosed = errors.New("audit log closed")
	// errTimeout marks a sink that did not finish within the write timeout.
	errTimeout = errors.New("write timed out")
)

// maxSinks is the width of the bit set Write keeps of the sinks it waits for.
const maxSinks = 64

// minKeyLen rejects keys short enough to guess.
const minKeyLen = 16

// Logger writes audit records to one or more sinks. It is safe for
// concurrent use.
type Logger struct {
	opts    options
	sinks   []*sink
	masker  *masker
	spool   *spool // nil without WithSpool
	sealKey []byte
	// stopSeal ends the checkpoint ticker at Close.
	stopSeal chan struct{}

	mu     sync.RWMutex // Write holds it shared while queueing; Close alone
	closed bool

	start   time.Time // clock's origin: time.Since reads the monotonic clock only
	jobs    sync.Pool
	timers  sync.Pool
	written atomic.Uint64
	failed  atomic.Uint64
}

// Stats counts records, for metrics.
type Stats struct {
	// Written counts records at least one sink took; Failed those none did
	// (Write returned ErrUnavailable, or nil when failing open).
	Written, Failed uint64
	// Spooled counts records kept by the spool because no sink could take
	// them; Pending those of them not yet written.
	Spooled uint64
	Pending int
	Sinks   []SinkStats
}

// SinkStats counts one sink's records.
type SinkStats struct {
	Name string
	// Written and Failed count the sink's own outcomes. TimedOut counts
	// records Write did not wait for because the sink was stuck, or gave up
	// on when no sink had them in time; those still queued are counted
	// again in Written or Failed when the sink gets to them.
	Written, Failed, TimedOut uint64
	// Healthy is false from a failed write, or one lasting longer than the
	// write timeout, until a write succeeds.
	Healthy bool
}

// New opens the sinks and starts one writer goroutine for each. Every
// problem with the options is reported at once.
func New(opts ...Option) (*Logger, error) {
	o := defaultOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	key := o.key
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key) // never fails on supported platforms
		o.log.Warn("audit masking uses a random per-process key; masked values cannot be compared across restarts")
	}
	l := &Logger{opts: o, masker: newMasker(key), sealKey: sealKey(key), start: time.Now(), stopSeal: make(chan struct{})}
	l.jobs.New = func() any { return newJob(len(o.sinks)) }
	writers := 0
	for i, spec := range o.sinks {
		var s *sink
		if spec.stdout != nil {
			writers++
			name := "stdout"
			if writers > 1 {
				name = fmt.Sprintf("stdout.%d", writers)
			}
			s = newSink(l, i, name, writerDest{spec.stdout}, o.queueLen)
		} else {
			d, err := openFileDest(spec, o.log.With("sink", "file:"+spec.path))
			if err != nil {
				l.closeDests()
				return nil, err
			}
			s = newSink(l, i, "file:"+spec.path, d, o.queueLen)
			s.resume(d)
			s.sealSeq = s.seq
		}
		if o.checkpointEvery > 0 {
			// The head found (genesis, or a resumed file's last record),
			// sealed before it grows: after a crash, the unsealed records
			// end here rather than run on into this process's.
			s.requestSeal(SealStart)
		}
		l.sinks = append(l.sinks, s)
	}
	if o.spool {
		sp, err := openSpool(o)
		if err != nil {
			l.closeDests()
			return nil, err
		}
		l.spool = sp
	}
	for _, s := range l.sinks {
		go s.run()
	}
	if l.spool != nil {
		go l.runSpool()
	}
	if o.checkpointEvery > 0 {
		go l.sealLoop(o.checkpointEvery)
	}
	return l, nil
}

func (o *options) validate() error {
	var errs []error
	if len(o.sinks) == 0 {
		errs = append(errs, errors.New("audit: no sink: add WithStdout or WithFile"))
	}
	if len(o.sinks) > maxSinks {
		errs = append(errs, fmt.Errorf("audit: at most %d sinks", maxSinks))
	}
	switch {
	case len(o.key) == 0 && !o.randomKey:
		errs = append(errs, errors.New("audit: no HMAC key: set WithHMACKey (or WithRandomHMACKey outside production)"))
	case len(o.key) > 0 && len(o.key) < minKeyLen:
		errs = append(errs, fmt.Errorf("audit: HMAC key has %d bytes, want at least %d", len(o.key), minKeyLen))
	}
	if o.checkpointEvery < 0 {
		errs = append(errs, fmt.Errorf("audit: checkpoint interval %v is negative", o.checkpointEvery))
	}
	if o.writeTimeout <= 0 {
		errs = append(errs, fmt.Errorf("audit: write timeout %v is not positive", o.writeTimeout))
	}
	paths := map[string]bool{}
	for _, s := range o.sinks {
		switch {
		case s.stdout != nil:
		case s.path == "":
			errs = append(errs, errors.New("audit: a sink has neither a writer nor a file path"))
		case paths[s.path]:
			errs = append(errs, fmt.Errorf("audit: file %s configured twice", s.path))
		case s.maxBytes < 0 || s.maxBackups < 0:
			errs = append(errs, fmt.Errorf("audit: file %s: negative size or backup count", s.path))
		case s.maxBytes > 0 && s.maxBackups < 1:
			errs = append(errs, fmt.Errorf("audit: file %s rotates but keeps no backup: records would be deleted at rotation", s.path))
		}
		paths[s.path] = s.path != ""
	}
	if o.spoolMaxBytes < 0 {
		errs = append(errs, fmt.Errorf("audit: spool size %d is negative", o.spoolMaxBytes))
	}
	if o.spool && o.spoolPath != "" && paths[o.spoolPath] {
		errs = append(errs, fmt.Errorf("audit: spool %s is also a sink's file", o.spoolPath))
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.log == nil {
		o.log = defaultOptions.log
	}
	return errors.Join(errs...)
}

// Write records r in every sink. It returns as soon as one sink has
// written the record to the operating system (no fsync); the others get it
// moments later, or count a failure. When no sink can take it within the
// write timeout, it returns an error wrapping ErrUnavailable, or nil when
// failing open. A sink stuck in a write is not waited for. ctx is not used
// to cancel: a cancelled call must still leave its record. r is not
// modified.
func (l *Logger) Write(ctx context.Context, r *Record) error {
	if r == nil {
		return errors.New("audit: nil record")
	}
	t := r.Time
	if t.IsZero() {
		t = l.opts.now()
	}
	j := l.jobs.Get().(*job)
	j.reset()
	j.body = appendBody(j.body[:0], r, t, l.masker)
	return l.send(j)
}

// send hands an encoded record to every sink and waits as Write says.
func (l *Logger) send(j *job) error {
	timer := l.timer()
	defer l.timers.Put(timer)
	defer timer.Stop()

	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		l.jobs.Put(j)
		return l.unavailable(ErrClosed)
	}
	j.refs.Store(int32(len(l.sinks)) + 1) // each sink, and this Write
	expired, waiting := false, 0
	for i, s := range l.sinks {
		if s.stuck(l.opts.writeTimeout) {
			l.offer(s, j) // written when the sink comes back; not waited for
			continue
		}
		j.waited.Or(1 << i)
		select {
		case s.queue <- j:
			waiting++
			continue
		default:
		}
		if !expired { // the queue is full: wait for room, within the timeout
			select {
			case s.queue <- j:
				waiting++
				continue
			case <-timer.C:
				expired = true
			}
		}
		j.waited.And(^uint64(1 << i))
		s.failed.Add(1)
		s.timedOut(fmt.Errorf("audit sink %s: queue full for %v", s.name, l.opts.writeTimeout))
		l.release(j)
	}
	l.mu.RUnlock()

	// Woken by the first sink that has the record, or by the last to fail.
	if j.pending.Add(int64(waiting)-waitBias) != 0 && !expired {
		select {
		case <-j.done:
		case <-timer.C:
		}
	}
	ok := 0
	var errs []error
	for i := range l.sinks {
		switch j.state[i].Load() {
		case stateWritten:
			ok++
		case stateFailed:
			errs = append(errs, j.errs[i])
		}
	}
	if ok > 0 {
		l.release(j)
		l.written.Add(1)
		return nil
	}
	for i, s := range l.sinks {
		if j.state[i].Load() == stateQueued && j.waited.Load()&(1<<i) != 0 {
			err := fmt.Errorf("audit sink %s: %w after %v", s.name, errTimeout, l.opts.writeTimeout)
			s.timeouts.Add(1)
			s.timedOut(err)
			errs = append(errs, err)
		}
	}
	l.release(j)
	if len(errs) == 0 {
		errs = append(errs, errors.New("every sink is stuck"))
	}
	return l.unavailable(errors.Join(errs...))
}

// clock returns monotonic nanoseconds since New, never 0.
func (l *Logger) clock() int64 { return int64(time.Since(l.start)) + 1 }

// offer queues j for a stuck sink without waiting, or drops it when the
// sink's queue is full.
func (l *Logger) offer(s *sink, j *job) {
	s.timeouts.Add(1)
	select {
	case s.queue <- j:
	default:
		s.failed.Add(1)
		l.release(j)
	}
}

func (l *Logger) unavailable(err error) error {
	l.failed.Add(1)
	if l.opts.failOpen {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func (l *Logger) timer() *time.Timer {
	if t, ok := l.timers.Get().(*time.Timer); ok {
		t.Reset(l.opts.writeTimeout)
		return t
	}
	return time.NewTimer(l.opts.writeTimeout)
}

// release lets go of j; the last holder returns it to the pool.
func (l *Logger) release(j *job) {
	if j.refs.Add(-1) != 0 {
		return
	}
	if cap(j.body) > 64<<10 {
		j.body = nil
	}
	l.jobs.Put(j)
}

// Ready reports whether a record written now would be kept: nil when a sink
// is healthy and not stuck, or when failing open. It serves /readyz.
func (l *Logger) Ready() error {
	l.mu.RLock()
	closed := l.closed
	l.mu.RUnlock()
	if closed {
		return fmt.Errorf("%w: %w", ErrUnavailable, ErrClosed)
	}
	if l.opts.failOpen {
		return nil
	}
	for _, s := range l.sinks {
		if s.healthy.Load() && !s.stuck(l.opts.writeTimeout) {
			return nil
		}
	}
	return fmt.Errorf("%w: no healthy sink", ErrUnavailable)
}

// Stats returns the record counts so far.
func (l *Logger) Stats() Stats {
	st := Stats{Written: l.written.Load(), Failed: l.failed.Load(), Pending: l.Pending(), Sinks: make([]SinkStats, len(l.sinks))}
	if l.spool != nil {
		st.Spooled = l.spool.spooled.Load()
	}
	for i, s := range l.sinks {
		st.Sinks[i] = SinkStats{Name: s.name, Written: s.written.Load(), Failed: s.failed.Load(),
			TimedOut: s.timeouts.Load(), Healthy: s.healthy.Load()}
	}
	return st
}

// Close stops accepting records, lets every sink write what it has queued
// and, with checkpoints on, a final checkpoint, then syncs and closes the
// files. It gives up on a stuck sink when ctx ends.
func (l *Logger) Close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	var errs []error
	if l.spool != nil {
		// Before the sinks stop: what a sink takes now is not left behind.
		if err := l.closeSpool(); err != nil {
			errs = append(errs, fmt.Errorf("close audit spool: %w", err))
		}
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errors.Join(errs...)
	}
	l.closed = true
	close(l.stopSeal)
	for _, s := range l.sinks {
		close(s.queue)
	}
	l.mu.Unlock()
	for _, s := range l.sinks {
		select {
		case <-s.exited: // preferred even when ctx is done
		default:
			select {
			case <-s.exited:
			case <-ctx.Done():
				errs = append(errs, fmt.Errorf("close audit sink %s: %w", s.name, ctx.Err()))
				continue
			}
		}
		if err := s.dest.close(); err != nil {
			errs = append(errs, fmt.Errorf("close audit sink %s: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}

// closeDests closes what New opened before it failed.
func (l *Logger) closeDests() {
	for _, s := range l.sinks {
		s.dest.close()
	}
}
