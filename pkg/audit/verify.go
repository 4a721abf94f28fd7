package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
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

const verifyUsage = `usage: sidecar audit verify [--key-file PATH] [--head SEQ:HASH] [--max-age D] [--in-flight D] FILE...

Verifies the hash chain of audit files written by a file sink (or captured
from the stdout sink). Give rotated files oldest first, for example:

  sidecar audit verify audit.log.3 audit.log.2 audit.log.1 audit.log

Each file's first record must continue the previous file's last one.
The flags check the sealed tail (see docs/audit.md):

  --key-file PATH  the audit HMAC key file: check every checkpoint's MAC
  --head SEQ:HASH  a head the sidecar exported: the files must reach it
  --max-age D      the last checkpoint must be younger than D (e.g. 5m)
  --now TIME       the time --max-age is measured from (RFC 3339; default now)

Every intent (written before a call goes to Okta) must have its outcome
after it. An intent without one is a call whose result was lost, unless it
is within --in-flight (default 10m) of the newest record: a call that may
still be running when the file was read.

  --in-flight D    how recent an unpaired intent may be and still count as
                   in flight (0: none may)

Exits non-zero at the first problem.
`

// verifyFlags are VerifyMain's flags, read into VerifyOptions.
type verifyFlags struct {
	keyFile, head, now string
	maxAge, inFlight   time.Duration
}

func (f *verifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.keyFile, "key-file", "", "the audit HMAC key file: check every checkpoint's MAC")
	fs.StringVar(&f.head, "head", "", "SEQ:HASH: a head the sidecar exported; the files must reach it")
	fs.DurationVar(&f.maxAge, "max-age", 0, "the last checkpoint must be younger than this")
	fs.StringVar(&f.now, "now", "", "RFC 3339 time --max-age is measured from (default: now)")
	fs.DurationVar(&f.inFlight, "in-flight", DefaultInFlight, "an unpaired intent this recent is a call in flight")
}

func (f *verifyFlags) options() (VerifyOptions, error) {
	var o VerifyOptions
	if f.keyFile != "" {
		key, err := os.ReadFile(f.keyFile)
		if err != nil {
			return o, fmt.Errorf("read --key-file: %w", err)
		}
		// Read as the sidecar reads audit.hmac_key_file.
		if o.Key = bytes.TrimSpace(key); len(o.Key) < minKeyLen {
			return o, fmt.Errorf("--key-file: the key has %d bytes, want at least %d", len(o.Key), minKeyLen)
		}
	}
	if f.head != "" {
		var err error
		if o.HeadSeq, o.HeadHash, err = ParseHead(f.head); err != nil {
			return o, fmt.Errorf("--head: %w", err)
		}
	}
	if f.maxAge < 0 {
		return o, errors.New("--max-age: negative")
	}
	o.MaxAge = f.maxAge
	if f.now != "" {
		t, err := time.Parse(time.RFC3339Nano, f.now)
		if err != nil {
			return o, fmt.Errorf("--now: %w", err)
		}
		o.Now = func() time.Time { return t }
	}
	return o, nil
}

// VerifyMain is the "audit verify" subcommand: it verifies each file in
// order, checks that each continues the one before (the rotation anchor),
// checks the sealed tail as the flags ask, and prints a summary.
func VerifyMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, verifyUsage) }
	var vf verifyFlags
	vf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("audit verify: no file given")
	}
	opts, err := vf.options()
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	sc := newSealCheck(opts)
	var (
		prev     chain
		prevName string
		total    int
	)
	for _, name := range fs.Args() {
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
	if err := reportPairing(stdout, fs.Args(), vf.inFlight); err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	fmt.Fprintf(stdout, "ok: %d records in %d file(s), chain intact; %s\n", total, fs.NArg(), sum.sealLine())
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
