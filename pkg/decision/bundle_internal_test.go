package decision

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
	"time"
)

func tarGz(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, b := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCheckArchive: a bundle that unpacks beyond the limit is refused
// before OPA's reader sees it, however well it compresses.
func TestCheckArchive(t *testing.T) {
	zeros := bytes.Repeat([]byte{0}, 1<<20)
	bomb := tarGz(t, map[string][]byte{"a.json": zeros, "b.json": zeros})
	if len(bomb) > 1<<16 {
		t.Fatalf("the test bomb is %d bytes", len(bomb))
	}
	tests := []struct {
		name  string
		raw   []byte
		limit int64
		match string
	}{
		{"within", bomb, 2 << 20, ""},
		{"beyond", bomb, 2<<20 - 1, "exceed"},
		{"not gzip", []byte("plain"), 1 << 20, "gzip"},
		{"truncated", bomb[:len(bomb)/2], 4 << 20, "not a gzipped tar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkArchive(tt.raw, tt.limit)
			if tt.match == "" && err != nil || tt.match != "" && (err == nil || !strings.Contains(err.Error(), tt.match)) {
				t.Errorf("checkArchive = %v, want %q", err, tt.match)
			}
		})
	}
}

func TestJitter(t *testing.T) {
	for range 1000 {
		if d := jitter(time.Minute); d < 54*time.Second || d >= 66*time.Second {
			t.Fatalf("jitter(1m) = %v, want within 10%%", d)
		}
	}
	if d := jitter(1); d != 1 {
		t.Errorf("jitter(1ns) = %v", d)
	}
}

// TestSameHostRedirectKeepsHTTPS: a redirect on the same host from https
// to plain http would carry the bundle credential in cleartext.
func TestSameHostRedirectKeepsHTTPS(t *testing.T) {
	req := func(raw string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for next, ok := range map[string]bool{
		"https://bundles.example.com/v2.tar.gz": true,
		"http://bundles.example.com/v2.tar.gz":  false,
		"https://elsewhere.example.com/b":       false,
	} {
		err := sameHostRedirect(req(next), []*http.Request{req("https://bundles.example.com/b.tar.gz")})
		if (err == nil) != ok {
			t.Errorf("redirect to %s: err = %v, want ok=%v", next, err, ok)
		}
	}
	if err := sameHostRedirect(req("http://127.0.0.1:8888/v2"), []*http.Request{req("http://127.0.0.1:8888/b")}); err != nil {
		t.Errorf("redirect on a loopback server refused: %v", err)
	}
}
