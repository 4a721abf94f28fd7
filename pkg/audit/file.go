package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
)

// fileMode keeps records to the sidecar's user: they hold personal data
// even with credentials masked.
const fileMode = 0o600

// fileDest appends to a file and rotates it by size: path.1 is the newest
// backup, path.N the oldest, and renaming onto path.N drops the one before.
type fileDest struct {
	path       string
	maxBytes   int64
	maxBackups int
	f          *os.File
	size       int64
	// limit is the size that triggers rotation: maxBytes, or more after a
	// failed rotation so that a broken rename is not retried on every write.
	limit int64
	log   *slog.Logger
}

func openFileDest(spec sinkSpec, log *slog.Logger) (*fileDest, error) {
	f, err := os.OpenFile(spec.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open audit file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open audit file: %w", err)
	}
	return &fileDest{path: spec.path, maxBytes: spec.maxBytes, maxBackups: spec.maxBackups,
		f: f, size: st.Size(), limit: spec.maxBytes, log: log}, nil
}

func (d *fileDest) Write(p []byte) (int, error) {
	n, err := d.f.Write(p)
	d.size += int64(n)
	return n, err
}

func (d *fileDest) full(pending, next int) bool {
	used := d.size + int64(pending)
	return d.maxBytes > 0 && used > 0 && used+int64(next) > d.limit
}

func (d *fileDest) backup(i int) string { return d.path + "." + strconv.Itoa(i) }

func (d *fileDest) rotate() error {
	d.limit = d.size + d.maxBytes // until this rotation succeeds
	for i := d.maxBackups - 1; i >= 1; i-- {
		if err := os.Rename(d.backup(i), d.backup(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate audit file: %w", err)
		}
	}
	// The rotated file is complete: make it durable once, rather than
	// syncing every record.
	if err := d.f.Sync(); err != nil {
		d.log.Warn("audit file sync failed", "error", err)
	}
	if err := os.Rename(d.path, d.backup(1)); err != nil {
		return fmt.Errorf("rotate audit file: %w", err)
	}
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		// Keep appending to the file we have, under its own name again.
		if rerr := os.Rename(d.backup(1), d.path); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return fmt.Errorf("rotate audit file: %w", err)
	}
	if err := d.f.Close(); err != nil {
		d.log.Warn("close rotated audit file", "error", err)
	}
	d.f, d.size, d.limit = f, 0, d.maxBytes
	return nil
}

// repair truncates a torn line away: with O_APPEND the next write lands at
// the new end.
func (d *fileDest) repair(torn int) bool {
	if err := d.f.Truncate(d.size - int64(torn)); err != nil {
		return false
	}
	d.size -= int64(torn)
	return true
}

func (d *fileDest) close() error {
	serr := d.f.Sync()
	if err := d.f.Close(); err != nil {
		return fmt.Errorf("close audit file: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("sync audit file: %w", serr)
	}
	return nil
}

// maxTail bounds how far back resume looks for the last record.
const maxTail = 64 << 20

// resume continues the chain of an existing file, or of its newest backup
// when a rotation left the file empty, so that a restart does not start a
// new chain. A torn last line (a crash mid-write) stays for Verify to
// report; the next record goes on a fresh line after it.
func (s *sink) resume(d *fileDest) {
	for _, path := range []string{d.path, d.backup(1)} {
		line, torn, err := lastLine(path)
		if path == d.path && torn {
			s.needNewline = true
			s.log.Warn("audit file ends in a torn record, left for verify to report", "path", path)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist) || err == nil && line == nil:
			continue // no whole record there
		case err != nil:
			s.log.Error("audit file unreadable; starting a new chain", "path", path, "error", err)
			return
		}
		lk, err := parseLink(line)
		if err != nil {
			s.log.Error("audit file ends in a bad record; starting a new chain", "path", path, "error", err)
			return
		}
		s.seq = lk.seq
		copy(s.prev[:], lk.hash)
		return
	}
}

// lastLine returns the last complete line of a file (without its newline)
// and whether bytes follow it that do not end in a newline.
func lastLine(path string) (line []byte, torn bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	size := st.Size()
	for window := int64(64 << 10); ; window *= 2 {
		off := max(0, size-window)
		buf := make([]byte, size-off)
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, false, err
		}
		end := len(buf)
		if end > 0 && buf[end-1] != '\n' {
			torn = true
			end = bytes.LastIndexByte(buf, '\n') + 1
		}
		if end > 0 {
			start := bytes.LastIndexByte(buf[:end-1], '\n') + 1
			if start > 0 || off == 0 {
				return buf[start : end-1], torn, nil
			}
		} else if off == 0 {
			return nil, torn, nil
		}
		if window >= maxTail {
			return nil, torn, fmt.Errorf("last record of %s is longer than %d bytes", path, maxTail)
		}
	}
}
