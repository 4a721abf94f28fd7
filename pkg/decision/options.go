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
	bundleFile  string // set by WithBundleFile
	bundleURL   string // set by WithBundleURL
	bundle      BundleOptions
	verify      *BundleVerification
	watch       bool
	debounce    time.Duration
	evalTimeout time.Duration
	logger      *slog.Logger
	problems    []error
	onReload    func(ok bool)
	obligations map[string]bool // honoured besides KnownObligations
}

// knownObligation reports whether the caller honours the obligation name.
func (o *options) knownObligation(name string) bool {
	return KnownObligations[name] || o.obligations[name]
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
	if o.bundleURL != "" {
		o.bundle.setDefaults()
	}
	return &o
}

func (o *options) validate() error {
	errs := o.problems
	if o.fsys == nil && o.bundleFile == "" && o.bundleURL == "" {
		errs = append(errs, errors.New("policy source is nil"))
	}
	if o.evalTimeout <= 0 {
		errs = append(errs, errors.New("eval timeout must be positive"))
	}
	if o.debounce <= 0 {
		errs = append(errs, errors.New("reload debounce must be positive"))
	}
	if o.bundleURL != "" {
		errs = append(errs, o.bundle.validate(o.bundleURL))
	}
	if o.verify != nil && o.bundleFile == "" && o.bundleURL == "" {
		errs = append(errs, errors.New("bundle verification is set but the policy source is not a bundle"))
	}
	if _, err := o.verify.config(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// newSource makes the source that validate checked.
func (o *options) newSource() source {
	vc, _ := o.verify.config() // checked by validate
	switch {
	case o.bundleFile != "":
		return &bundleFileSource{path: o.bundleFile, vc: vc}
	case o.bundleURL != "":
		return newBundleURLSource(o.bundleURL, o.bundle, vc)
	}
	return fsSource{fsys: o.fsys, name: o.source}
}

// The policy source options (WithPolicyFS, WithPolicyDir, WithBundleFile,
// WithBundleURL) replace each other: the last one given wins.
func (o *options) clearSource() {
	o.fsys, o.source, o.dir, o.bundleFile, o.bundleURL, o.bundle = nil, "", "", "", "", BundleOptions{}
}

// WithPolicyFS loads the policy from fsys (.rego files except *_test.rego,
// and .json data files). The default is the embedded policies.FS. An fs.FS
// is not watched; call Reload to re-read it.
func WithPolicyFS(fsys fs.FS) Option {
	return func(o *options) {
		o.clearSource()
		o.fsys, o.source = fsys, "fs"
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
		o.clearSource()
		o.fsys, o.source, o.dir = os.DirFS(dir), dir, dir
	}
}

// WithBundleFile loads the policy from an OPA bundle file (a gzipped tar
// with an optional .manifest, as `opa build` writes it) and, unless
// WithWatch(false) is given, reloads it when the file changes. The bundle is
// compiled like a directory (strict Rego v1, data.bollard.authz.decision
// required, the catalog at data.bollard.catalog); its manifest's roots are
// enforced, and its revision is the manifest's revision or else a content
// hash. Signatures are checked only with WithBundleVerification.
func WithBundleFile(path string) Option {
	return func(o *options) {
		if path == "" {
			o.problems = append(o.problems, errors.New("bundle file is empty"))
			return
		}
		o.clearSource()
		o.bundleFile = path
	}
}

// WithBundleURL loads the policy from a bundle server (OPA's bundle
// service protocol: a GET answered with a bundle and its ETag, or 304 Not
// Modified) and, unless WithWatch(false) is given, polls it every
// o.PollInterval. New fails if the first download fails; later failures keep
// the previous policy active and are reported in Status. The URL must be
// https, or plain http to a literal loopback IP (see package loopback).
func WithBundleURL(url string, o BundleOptions) Option {
	return func(opts *options) {
		if url == "" {
			opts.problems = append(opts.problems, errors.New("bundle URL is empty"))
			return
		}
		opts.clearSource()
		opts.bundleURL, opts.bundle = url, o
		if o.Verification != nil {
			opts.verify = o.Verification
		}
	}
}

// WithBundleVerification requires every bundle (from WithBundleFile or
// WithBundleURL) to be signed with the key: an unsigned bundle, or one whose
// signature or file digests do not check out, is refused, and the previous
// policy stays active.
func WithBundleVerification(v BundleVerification) Option {
	return func(o *options) { o.verify = &v }
}

// WithWatch turns watching of the policy directory or bundle file, and
// polling of the bundle server, on or off (default on). A one-off check such
// as `sidecar policy check` turns it off.
func WithWatch(enabled bool) Option {
	return func(o *options) { o.watch = enabled }
}

// WithReloadDebounce sets how long the policy directory or bundle file must
// stay quiet before a change is reloaded.
func WithReloadDebounce(d time.Duration) Option {
	return func(o *options) { o.debounce = d }
}

// WithEvalTimeout bounds each evaluation; a decision that takes longer is
// denied with policy_error.
func WithEvalTimeout(d time.Duration) Option {
	return func(o *options) { o.evalTimeout = d }
}

// WithObligations adds obligations that the caller honours besides
// KnownObligations: a decision that sets one is no longer malformed. For
// embedders and tests; the sidecar honours exactly KnownObligations.
func WithObligations(names ...string) Option {
	return func(o *options) {
		if o.obligations == nil {
			o.obligations = make(map[string]bool, len(names))
		}
		for _, n := range names {
			o.obligations[n] = true
		}
	}
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithReloadObserver is told the outcome of every reload that found a change
// in the policy source or could not read it: true when a new policy became
// active, false when it was rejected or the source was unavailable. A source
// that still holds the policy rejected last time is not counted again. For
// metrics; it must be quick.
func WithReloadObserver(f func(ok bool)) Option {
	return func(o *options) { o.onReload = f }
}
