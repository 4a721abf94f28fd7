package decision

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/bollard-dev/bollard/policies"
)

// Defaults.
const (
	// DefaultEvalTimeout bounds one evaluation. The shipped policies decide
	// in tens of microseconds; the bound is for policies that go wrong.
	DefaultEvalTimeout = 100 * time.Millisecond
	// DefaultReloadDebounce is how long a policy directory must stay quiet
	// after a change before it is reloaded: editors and Kubernetes ConfigMap
	// updates touch several files in a burst.
	DefaultReloadDebounce = 200 * time.Millisecond
)

// Option configures New.
type Option func(*options)

type options struct {
	fsys        fs.FS
	source      string // a directory, or "embedded" / "fs" for reports
	dir         string // set by WithPolicyDir: the directory to watch
	watch       bool
	debounce    time.Duration
	evalTimeout time.Duration
	logger      *slog.Logger
	problems    []error
	onReload    func(ok bool)
}

var defaultOptions = options{
	fsys:        policies.FS,
	source:      "embedded",
	watch:       true,
	debounce:    DefaultReloadDebounce,
	evalTimeout: DefaultEvalTimeout,
}

func evaluateOptions(opts []Option) *options {
	o := defaultOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return &o
}

func (o *options) validate() error {
	errs := o.problems
	if o.fsys == nil {
		errs = append(errs, errors.New("policy source is nil"))
	}
	if o.evalTimeout <= 0 {
		errs = append(errs, errors.New("eval timeout must be positive"))
	}
	if o.debounce <= 0 {
		errs = append(errs, errors.New("reload debounce must be positive"))
	}
	return errors.Join(errs...)
}

// WithPolicyFS loads the policy from fsys (.rego files except *_test.rego,
// and .json data files). The default is the embedded policies.FS. An fs.FS
// is not watched; call Reload to re-read it.
func WithPolicyFS(fsys fs.FS) Option {
	return func(o *options) {
		o.fsys, o.source, o.dir = fsys, "fs", ""
	}
}

// WithPolicyDir loads the policy from a directory on disk and, unless
// WithWatch(false) is given, reloads it when files in it change.
func WithPolicyDir(dir string) Option {
	return func(o *options) {
		if dir == "" {
			o.problems = append(o.problems, errors.New("policy directory is empty"))
			return
		}
		o.fsys, o.source, o.dir = os.DirFS(dir), dir, dir
	}
}

// WithWatch turns watching of the policy directory on or off (default on).
// A one-off check such as `bollard policy check` turns it off.
func WithWatch(enabled bool) Option {
	return func(o *options) { o.watch = enabled }
}

// WithReloadDebounce sets how long the policy directory must stay quiet
// before a change is reloaded.
func WithReloadDebounce(d time.Duration) Option {
	return func(o *options) { o.debounce = d }
}

// WithEvalTimeout bounds each evaluation; a decision that takes longer is
// denied with policy_error.
func WithEvalTimeout(d time.Duration) Option {
	return func(o *options) { o.evalTimeout = d }
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithReloadObserver is told the outcome of every reload that found a change
// in the policy source: true when the new policy became active, false when
// it was rejected. For metrics; it must be quick.
func WithReloadObserver(f func(ok bool)) Option {
	return func(o *options) { o.onReload = f }
}
