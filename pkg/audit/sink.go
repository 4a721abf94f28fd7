package audit

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"sync/atomic"
	"time"
)

// maxBatch bounds how many queued records one write(2) carries. Batching is
// what lets many concurrent callers share one sink without a write each.
const maxBatch = 64

// dest is where a sink's bytes go.
type dest interface {
	Write(p []byte) (int, error)
	// full reports whether next more bytes, after pending ones, would take
	// the destination past its size limit (a non-empty file only).
	full(pending, next int) bool
	// rotate starts a new file; the chain continues into it.
	rotate() error
	// repair removes the last torn bytes of a failed write, if it can.
	repair(torn int) bool
	close() error
}

// writerDest is a plain io.Writer such as stdout: no rotation, and a torn
// line cannot be taken back.
type writerDest struct{ io.Writer }

func (writerDest) full(int, int) bool { return false }
func (writerDest) rotate() error      { return nil }
func (writerDest) repair(int) bool    { return false }
func (writerDest) close() error       { return nil } // not ours to close

// job is one record on its way to every sink. It is pooled: the last of
// Write and the sinks to let go of it puts it back.
type job struct {
	body []byte
	refs atomic.Int32
	// waited has a bit for each sink Write waits for; pending counts those
	// not finished, plus waitBias until Write has queued to every sink. Write
	// is woken once: by the first sink that has the record, or by the last
	// one to fail.
	waited  atomic.Uint64
	pending atomic.Int64
	done    chan struct{} // capacity 1
	woken   atomic.Bool   // done was signalled
	state   []atomic.Uint32
	errs    []error // errs[i] is set before state[i] says failed
	// seal is a checkpoint's reason, "" for a record: a checkpoint's body
	// is built by its sink, and ck describes it once built.
	seal string
	ck   Checkpoint
}

// waitBias keeps pending above zero while Write is still queueing.
const waitBias = 1 << 32

// Sink outcomes in job.state.
const (
	stateQueued uint32 = iota
	stateWritten
	stateFailed
)

func newJob(sinks int) *job {
	return &job{done: make(chan struct{}, 1), state: make([]atomic.Uint32, sinks), errs: make([]error, sinks)}
}

// reset readies a job from the pool. No sink holds it any more, so plain
// writes are safe.
func (j *job) reset() {
	select {
	case <-j.done: // from a sink that finished after its Write gave up
	default:
	}
	for i := range j.state {
		j.state[i].Store(stateQueued)
		j.errs[i] = nil
	}
	j.seal = ""
	j.waited.Store(0)
	j.pending.Store(waitBias)
	j.woken.Store(false)
}

// sink is one destination with its own hash chain. The chain state and the
// buffers belong to the sink's goroutine alone; Write only reads the
// atomics.
type sink struct {
	idx    int
	name   string
	dest   dest
	queue  chan *job
	exited chan struct{}
	log    *slog.Logger
	l      *Logger

	seq  uint64
	prev [hashLen]byte
	next [hashLen]byte // prev while a batch is built, before it is written
	h    hash.Hash
	sum  [sha256.Size]byte
	buf  []byte
	ends []int
	sums [][hashLen]byte
	// needNewline is set when a write tore a line that could not be removed:
	// the next write starts on a fresh line, and Verify reports the torn one.
	needNewline bool
	// sealSeq is the seq of the last checkpoint written, or where the chain
	// was resumed; sealQueued is set while a checkpoint request is queued.
	sealSeq    uint64
	sealQueued atomic.Bool
	lastSeal   atomic.Pointer[Checkpoint]

	healthy atomic.Bool
	// writingSince is when the write in progress began (monotonic ns since
	// the Logger started); 0 when idle.
	writingSince atomic.Int64
	// stuckWrite is the writingSince of a write that a Write gave up on.
	stuckWrite atomic.Int64
	written    atomic.Uint64
	failed     atomic.Uint64
	timeouts   atomic.Uint64
}

func newSink(l *Logger, idx int, name string, d dest, queueLen int) *sink {
	s := &sink{
		idx: idx, name: name, dest: d, l: l,
		queue:  make(chan *job, queueLen),
		exited: make(chan struct{}),
		log:    l.opts.log.With("sink", name),
		h:      sha256.New(),
	}
	copy(s.prev[:], genesis)
	s.healthy.Store(true)
	return s
}

// stuck reports whether the write in progress has lasted longer than
// timeout, or is one a Write already gave up on: Write then queues to the
// sink without waiting for it, instead of paying the timeout on every call,
// and the sink is unhealthy.
func (s *sink) stuck(timeout time.Duration) bool {
	since := s.writingSince.Load()
	if since == 0 || since != s.stuckWrite.Load() && s.l.clock()-since <= int64(timeout) {
		return false
	}
	s.setHealthy(false, fmt.Errorf("audit sink %s: a write has lasted more than %v", s.name, timeout))
	return true
}

// timedOut records that a Write gave up waiting for this sink.
func (s *sink) timedOut(err error) {
	if since := s.writingSince.Load(); since != 0 {
		s.stuckWrite.Store(since)
	}
	s.setHealthy(false, err)
}

func (s *sink) setHealthy(ok bool, err error) {
	if ok {
		if !s.healthy.Swap(true) {
			s.log.Info("audit sink recovered")
		}
		return
	}
	if s.healthy.Swap(false) {
		s.log.Error("audit sink failed", "error", err)
	}
}

func (s *sink) run() {
	defer close(s.exited)
	batch := make([]*job, 0, maxBatch)
	for j := range s.queue {
		batch = append(batch[:0], j)
	drain:
		for len(batch) < maxBatch {
			select {
			case j, ok := <-s.queue:
				if !ok {
					break drain
				}
				batch = append(batch, j)
			default:
				break drain
			}
		}
		s.process(batch)
		clear(batch)
	}
	if s.l.opts.checkpointEvery > 0 {
		s.process(append(batch[:0], s.l.sealJob(SealClose)))
	}
}

// process chains and writes a batch, starting a new file where the size
// limit falls. After a failed write the rest of the batch fails too: its
// hashes were computed on records that did not make it.
func (s *sink) process(batch []*job) {
	out, ends, sums := s.buf[:0], s.ends[:0], s.sums[:0]
	if s.needNewline {
		out = append(out, '\n')
	}
	s.next = s.prev
	first := 0
	for i, j := range batch {
		start, seq := len(out), s.seq+uint64(i-first)+1
		if j.seal != "" {
			s.sealBody(j, seq)
		}
		out = appendLine(out, j.body, seq, &s.next, s.h, &s.sum)
		if s.dest.full(start, len(out)-start) {
			if start > 0 && !s.flush(out[:start], batch[first:i], ends, sums) {
				s.fail(batch[i:], errors.New("an earlier record in the same write failed"))
				return
			}
			if err := s.dest.rotate(); err != nil {
				s.log.Error("audit file rotation failed; writing on", "error", err)
			}
			n := copy(out, out[start:])
			out, ends, sums, first = out[:n], ends[:0], sums[:0], i
		}
		ends, sums = append(ends, len(out)), append(sums, s.next)
	}
	s.flush(out, batch[first:], ends, sums)
	s.buf, s.ends, s.sums = out[:0], ends[:0], sums[:0]
	if cap(s.buf) > 1<<20 { // one huge record should not pin its buffer
		s.buf = nil
	}
}

// flush writes p, which holds jobs' lines ending at ends with hashes sums,
// and commits the chain through the last line that was written whole.
func (s *sink) flush(p []byte, jobs []*job, ends []int, sums [][hashLen]byte) bool {
	s.writingSince.Store(s.l.clock())
	n, err := s.dest.Write(p)
	s.writingSince.Store(0)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	whole, boundary := 0, 0
	if s.needNewline && n > 0 {
		boundary = 1
	}
	for whole < len(ends) && ends[whole] <= n {
		boundary = ends[whole]
		whole++
	}
	if whole > 0 {
		s.seq += uint64(whole)
		s.prev = sums[whole-1]
	}
	// Health is updated before any Write hears back, so that a caller
	// that checks Ready right after its Write sees the sink as it is.
	if err == nil {
		s.setHealthy(true, nil)
	}
	for k, j := range jobs[:whole] {
		if j.seal != "" {
			s.sealed(j, sums[k])
		} else {
			s.written.Add(1)
			s.observe(true)
		}
		s.done(j, nil)
	}
	if err == nil {
		s.needNewline = false
		return true
	}
	err = fmt.Errorf("write audit sink %s: %w", s.name, err)
	if torn := n - boundary; torn > 0 {
		s.needNewline = !s.dest.repair(torn)
	} else if n > 0 {
		s.needNewline = false
	}
	s.setHealthy(false, err)
	s.fail(jobs[whole:], err)
	return false
}

func (s *sink) observe(written bool) {
	if f := s.l.opts.observe; f != nil {
		f(s.name, written)
	}
}

func (s *sink) fail(jobs []*job, err error) {
	for _, j := range jobs {
		if j.seal == "" { // a checkpoint is not a record: the next one covers it
			s.failed.Add(1)
			s.observe(false)
		}
		s.done(j, err)
	}
}

// done reports a job's outcome to its Write, if it still waits, and lets go
// of the job.
func (s *sink) done(j *job, err error) {
	if err != nil {
		j.errs[s.idx] = err
		j.state[s.idx].Store(stateFailed)
	} else {
		j.state[s.idx].Store(stateWritten)
	}
	if j.waited.Load()&(1<<s.idx) != 0 {
		last := j.pending.Add(-1) == 0
		if (last || err == nil) && j.woken.CompareAndSwap(false, true) {
			j.done <- struct{}{}
		}
	}
	s.l.release(j)
}
