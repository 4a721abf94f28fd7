package audit

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// TestReaderReadsWhatTheLoggerWrites: every record a file sink writes is
// read back with its fields, its kind and its line.
func TestReaderReadsWhatTheLoggerWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := New(WithHMACKey(testKey), WithFile(path, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	call := sampleRecord()
	intent := &Record{Time: testTime, Kind: KindIntent, DecisionID: "dec-2", AgentID: "bot", Action: "users.delete",
		Context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 1, "day": 2}}}}
	outcome := &Record{Time: testTime, Kind: KindOutcome, DecisionID: "dec-2", AgentID: "bot", Action: "users.delete",
		DenyReasons: []Reason{{Code: "c", Message: "m"}}, Shadow: &Shadow{Revision: "r2", DenyCodes: []string{"x"}, Differs: true}}
	for _, r := range []*Record{call, intent, outcome} {
		if err := l.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := NewReader(f)
	var got []*Entry
	for {
		e, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) < 3 {
		t.Fatalf("read %d records, want at least 3", len(got))
	}
	c, in, out := got[0], got[1], got[2]
	if c.Line != 1 || c.Kind != KindCall || c.DecisionID != "dec-1" || c.Agent.ID != "onboarding-bot" || c.Agent.AuthMethod != "jwt" ||
		c.Action != "users.update" || c.Resource["userId"] != "00u1abcd" || c.Okta.Status != 200 || c.Okta.RequestID != "req-1" ||
		c.LatencyUS != 1234 || c.PolicyRevision != "rev-7" || c.Seq != 1 || len(c.PrevHash) != 64 || len(c.Hash) != 64 || c.Shadow != nil {
		t.Errorf("call = %+v", c)
	}
	if !c.Time.Equal(testTime.Truncate(1000)) {
		t.Errorf("time %v, want %v to the microsecond", c.Time, testTime)
	}
	pw := c.Params["body"].(map[string]any)["credentials"].(map[string]any)["password"].(map[string]any)["value"]
	if s, _ := pw.(string); !strings.HasPrefix(s, "hmac-sha256:") {
		t.Errorf("password read back as %v, want it masked as written", pw)
	}
	if in.Line != 2 || in.Kind != KindIntent || in.Seq != 2 || in.PrevHash != c.Hash {
		t.Errorf("intent = %+v", in)
	}
	if counts := in.Context["counts"].(map[string]any)["destructive"].(map[string]any); counts["day"] != 2.0 {
		t.Errorf("context = %v", in.Context)
	}
	if out.Line != 3 || out.Kind != KindOutcome || len(out.DenyReasons) != 1 || out.DenyReasons[0] != (Reason{Code: "c", Message: "m"}) ||
		out.Shadow == nil || out.Shadow.Revision != "r2" || !out.Shadow.Differs || out.Shadow.DenyCodes[0] != "x" {
		t.Errorf("outcome = %+v", out)
	}
}

// TestReaderLines: blank lines are skipped, and a line that is not a
// record is reported with its number without stopping the reading.
func TestReaderLines(t *testing.T) {
	const rec = `{"timestamp": "2026-11-30T10:00:00Z", "kind": "call"}`
	in := strings.Join([]string{
		rec,
		"",
		"   ",
		strings.Repeat("x", 200),
		`{"timestamp": "not a time"}`,
		`{"timestamp": `,
		`[1]`,
		rec, // the last line, without a newline
	}, "\n")
	rd := NewReader(strings.NewReader(in), WithMaxLine(100))
	var got []string
	for {
		e, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *LineError
		switch {
		case errors.As(err, &le) && errors.Is(err, ErrLineTooLong):
			got = append(got, "too long")
		case errors.As(err, &le):
			got = append(got, "not a record")
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, "record")
			if e.Kind != "call" {
				t.Errorf("line %d: kind %q", e.Line, e.Kind)
			}
		}
		if le != nil && le.Line != rd.Line() {
			t.Errorf("error at line %d, the reader is at %d", le.Line, rd.Line())
		}
		got[len(got)-1] += ":" + strconv.Itoa(rd.Line())
	}
	want := "record:1 too long:4 not a record:5 not a record:6 not a record:7 record:8"
	if strings.Join(got, " ") != want {
		t.Errorf("read %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestReadLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{in: "short\n" + strings.Repeat("y", 100) + "\nlast", want: "short|(too long)|last"},
		// The bound is on the line without its newline, whether it has one.
		{in: strings.Repeat("a", 10) + "\n" + strings.Repeat("b", 11) + "\n" + strings.Repeat("c", 10), want: "aaaaaaaaaa|(too long)|cccccccccc"},
		{in: strings.Repeat("d", 11), want: "(too long)"},
		{in: "\n\nx\n", want: "||x"},
		{in: "", want: ""},
	} {
		rd := NewReader(strings.NewReader(tc.in), WithMaxLine(10))
		var got []string
		for {
			line, err := rd.ReadLine()
			if errors.Is(err, io.EOF) {
				break
			}
			if errors.Is(err, ErrLineTooLong) {
				got = append(got, "(too long)")
				if err.Error() != "line longer than 10 bytes" {
					t.Errorf("error %q", err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(line))
		}
		if strings.Join(got, "|") != tc.want || rd.Line() != len(got) {
			t.Errorf("%q: lines %q (line %d), want %q", tc.in, got, rd.Line(), tc.want)
		}
	}
}

// A line longer than the reader's buffer is read whole.
func TestReadLineLongerThanBuffer(t *testing.T) {
	long := strings.Repeat("z", 200<<10)
	rd := NewReader(strings.NewReader(long + "\nnext\n"))
	line, err := rd.ReadLine()
	if err != nil || string(line) != long {
		t.Fatalf("got %d bytes, %v", len(line), err)
	}
	if line, err := rd.ReadLine(); err != nil || string(line) != "next" || rd.Line() != 2 {
		t.Errorf("next = %q, %v, line %d", line, err, rd.Line())
	}
}

// TestConfirmationRecordReadsBack: a person's answer is read back as
// written, not masked (its key is not a credential's name), and the
// parameters the person was shown keep their masking.
func TestConfirmationRecordReadsBack(t *testing.T) {
	var out tooltest.Buffer
	l := newTestLogger(t, WithStdout(&out), WithClock(func() time.Time { return testTime }))
	r := sampleRecord()
	r.Kind, r.Front, r.Result = KindConfirmation, "mcp", "decline"
	r.Detail = map[string]any{"response": "decline", "waited_ms": 1200}
	if err := l.Write(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	e, err := NewReader(bytes.NewReader(out.Bytes())).Read()
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindConfirmation || e.DecisionID != "dec-1" || e.Front != "mcp" || e.Detail["response"] != "decline" || e.Detail["waited_ms"] != 1200.0 {
		t.Errorf("confirmation = %+v", e)
	}
	pw := e.Params["body"].(map[string]any)["credentials"].(map[string]any)["password"].(map[string]any)["value"]
	if s, _ := pw.(string); !strings.HasPrefix(s, "hmac-sha256:") {
		t.Errorf("password read back as %v, want it masked", pw)
	}
}
