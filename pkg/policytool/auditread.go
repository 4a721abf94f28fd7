package policytool

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// maxRecordLine bounds one audit record when replaying: a line without a
// newline cannot exhaust memory. Records hold at most a 64 KiB body and the
// decision's context.
const maxRecordLine = 4 << 20

// auditRecord is what replay reads of an audit record (docs/audit.md).
type auditRecord struct {
	Timestamp  string `json:"timestamp"`
	Kind       string `json:"kind"`
	DecisionID string `json:"decision_id"`
	Agent      struct {
		ID         string `json:"id"`
		AuthMethod string `json:"auth_method"`
	} `json:"agent"`
	Action         string            `json:"action"`
	Resource       map[string]string `json:"resource"`
	Params         map[string]any    `json:"params"`
	Result         string            `json:"result"`
	DenyCodes      []string          `json:"deny_codes"`
	Obligations    map[string]any    `json:"obligations"`
	PolicyRevision string            `json:"policy_revision"`
	Context        map[string]any    `json:"context"`
	DryRun         bool              `json:"dry_run"`

	time time.Time
}

// allowed is what the recorded policy decided: a decision without reasons.
// Dry-run records keep the policy's reasons although the call went ahead.
func (r *auditRecord) allowed() bool { return r.DecisionID != "" && len(r.DenyCodes) == 0 }

// parseRecord decodes one line.
func parseRecord(line []byte) (*auditRecord, error) {
	var r auditRecord
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, err
	}
	t, err := time.Parse(time.RFC3339Nano, r.Timestamp)
	if err != nil {
		return nil, errors.New("timestamp is not RFC 3339")
	}
	r.time = t
	return &r, nil
}

// lineReader reads lines of at most max bytes; the rest of a longer line is
// read and dropped.
type lineReader struct {
	br  *bufio.Reader
	max int
	n   int // line number of the last line read
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its newline, whether it was longer than
// the bound (then line is nil), and io.EOF after the last line.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > lr.max+1 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(buf) == 0 && !tooLong {
			return nil, false, io.EOF
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, false, err
		}
		lr.n++
		return bytes.TrimSuffix(buf, []byte("\n")), tooLong, nil
	}
}

// maskedParams reports whether any parameter was masked in the record
// ("hmac-sha256:..."): the policy sees the masked string, not the value.
func maskedParams(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.HasPrefix(x, "hmac-sha256:")
	case map[string]any:
		for _, e := range x {
			if maskedParams(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if maskedParams(e) {
				return true
			}
		}
	}
	return false
}

func lineError(file string, n int, format string, args ...any) string {
	return fmt.Sprintf("%s:%d: %s", file, n, fmt.Sprintf(format, args...))
}
