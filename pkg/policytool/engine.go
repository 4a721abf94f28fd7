package policytool

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// newEngine loads a policy directory, or the embedded policies when dir is
// empty, without watching it. The engine's error log goes to w, the first
// few records only: a broken candidate policy fails every decision alike.
func newEngine(ctx context.Context, dir string, w io.Writer) (*decision.Engine, error) {
	opts := []decision.Option{
		decision.WithWatch(false),
		decision.WithLogger(slog.New(&firstN{h: slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}), left: 3, n: new(atomic.Int64)})),
	}
	if dir != "" {
		opts = append(opts, decision.WithPolicyDir(dir))
	}
	e, err := decision.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	return e, nil
}

// firstN passes on the first records and drops the rest.
type firstN struct {
	h    slog.Handler
	left int64
	n    *atomic.Int64 // shared with the handlers derived from this one
}

func (f *firstN) Enabled(ctx context.Context, l slog.Level) bool { return f.h.Enabled(ctx, l) }

func (f *firstN) Handle(ctx context.Context, r slog.Record) error {
	if f.n.Add(1) > f.left {
		return nil
	}
	return f.h.Handle(ctx, r)
}

func (f *firstN) WithAttrs(as []slog.Attr) slog.Handler {
	return &firstN{h: f.h.WithAttrs(as), left: f.left, n: f.n}
}

func (f *firstN) WithGroup(name string) slog.Handler {
	return &firstN{h: f.h.WithGroup(name), left: f.left, n: f.n}
}
