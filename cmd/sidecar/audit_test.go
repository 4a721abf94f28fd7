package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/audit"
)

// writeAuditFile writes recs to a new audit file under key, sealed with
// checkpoints when every is not 0, and returns its path and its last
// checkpoint.
func writeAuditFile(t *testing.T, key []byte, every time.Duration, recs ...*audit.Record) (string, audit.Checkpoint) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := audit.New(audit.WithHMACKey(key), audit.WithFile(path, 0, 0), audit.WithCheckpointInterval(every))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := l.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	var last audit.Checkpoint
	if cs := l.Checkpoints(); len(cs) > 0 {
		last = cs[0]
	}
	return path, last
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Each flag of `sidecar audit verify` reaches the check it names, and a bad
// value is refused before any file is read.
func TestAuditVerifyFlags(t *testing.T) {
	key := []byte("a per-deployment secret, 32 byte")
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	sealed, head := writeAuditFile(t, key, time.Minute, &audit.Record{Time: t0, Kind: audit.KindIntent, DecisionID: "d1", Action: "users.get"},
		&audit.Record{Time: t0, Kind: audit.KindOutcome, DecisionID: "d1", Action: "users.get"})
	// One outcome lost (lost-1), one call still running (5 minutes before
	// the newest record, which "in flight" is measured against: so no
	// checkpoints here).
	pairing, _ := writeAuditFile(t, key, 0,
		&audit.Record{Time: t0, Kind: audit.KindIntent, DecisionID: "lost-1", Action: "users.create"},
		&audit.Record{Time: t0.Add(time.Minute), Kind: audit.KindIntent, DecisionID: "paired", Action: "users.get"},
		&audit.Record{Time: t0.Add(2 * time.Minute), Kind: audit.KindOutcome, DecisionID: "paired", Action: "users.get"},
		&audit.Record{Time: t0.Add(20 * time.Minute), Kind: audit.KindIntent, DecisionID: "running", Action: "users.list"},
		&audit.Record{Time: t0.Add(25 * time.Minute), Kind: audit.KindIntent, DecisionID: "later", Action: "users.get"},
		&audit.Record{Time: t0.Add(25 * time.Minute), Kind: audit.KindOutcome, DecisionID: "later", Action: "users.get"})
	keyFile := writeFile(t, string(key)+"\n") // as a Secret mounts it
	otherKey := writeFile(t, "another key, 32 bytes long......")
	now := time.Now().UTC()
	for _, tc := range []struct {
		name    string
		args    []string
		wantOut string // in stdout
		wantErr string // in the error; "" for success
	}{
		{"no flags", []string{sealed}, "chain intact", ""},
		{"key file", []string{"--key-file", keyFile, sealed}, "MAC checked", ""},
		{"other key", []string{"--key-file", otherKey, sealed}, "", "the checkpoint's MAC does not match"},
		{"short key", []string{"--key-file", writeFile(t, "short"), sealed}, "", "--key-file: the key has 5 bytes, want at least 16"},
		{"missing key file", []string{"--key-file", filepath.Join(t.TempDir(), "none"), sealed}, "", "read --key-file"},
		{"head", []string{"--head", head.Head(), sealed}, "chain intact", ""},
		{"bad head", []string{"--head", "12", sealed}, "", "--head: "},
		{"head of another chain", []string{"--head", "1:" + strings.Repeat("ab", 32), sealed}, "", "seq 1 has another hash"},
		{"max age", []string{"--max-age", "1m", "--now", now.Format(time.RFC3339Nano), sealed}, "chain intact", ""},
		{"max age passed", []string{"--max-age", "1m", "--now", now.Add(time.Hour).Format(time.RFC3339), sealed}, "", "truncated record: the last checkpoint"},
		{"negative max age", []string{"--max-age", "-1m", sealed}, "", "audit verify: --max-age: negative"},
		{"bad now", []string{"--now", "yesterday", sealed}, "", "audit verify: --now: "},
		{"lost outcome", []string{pairing}, "intents: 4, outcomes: 2, in flight: 1, unpaired: 1", "lost-1"},
		{"in flight", []string{"--in-flight", "1h", pairing}, "in flight: 2, unpaired: 0", ""},
		{"none in flight", []string{"--in-flight", "0", pairing}, "in flight: 0, unpaired: 2", "2 intent(s) without an outcome"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), append([]string{"audit", "verify"}, tc.args...), &out, &errOut)
			if (tc.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q\n%s", err, tc.wantErr, out.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout = %q, want %q", out.String(), tc.wantOut)
			}
		})
	}
}

// Without a file, and on -h, the usage goes to stderr.
func TestAuditVerifyUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"audit", "verify"}, &out, &errOut)
	if !errors.Is(err, audit.ErrNoFiles) || !strings.Contains(err.Error(), "no file given") {
		t.Errorf("err = %v, want no file given", err)
	}
	if !strings.HasPrefix(errOut.String(), "usage: sidecar audit verify [--key-file PATH]") || !strings.Contains(errOut.String(), "--in-flight D") {
		t.Errorf("stderr = %q, want the usage", errOut.String())
	}
	errOut.Reset()
	if err := run(t.Context(), []string{"audit", "verify", "-h"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut.String(), "Exits non-zero") {
		t.Errorf("-h: %v, stderr %q", err, errOut.String())
	}
}
