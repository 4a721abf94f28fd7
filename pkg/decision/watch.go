package decision

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watch reloads the policy when files under dir change, once the directory
// has been quiet for the debounce period. With a filter, only dir itself is
// watched and only events on names the filter accepts count. It returns a
// function that stops the watcher and waits for it to finish.
func (e *Engine) watch(ctx context.Context, dir string, filter func(name string) bool) (stop func(), err error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	if filter == nil {
		err = addDirs(w, dir)
	} else {
		err = w.Add(dir)
	}
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.watchLoop(ctx, w, dir, filter)
	}()
	return func() {
		cancel()
		_ = w.Close()
		<-done
	}, nil
}

// watchFile reloads a bundle file when it changes. It watches the file's
// directory, not the file: tools replace a file by renaming another over it,
// and a Kubernetes ConfigMap update swaps the "..data" link beside it.
func (e *Engine) watchFile(ctx context.Context, file string) (stop func(), err error) {
	dir, name := filepath.Split(filepath.Clean(file))
	if dir == "" {
		dir = "."
	}
	return e.watch(ctx, dir, func(n string) bool { return n == name || strings.HasPrefix(n, "..") })
}

func (e *Engine) watchLoop(ctx context.Context, w *fsnotify.Watcher, dir string, filter func(string) bool) {
	timer := time.NewTimer(e.opts.debounce)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod || (filter != nil && !filter(filepath.Base(ev.Name))) {
				continue
			}
			timer.Reset(e.opts.debounce)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			e.log.LogAttrs(ctx, slog.LevelWarn, "policy watcher error", slog.String("dir", dir), slog.Any("error", err))
		case <-timer.C:
			// Reload logs and records its own failures.
			_ = e.Reload(ctx)
			if filter != nil {
				continue
			}
			// Directories created since the last pass need watches too.
			if err := addDirs(w, dir); err != nil {
				e.log.LogAttrs(ctx, slog.LevelWarn, "policy watcher error", slog.String("dir", dir), slog.Any("error", err))
			}
		}
	}
}

// addDirs watches dir and its subdirectories, skipping hidden ones as the
// loader does. fsnotify watches are per directory, and adding one twice is
// harmless. dir itself is watched even when hidden files in it are not
// loaded: a ConfigMap update swaps the "..data" link in dir.
func addDirs(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != dir && os.IsNotExist(err) {
				return nil // removed while walking
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		return w.Add(p)
	})
}
