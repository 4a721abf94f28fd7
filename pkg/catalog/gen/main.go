package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	root := flag.String("root", ".", "the repository root to write into")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("%s does not look like the repository root: %w", root, err)
	}
	files, err := render()
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, f := range files {
		name := filepath.Join(root, filepath.FromSlash(f.Path))
		keep[name] = true
		if err := writeIfChanged(name, f.Content); err != nil {
			return err
		}
	}
	return removeStale(filepath.Join(root, filepath.FromSlash(typedProtoDir)), keep)
}

// writeIfChanged leaves unchanged files alone, so that their modification
// times do not make later build steps think they changed.
func writeIfChanged(name string, content []byte) error {
	old, err := os.ReadFile(name)
	if err == nil && bytes.Equal(old, content) {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", name, err)
	}
	if err := os.WriteFile(name, content, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// removeStale deletes the .proto files of areas that are no longer in the
// catalog, with the Go code buf generated from them (buf generate only adds
// and overwrites). Hand-written files in the directory are left alone.
func removeStale(dir string, keep map[string]bool) error {
	protos, err := filepath.Glob(filepath.Join(dir, "*.proto"))
	if err != nil {
		return err
	}
	for _, p := range protos {
		if keep[p] {
			continue
		}
		base := strings.TrimSuffix(p, ".proto")
		for _, name := range []string{p, base + ".pb.go", base + "_grpc.pb.go"} {
			if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove stale %s: %w", name, err)
			}
		}
	}
	return nil
}
