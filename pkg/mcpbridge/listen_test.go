package mcpbridge

import (
	"errors"
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	for _, tc := range []struct {
		name, stream string
		want         []string
		err          error
	}{
		{"one", "data: {\"a\":1}\n\n", []string{`{"a":1}`}, nil},
		{"crlf and no space", "data:{\"a\":1}\r\n\r\n", []string{`{"a":1}`}, nil},
		{"multi-line data joined", "data: {\"a\":\ndata: 1}\n\n", []string{"{\"a\":\n1}"}, nil},
		{"id, retry and comment ignored", ": hi\nid: 7\nretry: 100\ndata: x\n\n", []string{"x"}, nil},
		{"primer without data skipped", "id: 0\ndata:\n\nid: 1\ndata: y\n\n", []string{"y"}, nil},
		{"named message", "event: message\ndata: m\n\n", []string{"m"}, nil},
		{"other event skipped", "event: ping\ndata: p\n\ndata: q\n\n", []string{"q"}, nil},
		{"unfinished event dropped", "data: a\n\ndata: b\n", []string{"a"}, nil},
		{"too large", "data: " + strings.Repeat("x", maxEventSize) + "\n\n", nil, errEventTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := readEvents(strings.NewReader(tc.stream), func(d []byte) error {
				got = append(got, string(d))
				return nil
			})
			if !errors.Is(err, tc.err) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("events = %q, want %q", got, tc.want)
			}
		})
	}
}

// The standalone stream is the sidecar's input to the bridge: whatever it
// sends, readEvents ends without panicking and hands on only bounded data.
func FuzzReadEvents(f *testing.F) {
	for _, s := range []string{"data: {}\n\n", "event: x\ndata: a\ndata: b\n\n", ":\n\n\r\n", "data"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stream string) {
		_ = readEvents(strings.NewReader(stream), func(d []byte) error {
			if len(d) >= maxEventSize {
				t.Fatalf("event of %d bytes", len(d))
			}
			return nil
		})
	})
}
