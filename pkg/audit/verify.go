package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"
)

// The kinds of problem Verify reports.
const (
	ProblemBroken    = "broken"    // a record's hash or link does not match: it was changed or replaced
	ProblemMissing   = "missing"   // a sequence gap: records were deleted (or reordered)
	ProblemOrder     = "order"     // a sequence number goes back: records reordered or duplicated
	ProblemTruncated = "truncated" // the last line does not end in a newline (a torn write or a cut file), or VerifyWith found a cut tail
	ProblemMalformed = "malformed" // a line is not a record
)

// ChainError is the first problem Verify found.
type ChainError struct {
	File    string // empty for Verify
	Line    int    // 1-based
	Seq     uint64 // the record's seq, when it could be read
	Problem string // one of the Problem constants
	Detail  string
}

func (e *ChainError) Error() string {
	where := fmt.Sprintf("line %d", e.Line)
	if e.File != "" {
		where = e.File + " " + where
	}
	if e.Seq != 0 {
		where += fmt.Sprintf(" (seq %d)", e.Seq)
	}
	return fmt.Sprintf("%s: %s record: %s", where, e.Problem, e.Detail)
}

// maxLine bounds a record's length when verifying, so that a file without
// newlines cannot exhaust memory.
const maxLine = 64 << 20

// chain is what Verify learned of a stream of records.
type chain struct {
	records            int
	firstSeq, lastSeq  uint64
	firstPrev, lastSum string
	starts             int // records that start a chain (seq 1 after genesis)
}

// Verify checks the hash chain of one stream of records, as written by one
// sink. The first record's prev_hash is taken on trust (it anchors to a
// previous file, or is the genesis value); every later record must follow
// the one before it. A record with seq 1 and the genesis prev_hash may start
// a new chain anywhere: a restarted process writing to stdout does that. It
// returns the number of records verified before the first problem, which is
// a *ChainError.
func Verify(r io.Reader) (records int, err error) {
	c, err := verifyChain(r)
	return c.records, err
}

// lineCheck is a check on each record beyond the chain, which may follow
// the stream across files (the sealed tail).
type lineCheck interface {
	// see is given each record, with its 1-based line, once it is known to
	// continue the chain.
	see(n int, line []byte, lk link) *ChainError
}

func verifyChain(r io.Reader, checks ...lineCheck) (chain, error) {
	var c chain
	br := bufio.NewReaderSize(r, 64<<10)
	h := sha256.New()
	var long []byte
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) && len(long)+len(line) < maxLine {
			long = append(long, line...)
			line, err = br.ReadSlice('\n')
		}
		if long != nil {
			line, long = append(long, line...), nil
		}
		switch {
		case errors.Is(err, io.EOF) && len(line) == 0:
			return c, nil
		case errors.Is(err, io.EOF):
			return c, &ChainError{Line: n, Problem: ProblemTruncated, Detail: "the last line does not end in a newline"}
		case errors.Is(err, bufio.ErrBufferFull):
			return c, &ChainError{Line: n, Problem: ProblemMalformed, Detail: fmt.Sprintf("longer than %d bytes", maxLine)}
		case err != nil:
			return c, fmt.Errorf("read line %d: %w", n, err)
		}
		lk, err := parseLink(line[:len(line)-1])
		if err != nil {
			return c, &ChainError{Line: n, Problem: ProblemMalformed, Detail: err.Error()}
		}
		if err := c.add(lk, h); err != nil {
			err.Line = n
			return c, err
		}
		for _, ck := range checks {
			if err := ck.see(n, line[:len(line)-1], lk); err != nil {
				return c, err
			}
		}
	}
}

// add checks one record against the chain so far and appends it.
func (c *chain) add(lk link, h hash.Hash) *ChainError {
	fail := func(problem, format string, args ...any) *ChainError {
		return &ChainError{Seq: lk.seq, Problem: problem, Detail: fmt.Sprintf(format, args...)}
	}
	if sum := lk.sum(h); sum != lk.hash {
		return fail(ProblemBroken, "its hash does not match its content: the record was changed")
	}
	start := lk.seq == 1 && lk.prev == genesis
	switch {
	case (lk.seq == 1) != (lk.prev == genesis):
		return fail(ProblemBroken, "seq 1 goes with the genesis prev_hash and only with it")
	case c.records == 0, start:
	case lk.seq > c.lastSeq+1:
		return fail(ProblemMissing, "%d record(s) missing after seq %d (deleted, or reordered)", lk.seq-c.lastSeq-1, c.lastSeq)
	case lk.seq <= c.lastSeq:
		return fail(ProblemOrder, "seq %d comes after seq %d: records were reordered or repeated", lk.seq, c.lastSeq)
	case lk.prev != c.lastSum:
		return fail(ProblemBroken, "its prev_hash is not the hash of the record before it: that record was replaced")
	}
	if c.records == 0 {
		c.firstSeq, c.firstPrev = lk.seq, lk.prev
	}
	if start {
		c.starts++
	}
	c.records++
	c.lastSeq, c.lastSum = lk.seq, lk.hash
	return nil
}

// ErrNoFiles is VerifyFiles given no file to read.
var ErrNoFiles = errors.New("audit verify: no file given")

// ParseKey reads the content of an audit HMAC key file as the sidecar reads
// audit.hmac_key_file: surrounding white space is not part of the key, and a
// key short enough to guess is refused.
func ParseKey(content []byte) ([]byte, error) {
	key := bytes.TrimSpace(content)
	if len(key) < minKeyLen {
		return nil, fmt.Errorf("the key has %d bytes, want at least %d", len(key), minKeyLen)
	}
	return key, nil
}

// VerifyFiles is `audit verify`: it verifies each file in order (rotated
// files oldest first), checks that each continues the one before (the
// rotation anchor), checks the sealed tail as o asks, pairs intents with
// outcomes, and prints a summary to stdout. The first problem is returned,
// a *ChainError when the records are at fault.
func VerifyFiles(ctx context.Context, files []string, o VerifyOptions, stdout io.Writer) error {
	if len(files) == 0 {
		return ErrNoFiles
	}
	sc := newSealCheck(o)
	var (
		prev     chain
		prevName string
		total    int
	)
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		c, err := verifyFile(name, sc)
		if err != nil {
			return fmt.Errorf("audit verify: %w", err)
		}
		how := "starts a chain"
		switch {
		case c.records == 0:
			fmt.Fprintf(stdout, "%s: no records\n", name)
			continue
		case prev.records > 0 && c.firstPrev == prev.lastSum && c.firstSeq == prev.lastSeq+1:
			how = "continues " + prevName
		case prev.records > 0:
			// A file sink continues its chain across restarts and rotations,
			// so a file that does not continue the one before (even one that
			// starts a new chain) means lost records or a wrong order.
			return fmt.Errorf("audit verify: %w", &ChainError{File: name, Line: 1, Seq: c.firstSeq, Problem: ProblemMissing,
				Detail: fmt.Sprintf("does not continue %s (last seq %d): records are missing between them, or the files are not in order (oldest first)", prevName, prev.lastSeq)})
		case c.firstSeq == 1:
		default:
			how = fmt.Sprintf("anchored to earlier records not given (prev_hash %.12s…)", c.firstPrev)
		}
		fmt.Fprintf(stdout, "%s: %d records, seq %d..%d, %s\n", name, c.records, c.firstSeq, c.lastSeq, how)
		prev, prevName, total = c, name, total+c.records
	}
	sum := sc.summary(total)
	if ce := sc.finish(prev); ce != nil {
		ce.File = prevName
		fmt.Fprintf(stdout, "%s\n", sum.sealLine())
		return fmt.Errorf("audit verify: %w", ce)
	}
	if err := reportPairing(stdout, files, o.InFlight); err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	fmt.Fprintf(stdout, "ok: %d records in %d file(s), chain intact; %s\n", total, len(files), sum.sealLine())
	return nil
}

// reportPairing prints how intents pair with outcomes, and fails on an
// intent whose outcome was lost.
func reportPairing(stdout io.Writer, files []string, inFlight time.Duration) error {
	p, err := PairIntents(files, inFlight)
	if err != nil {
		return err
	}
	lost := p.Lost()
	fmt.Fprintf(stdout, "intents: %d, outcomes: %d, in flight: %d, unpaired: %d\n", p.Intents, p.Outcomes, len(p.Unpaired)-len(lost), len(lost))
	const show = 20
	for i, u := range lost {
		if i == show {
			fmt.Fprintf(stdout, "  ... and %d more\n", len(lost)-show)
			break
		}
		fmt.Fprintf(stdout, "  unpaired: %s line %d, decision %s, %s at %s\n", u.File, u.Line, u.DecisionID, u.Action, u.Time.UTC().Format(time.RFC3339))
	}
	if len(lost) == 0 {
		return nil
	}
	u := lost[0]
	return &ChainError{File: u.File, Line: u.Line, Problem: ProblemUnpaired,
		Detail: fmt.Sprintf("%d intent(s) without an outcome, the first decision %s (%s): the call went to Okta and what Okta did is not on record", len(lost), u.DecisionID, u.Action)}
}

func verifyFile(name string, checks ...lineCheck) (chain, error) {
	f, err := os.Open(name)
	if err != nil {
		return chain{}, err
	}
	defer f.Close()
	c, err := verifyChain(f, checks...)
	if ce, ok := errors.AsType[*ChainError](err); ok {
		ce.File = name
	}
	return c, err
}
