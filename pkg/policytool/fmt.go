package policytool

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
)

// FmtOptions are what Fmt formats: the flags of `sidecar policy fmt`.
type FmtOptions struct {
	// Paths are Rego files, or directories standing for every .rego file
	// under them.
	Paths []string
	// Write rewrites the files whose formatting differs; List lists them.
	// Without either the formatted source is printed.
	Write, List bool
	// Fail makes a difference a failure (ExitFail).
	Fail bool
}

// Fmt formats Rego files (Rego v1) with OPA's formatter. The error is an
// *ExitCodeError: ExitFail when a file's formatting differs and Fail is
// set, ExitError when a file does not parse or cannot be read.
func Fmt(ctx context.Context, o FmtOptions, stdout, stderr io.Writer) error {
	if len(o.Paths) == 0 {
		return badf("policy fmt: no path given")
	}
	files, err := regoFiles(o.Paths)
	if err != nil {
		return bad(fmt.Errorf("policy fmt: %w", err))
	}
	var broken, differ int
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return bad(err)
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return bad(fmt.Errorf("policy fmt: %w", err))
		}
		out, err := format.SourceWithOpts(name, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			for _, p := range problemsOf(err, name) {
				fmt.Fprintln(stderr, p)
			}
			broken++
			continue
		}
		same := bytes.Equal(out, src)
		if !same {
			differ++
		}
		if o.List && !same {
			fmt.Fprintln(stdout, name)
		}
		if o.Write && !same {
			if err := rewrite(name, out); err != nil {
				return bad(fmt.Errorf("policy fmt: %w", err))
			}
		}
		if !o.List && !o.Write {
			if _, err := stdout.Write(out); err != nil {
				return bad(err)
			}
		}
	}
	switch {
	case broken > 0:
		return badf("policy fmt: %d file(s) do not parse", broken)
	case o.Fail && differ > 0:
		return &ExitCodeError{Code: ExitFail, Err: fmt.Errorf("policy fmt: %d file(s) not formatted", differ)}
	}
	return nil
}

// regoFiles expands the paths: a directory is every .rego file under it
// (names starting with "." skipped), a file is itself.
func regoFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if name != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && d.Type().IsRegular() && strings.HasSuffix(name, ".rego") {
				files = append(files, name)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// rewrite replaces a file's content through a temporary file and a rename,
// so that a reader (the sidecar watching the directory) never sees half a
// file. The mode is kept.
func rewrite(name string, content []byte) error {
	fi, err := os.Stat(name)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
