package decision

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/open-policy-agent/opa/v1/ast"
)

// source is where the policy comes from: a file system (the embedded
// policies or a directory), a bundle file or a bundle server. Reads are
// serialized by Engine.Reload, so a source may keep state between reads
// without locking.
type source interface {
	// read returns the source's current content; an error means the
	// source could not be read at all.
	read(ctx context.Context) (snapshot, error)
	// describe names the source in logs and Status, without credentials.
	describe() string
}

// snapshot is the content of a source at one read.
type snapshot struct {
	// digest identifies the content: equal digests, equal policies. The
	// engine compiles a snapshot only when its digest is new.
	digest string
	// parse checks and parses the content (for a bundle, this is where its
	// signature is verified).
	parse func() (parsed, error)
}

// parsed is a snapshot's policy, ready to compile.
type parsed struct {
	modules map[string]*ast.Module
	data    ast.Object
	// revision is what decisions report: the bundle's manifest revision or a
	// content hash.
	revision string
	files    int // for the log
}

// fsSource is a file system of .rego and .json files, read whole at every
// reload; its revision is the content hash.
type fsSource struct {
	fsys fs.FS
	name string
}

func (s fsSource) describe() string { return s.name }

func (s fsSource) read(context.Context) (snapshot, error) {
	files, err := readSource(s.fsys, false)
	if err != nil {
		return snapshot{}, err
	}
	rev := revisionOf(files)
	return snapshot{digest: rev, parse: func() (parsed, error) {
		modules, data, err := parseFiles(files)
		if err != nil {
			return parsed{}, fmt.Errorf("revision %s: %w", rev, err)
		}
		return parsed{modules: modules, data: data, revision: rev, files: len(files)}, nil
	}}, nil
}
