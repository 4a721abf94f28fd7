package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrLineTooLong is the error for a line longer than the Reader's bound
// (maxLine, or WithMaxLine). The Reader has read past it: the next read
// starts at the following line.
var ErrLineTooLong = errors.New("line too long")

// lineTooLong says how long a line may be; it is ErrLineTooLong.
type lineTooLong int

func (n lineTooLong) Error() string      { return fmt.Sprintf("line longer than %d bytes", int(n)) }
func (lineTooLong) Is(target error) bool { return target == ErrLineTooLong }

// LineError is a line that is not a record: too long (ErrLineTooLong), not
// JSON of a record, or without an RFC 3339 timestamp. Reading may go on
// after it.
type LineError struct {
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Entry is one record read back from a sink's output (docs/audit.md), with
// where it was.
type Entry struct {
	// Line is the record's 1-based line in the stream.
	Line int `json:"-"`
	// Time is Timestamp parsed.
	Time time.Time `json:"-"`

	Timestamp  string `json:"timestamp"`
	Kind       string `json:"kind"`
	DecisionID string `json:"decision_id"`
	TraceID    string `json:"trace_id"`
	Agent      struct {
		ID         string `json:"id"`
		AuthMethod string `json:"auth_method"`
	} `json:"agent"`
	Front            string            `json:"front"`
	Action           string            `json:"action"`
	Area             string            `json:"area"`
	Access           string            `json:"access"`
	Destructive      bool              `json:"destructive"`
	Resource         map[string]string `json:"resource"`
	Params           map[string]any    `json:"params"`
	Result           string            `json:"result"`
	DenyCodes        []string          `json:"deny_codes"`
	DenyReasons      []Reason          `json:"deny_reasons"`
	Obligations      map[string]any    `json:"obligations"`
	ConfirmationUsed bool              `json:"confirmation_used"`
	PolicyRevision   string            `json:"policy_revision"`
	Context          map[string]any    `json:"context"`
	DryRun           bool              `json:"dry_run"`
	Shadow           *struct {
		Revision  string   `json:"revision"`
		Allow     bool     `json:"allow"`
		DenyCodes []string `json:"deny_codes"`
		Differs   bool     `json:"differs"`
	} `json:"shadow"`
	Detail map[string]any `json:"detail"`
	Okta   struct {
		Status    int    `json:"status"`
		RequestID string `json:"request_id"`
	} `json:"okta"`
	LatencyUS int64  `json:"latency_us"`
	Seq       uint64 `json:"seq"`
	PrevHash  string `json:"prev_hash"`
	Hash      string `json:"hash"`
}

// Reader reads the records of one sink's output (a file, or the stdout
// sink's lines), one line at a time with a bound on a line's length, so
// that a file without newlines cannot exhaust memory. It checks no chain:
// that is Verify's job.
type Reader struct {
	br   *bufio.Reader
	max  int
	line int
}

// ReaderOption configures NewReader.
type ReaderOption func(*Reader)

// WithMaxLine bounds a line's length in bytes, without its newline
// (default 64 MiB, as Verify).
func WithMaxLine(n int) ReaderOption {
	return func(r *Reader) { r.max = n }
}

// NewReader returns a Reader of r.
func NewReader(r io.Reader, opts ...ReaderOption) *Reader {
	rd := &Reader{br: bufio.NewReaderSize(r, 64<<10), max: maxLine}
	for _, opt := range opts {
		opt(rd)
	}
	return rd
}

// Line is the 1-based number of the last line read.
func (r *Reader) Line() int { return r.line }

// ReadLine returns the next line without its newline; a last line without
// one is returned as it is. A line longer than the bound is read past and
// reported as ErrLineTooLong. It returns io.EOF after the last line.
func (r *Reader) ReadLine() ([]byte, error) {
	var line []byte
	size := 0 // of the line so far, without its newline
	for {
		chunk, err := r.br.ReadSlice('\n')
		switch {
		case err == nil:
			chunk = chunk[:len(chunk)-1]
		case errors.Is(err, io.EOF):
			if size == 0 && len(chunk) == 0 {
				return nil, io.EOF
			}
		case !errors.Is(err, bufio.ErrBufferFull):
			return nil, err
		}
		if size += len(chunk); size <= r.max {
			line = append(line, chunk...) // a copy: chunk is the reader's buffer
		} else {
			line = nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		r.line++
		if size > r.max {
			return nil, lineTooLong(r.max)
		}
		return line, nil
	}
}

// Read returns the next record, skipping blank lines. A line that is not a
// record is a *LineError, and the next Read goes on after it. It returns
// io.EOF after the last line.
func (r *Reader) Read() (*Entry, error) {
	for {
		line, err := r.ReadLine()
		if errors.Is(err, ErrLineTooLong) {
			return nil, &LineError{Line: r.line, Err: err}
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, &LineError{Line: r.line, Err: err}
		}
		if e.Time, err = time.Parse(time.RFC3339Nano, e.Timestamp); err != nil {
			return nil, &LineError{Line: r.line, Err: errors.New("timestamp is not RFC 3339")}
		}
		e.Line = r.line
		return &e, nil
	}
}
