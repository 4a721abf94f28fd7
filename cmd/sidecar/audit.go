package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bollard-dev/bollard/pkg/audit"
)

const auditVerifyUsage = `usage: sidecar audit verify [--key-file PATH] [--head SEQ:HASH] [--max-age D] [--in-flight D] FILE...

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

// auditCmd is `sidecar audit verify FILE...`; verify is its only command.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: sidecar audit verify FILE...")
	}
	return auditVerify(ctx, args[1:], stdout, stderr)
}

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, auditVerifyUsage) }
	var vf verifyFlags
	vf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return audit.ErrNoFiles
	}
	opts, err := vf.options()
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	return audit.VerifyFiles(ctx, fs.Args(), opts, stdout)
}

// verifyFlags are audit verify's flags, read into audit.VerifyOptions.
type verifyFlags struct {
	keyFile, head, now string
	maxAge, inFlight   time.Duration
}

func (f *verifyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.keyFile, "key-file", "", "the audit HMAC key file: check every checkpoint's MAC")
	fs.StringVar(&f.head, "head", "", "SEQ:HASH: a head the sidecar exported; the files must reach it")
	fs.DurationVar(&f.maxAge, "max-age", 0, "the last checkpoint must be younger than this")
	fs.StringVar(&f.now, "now", "", "RFC 3339 time --max-age is measured from (default: now)")
	fs.DurationVar(&f.inFlight, "in-flight", audit.DefaultInFlight, "an unpaired intent this recent is a call in flight")
}

func (f *verifyFlags) options() (audit.VerifyOptions, error) {
	o := audit.VerifyOptions{InFlight: f.inFlight}
	if f.keyFile != "" {
		content, err := os.ReadFile(f.keyFile)
		if err != nil {
			return o, fmt.Errorf("read --key-file: %w", err)
		}
		if o.Key, err = audit.ParseKey(content); err != nil {
			return o, fmt.Errorf("--key-file: %w", err)
		}
	}
	if f.head != "" {
		var err error
		if o.HeadSeq, o.HeadHash, err = audit.ParseHead(f.head); err != nil {
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
