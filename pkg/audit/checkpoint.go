package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A chain shows edits and deletions in the middle, but a file whose last
// whole records were cut is still a valid chain. A checkpoint closes that
// gap: every interval each sink writes a record of kind "checkpoint" into
// its own chain, holding the head it follows and an HMAC over it under a key
// only the sidecar (and an investigator) holds. A verifier then knows from
// the file alone how recent the last seal is, and from an exported head
// (metric, span event, another sink) how far the chain reached.

// Checkpoint reasons, the detail's "reason".
const (
	// SealStart is written when a sink starts: the head it found (a
	// resumed file's last record, or genesis), sealed before it adds to it.
	SealStart = "start"
	// SealInterval is written every checkpoint interval, whether or not
	// records were written since the last one: the heartbeat lets a
	// verifier tell a cut tail from an idle sink.
	SealInterval = "interval"
	// SealClose is written by Close: a clean shutdown leaves a final seal.
	SealClose = "close"
)

// sealDomain separates the checkpoint key from the masking key. It is not
// the canonical JSON of any value (no quotes), so no masked value in the
// log can ever be the derived key.
const sealDomain = "bollard audit checkpoint v1"

// macPrefix starts a checkpoint's mac, as it starts a masked value.
const macPrefix = "hmac-sha256:"

// Checkpoint is one sealed chain head, as a sink wrote it or as Verify read
// it.
type Checkpoint struct {
	Sink string
	// Seq and Hash are the checkpoint record's own: the chain's head once it
	// is written, the value `audit verify --head SEQ:HASH` checks.
	Seq  uint64
	Hash string
	// HeadSeq and HeadHash are the record before it, the head it seals.
	HeadSeq      uint64
	HeadHash     string
	RecordsSince uint64
	Interval     time.Duration
	Reason       string
	Time         time.Time
}

// Head is the checkpoint's position as `audit verify --head` takes it.
func (c Checkpoint) Head() string { return strconv.FormatUint(c.Seq, 10) + ":" + c.Hash }

// sealKey derives the checkpoint MAC key from the audit HMAC key.
func sealKey(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sealDomain))
	return m.Sum(nil)
}

// sealMAC is "hmac-sha256:<hex>" over the canonical JSON array
// [sink, head_seq, head_hash, records_since, interval_ms, reason, timestamp]:
// every detail member but the mac, and the record's timestamp as written.
// An array of JSON values cannot be read two ways, whatever a sink's name
// holds.
func sealMAC(key []byte, sink string, headSeq uint64, headHash string, since uint64, intervalMS int64, reason, timestamp string) string {
	b := make([]byte, 0, 256)
	b = append(b, '[')
	b = appendString(b, sink)
	b = append(b, ',')
	b = strconv.AppendUint(b, headSeq, 10)
	b = append(b, ',')
	b = appendString(b, headHash)
	b = append(b, ',')
	b = strconv.AppendUint(b, since, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, intervalMS, 10)
	b = append(b, ',')
	b = appendString(b, reason)
	b = append(b, ',')
	b = appendString(b, timestamp)
	b = append(b, ']')
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return macPrefix + hex.EncodeToString(m.Sum(nil))
}

// sealJob makes a checkpoint request for one sink: its body is built by the
// sink when it chains it, because only then is the head known.
func (l *Logger) sealJob(reason string) *job {
	j := l.jobs.Get().(*job)
	j.reset()
	j.refs.Store(1)
	j.seal = reason
	return j
}

// sealLoop asks every sink for a checkpoint each interval, until Close.
// The request goes through the sink's queue, after the records already
// queued, so the per-record path pays nothing for it.
func (l *Logger) sealLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stopSeal:
			return
		case <-t.C:
			l.requestSeals(SealInterval)
		}
	}
}

func (l *Logger) requestSeals(reason string) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return
	}
	for _, s := range l.sinks {
		s.requestSeal(reason)
	}
}

// requestSeal queues a checkpoint unless one is already queued (a slow or
// stuck sink gets one, not one per tick) or the queue is full.
func (s *sink) requestSeal(reason string) {
	if !s.sealQueued.CompareAndSwap(false, true) {
		return
	}
	j := s.l.sealJob(reason)
	select {
	case s.queue <- j:
	default:
		s.sealQueued.Store(false)
		s.l.release(j)
	}
}

// sealBody builds a checkpoint's body at the moment it is chained: seq is
// its own, and s.next holds the hash of the record before it.
func (s *sink) sealBody(j *job, seq uint64) {
	s.sealQueued.Store(false)
	every := s.l.opts.checkpointEvery
	t := s.l.opts.now().UTC().Truncate(time.Microsecond)
	ts := string(appendTimestamp(nil, t))
	c := Checkpoint{Sink: s.name, Seq: seq, HeadSeq: seq - 1, HeadHash: string(s.next[:]),
		RecordsSince: seq - 1 - s.sealSeq, Interval: every, Reason: j.seal, Time: t}
	ms := every.Milliseconds()
	r := Record{Time: t, Kind: KindCheckpoint, Detail: map[string]any{
		"sink": c.Sink, "head_seq": c.HeadSeq, "head_hash": c.HeadHash, "records_since": c.RecordsSince,
		"interval_ms": ms, "reason": c.Reason,
		"mac": sealMAC(s.l.sealKey, c.Sink, c.HeadSeq, c.HeadHash, c.RecordsSince, ms, c.Reason, ts),
	}}
	j.body = appendBody(j.body[:0], &r, t, s.l.masker)
	j.ck = c
}

// sealed publishes a checkpoint that was written whole, with its own hash.
func (s *sink) sealed(j *job, hash [hashLen]byte) {
	c := j.ck
	c.Hash = string(hash[:])
	s.sealSeq = c.Seq
	s.lastSeal.Store(&c)
	if f := s.l.opts.observeSeal; f != nil {
		f(c)
	}
}

// Checkpoints returns the last checkpoint each sink wrote, for tests and
// health reporting; a sink that has written none is left out.
func (l *Logger) Checkpoints() []Checkpoint {
	var out []Checkpoint
	for _, s := range l.sinks {
		if c := s.lastSeal.Load(); c != nil {
			out = append(out, *c)
		}
	}
	return out
}

// ParseHead reads a head as `audit verify --head` takes it: "SEQ:HASH".
func ParseHead(s string) (seq uint64, hash string, err error) {
	n, h, ok := strings.Cut(s, ":")
	if ok {
		seq, err = strconv.ParseUint(n, 10, 64)
	}
	if !ok || err != nil || seq == 0 || !isHex(h) {
		return 0, "", fmt.Errorf("head %q: want SEQ:HASH, a seq from 1 and 64 hex digits", s)
	}
	return seq, h, nil
}
