package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

var testTime = time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.UTC)

// sampleRecord is a users.update with a password and a recovery answer, the
// kind of call whose record must not hold credentials.
func sampleRecord() *Record {
	return &Record{
		Time: testTime, DecisionID: "dec-1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736",
		AgentID: "onboarding-bot", AuthMethod: "jwt",
		Action: "users.update", Area: "users", Access: "manage",
		Resource: map[string]string{"userId": "00u1abcd"},
		Params: map[string]any{
			"userId": "00u1abcd",
			"strict": true,
			"body": map[string]any{
				"profile": map[string]any{"firstName": "Ada", "mobilePhone": "+44 7700 900000"},
				"credentials": map[string]any{
					"password":          map[string]any{"value": "hunter2"},
					"recovery_question": map[string]any{"question": "first pet?", "answer": "Rex"},
				},
			},
		},
		Result: "ok", Obligations: map[string]any{"require_confirmation": false},
		PolicyRevision: "rev-7", OktaStatus: 200, OktaRequestID: "req-1", Latency: 1234 * time.Microsecond,
	}
}

func newTestLogger(t testing.TB, opts ...Option) *Logger {
	t.Helper()
	l, err := New(append([]Option{WithHMACKey(testKey)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(t.Context()) })
	return l
}

// blockingWriter never returns until the test ends: a stuck pipe.
type blockingWriter struct{ release chan struct{} }

func newBlockingWriter(t testing.TB) *blockingWriter {
	w := &blockingWriter{release: make(chan struct{})}
	t.Cleanup(func() { close(w.release) })
	return w
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	return 0, errors.New("released")
}

// failingWriter fails every write, like a closed pipe.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// decodeLines parses every line as a JSON object.
func decodeLines(t testing.TB, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v: %s", len(out)+1, err, sc.Bytes())
		}
		out = append(out, m)
	}
	return out
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustVerify(t testing.TB, r io.Reader, want int) {
	t.Helper()
	n, err := Verify(r)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if n != want {
		t.Fatalf("verified %d records, want %d", n, want)
	}
}
