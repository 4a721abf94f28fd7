package audit

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// ProblemSeal is a checkpoint that does not seal what it claims: its MAC
// does not match under the key given (forged, or another key), or the head
// it names is not the record before it.
const ProblemSeal = "seal"

// VerifyOptions are the checks beyond the chain itself, on the sealed tail
// (see docs/audit.md, "Sealed tail"). The zero value checks only what a
// checkpoint can show without a key or a clock.
type VerifyOptions struct {
	// Key is the audit HMAC key: with it, every checkpoint's MAC is
	// checked. Without it, anyone could have written the checkpoints.
	Key []byte
	// HeadSeq and HeadHash are a head exported by the sidecar (a metric, a
	// span event, another copy's checkpoint): the records must reach HeadSeq
	// and have HeadHash there. 0: not checked.
	HeadSeq  uint64
	HeadHash string
	// MaxAge fails a stream whose last checkpoint is older than MaxAge at
	// Now, or whose records after it span more than its interval (half as
	// much again for a busy writer): a sink that was running seals at least
	// that often. 0: not checked.
	MaxAge time.Duration
	// Now is the clock MaxAge is measured against; nil: time.Now.
	Now func() time.Time
	// InFlight is how recent, against the newest record, an intent without
	// an outcome may be and still count as a call in flight rather than a
	// lost outcome (DefaultInFlight is the command's default); 0: none may.
	// Only VerifyFiles pairs intents: VerifyWith reads one stream.
	InFlight time.Duration
}

// Summary is what VerifyWith learned of a stream.
type Summary struct {
	Records int
	// Seals counts checkpoints; LastSeal is the last one, nil when none.
	Seals    int
	LastSeal *Checkpoint
	// Authenticated is true when every checkpoint's MAC was checked (a key
	// was given).
	Authenticated bool
}

// VerifyWith checks one stream like Verify, then its sealed tail as o asks.
// The first problem is a *ChainError.
func VerifyWith(r io.Reader, o VerifyOptions) (Summary, error) {
	sc := newSealCheck(o)
	c, err := verifyChain(r, sc)
	sum := sc.summary(c.records)
	if err != nil {
		return sum, err
	}
	if ce := sc.finish(c); ce != nil {
		return sum, ce
	}
	return sum, nil
}

// sealCheck follows the checkpoints of one stream, which may span files.
type sealCheck struct {
	o       VerifyOptions
	key     []byte // derived; nil without a key
	seals   int
	last    *Checkpoint
	tailEnd time.Time // the latest timestamp after the last checkpoint
	tail    int       // records after the last checkpoint
	first   uint64    // the first seq seen
	line    int
	// headSeen: HeadSeq was found with HeadHash; headDiffers: with another.
	headSeen, headDiffers bool
}

func newSealCheck(o VerifyOptions) *sealCheck {
	sc := &sealCheck{o: o}
	if len(o.Key) > 0 {
		sc.key = sealKey(o.Key)
	}
	return sc
}

func (sc *sealCheck) summary(records int) Summary {
	return Summary{Records: records, Seals: sc.seals, LastSeal: sc.last, Authenticated: sc.key != nil}
}

// checkpointKind finds checkpoint records cheaply; a match is confirmed by
// decoding, since a parameter could hold the same bytes.
var checkpointKind = []byte(`"kind":"checkpoint"`)

// see checks one record that is already known to continue the chain.
func (sc *sealCheck) see(n int, line []byte, lk link) *ChainError {
	sc.line = n
	if sc.first == 0 {
		sc.first = lk.seq
	}
	if sc.o.HeadSeq != 0 && lk.seq == sc.o.HeadSeq {
		if lk.hash == sc.o.HeadHash {
			sc.headSeen = true
		} else {
			sc.headDiffers = true
		}
	}
	if bytes.Contains(line, checkpointKind) {
		c, ok, err := sc.checkpoint(line, lk)
		if err != nil {
			return &ChainError{Line: n, Seq: lk.seq, Problem: ProblemSeal, Detail: err.Error()}
		}
		if ok {
			sc.seals, sc.last, sc.tail, sc.tailEnd = sc.seals+1, c, 0, time.Time{}
			return nil
		}
	}
	sc.tail++
	if sc.o.MaxAge > 0 {
		if t, ok := recordTime(line); ok && t.After(sc.tailEnd) {
			sc.tailEnd = t
		}
	}
	return nil
}

// checkpoint reads and checks a checkpoint record; ok is false when the
// line is another kind of record.
func (sc *sealCheck) checkpoint(line []byte, lk link) (c *Checkpoint, ok bool, err error) {
	var f struct {
		Kind      string `json:"kind"`
		Timestamp string `json:"timestamp"`
		Detail    struct {
			Sink         string `json:"sink"`
			HeadSeq      uint64 `json:"head_seq"`
			HeadHash     string `json:"head_hash"`
			RecordsSince uint64 `json:"records_since"`
			IntervalMS   int64  `json:"interval_ms"`
			Reason       string `json:"reason"`
			MAC          string `json:"mac"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(line, &f); err != nil || f.Kind != KindCheckpoint {
		return nil, false, nil
	}
	d := f.Detail
	t, terr := time.Parse(time.RFC3339Nano, f.Timestamp)
	switch {
	case terr != nil:
		return nil, true, fmt.Errorf("checkpoint timestamp %q: %w", f.Timestamp, terr)
	case d.HeadSeq != lk.seq-1 || d.HeadHash != lk.prev:
		return nil, true, fmt.Errorf("the checkpoint names head seq %d, hash %.12s…, not the record before it", d.HeadSeq, d.HeadHash)
	case d.IntervalMS < 0:
		return nil, true, fmt.Errorf("the checkpoint's interval %d ms is negative", d.IntervalMS)
	case sc.key != nil && !hmac.Equal([]byte(d.MAC),
		[]byte(sealMAC(sc.key, d.Sink, d.HeadSeq, d.HeadHash, d.RecordsSince, d.IntervalMS, d.Reason, f.Timestamp))):
		return nil, true, fmt.Errorf("the checkpoint's MAC does not match under the key given: it was forged or changed, or the key is not this log's")
	}
	return &Checkpoint{Sink: d.Sink, Seq: lk.seq, Hash: lk.hash, HeadSeq: d.HeadSeq, HeadHash: d.HeadHash,
		RecordsSince: d.RecordsSince, Interval: time.Duration(d.IntervalMS) * time.Millisecond, Reason: d.Reason, Time: t}, true, nil
}

// recordTime reads a record's timestamp from its fixed place at the start
// of the line.
func recordTime(line []byte) (time.Time, bool) {
	const prefix, width = `{"timestamp":"`, len("2006-01-02T15:04:05.000000Z")
	if len(line) < len(prefix)+width || !bytes.HasPrefix(line, []byte(prefix)) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(line[len(prefix):len(prefix)+width]))
	return t, err == nil
}

// finish runs the checks that need the whole stream; c is its last file's
// chain (the last seq seen).
func (sc *sealCheck) finish(c chain) *ChainError {
	fail := func(problem, format string, args ...any) *ChainError {
		return &ChainError{Line: sc.line, Seq: c.lastSeq, Problem: problem, Detail: fmt.Sprintf(format, args...)}
	}
	if o := sc.o; o.HeadSeq != 0 && !sc.headSeen {
		switch {
		case sc.headDiffers:
			return fail(ProblemTruncated, "seq %d has another hash than the head given (%.12s…): the tail was cut and rewritten", o.HeadSeq, o.HeadHash)
		case sc.first != 0 && o.HeadSeq < sc.first:
			return fail(ProblemMissing, "the head given (seq %d) is before the first record given (seq %d): give the older files too", o.HeadSeq, sc.first)
		default:
			return fail(ProblemTruncated, "the records end at seq %d, before the head given (seq %d): the tail was cut", c.lastSeq, o.HeadSeq)
		}
	}
	if sc.o.MaxAge <= 0 {
		return nil
	}
	now := time.Now
	if sc.o.Now != nil {
		now = sc.o.Now
	}
	last := sc.last
	switch {
	case last == nil:
		return fail(ProblemTruncated, "no checkpoint: nothing shows that the tail is complete")
	case now().Sub(last.Time) > sc.o.MaxAge:
		return fail(ProblemTruncated, "the last checkpoint (seq %d at %s) is older than %v: records after it were cut, or the sink stopped sealing",
			last.Seq, last.Time.Format(time.RFC3339), sc.o.MaxAge)
	case sc.tail > 0 && last.Interval > 0 && sc.tailEnd.Sub(last.Time) > last.Interval+last.Interval/2:
		return fail(ProblemTruncated, "%d record(s) after the last checkpoint (seq %d at %s) span %v, more than its interval %v: a later checkpoint was cut",
			sc.tail, last.Seq, last.Time.Format(time.RFC3339), sc.tailEnd.Sub(last.Time).Round(time.Second), last.Interval)
	}
	return nil
}

// sealLine is the summary's account of the last seal.
func (s Summary) sealLine() string {
	if s.LastSeal == nil {
		return "no checkpoint"
	}
	how := "MAC not checked (no --key-file)"
	if s.Authenticated {
		how = "MAC checked"
	}
	return fmt.Sprintf("last checkpoint seq %d at %s, %d in all, %s",
		s.LastSeal.Seq, s.LastSeal.Time.Format("2006-01-02T15:04:05.000000Z"), s.Seals, how)
}
