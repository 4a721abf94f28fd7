package audit

import (
	"io"
	"log/slog"
	"time"
)

type sinkSpec struct {
	stdout     io.Writer
	path       string
	maxBytes   int64
	maxBackups int
}

type options struct {
	sinks        []sinkSpec
	key          []byte
	randomKey    bool
	writeTimeout time.Duration
	failOpen     bool
	now          func() time.Time
	log          *slog.Logger
	queueLen     int
	observe      func(sink string, written bool)

	spool         bool
	spoolPath     string
	spoolMaxBytes int64
	spoolRetry    time.Duration
	// checkpointEvery is the checkpoint interval; 0: no checkpoints.
	checkpointEvery time.Duration
	observeSeal     func(Checkpoint)
}

var defaultOptions = options{
	writeTimeout: time.Second,
	now:          time.Now,
	log:          slog.New(slog.DiscardHandler),
	// Enough to absorb a burst while a sink is slow, small enough that a
	// stuck sink holds at most a few MiB of records.
	queueLen: 4096,
}

// Option configures a Logger.
type Option func(*options)

// WithStdout adds a sink that writes records to w, typically os.Stdout for
// the cluster's log pipeline. Only the sink's own goroutine writes to w, so
// w need not be safe for concurrent use. The Logger never closes w.
func WithStdout(w io.Writer) Option {
	return func(o *options) { o.sinks = append(o.sinks, sinkSpec{stdout: w}) }
}

// WithFile adds a sink that appends records to the file at path, rotating it
// when it would grow past maxBytes (0: never) and keeping maxBackups rotated
// files (path.1 newest). An existing file is continued: its last record
// anchors the chain.
func WithFile(path string, maxBytes int64, maxBackups int) Option {
	return func(o *options) {
		o.sinks = append(o.sinks, sinkSpec{path: path, maxBytes: maxBytes, maxBackups: maxBackups})
	}
}

// WithHMACKey sets the per-deployment key that masks credential values. It
// must be the same across replicas and restarts for masked values to be
// comparable, and at least 16 bytes (32 random bytes recommended).
func WithHMACKey(key []byte) Option {
	return func(o *options) { o.key = append([]byte(nil), key...) }
}

// WithRandomHMACKey allows a random key chosen at start when no key is set:
// masked values are then only comparable within one process (dev mode).
func WithRandomHMACKey() Option { return func(o *options) { o.randomKey = true } }

// WithWriteTimeout bounds how long Write waits for a sink to take a record
// (default 1s); a sink whose write lasts longer is stuck and unhealthy, and
// Write stops waiting for it until the write returns.
func WithWriteTimeout(d time.Duration) Option { return func(o *options) { o.writeTimeout = d } }

// WithFailOpen makes Write return nil when no sink could take a record.
// The default, fail-closed, lets the gateway refuse calls it cannot record.
func WithFailOpen(failOpen bool) Option { return func(o *options) { o.failOpen = failOpen } }

// WithClock replaces the clock that stamps records without a Time, for tests.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets where sink failures and recoveries are logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithObserver is told each sink's outcome for each record (sink name, and
// whether the sink wrote it), for metrics. It runs on the sink's writer and
// must be quick.
func WithObserver(f func(sink string, written bool)) Option {
	return func(o *options) { o.observe = f }
}

// WithCheckpointInterval makes each sink write a sealed checkpoint of its
// chain head every d, idle or not, when it starts, and at Close; 0 (the default) writes none. With checkpoints, `audit verify
// --max-age` can tell a cut tail from the file alone. The seal is an HMAC
// under a key derived from the HMAC key (WithHMACKey), so only a holder of
// that key can forge one. See docs/audit.md, "Sealed tail".
func WithCheckpointInterval(d time.Duration) Option {
	return func(o *options) { o.checkpointEvery = d }
}

// WithCheckpointObserver is told of each checkpoint a sink has written, so
// that its head can be exported (a metric, a span event) and later given to
// `audit verify --head`. It runs on the sink's writer and must be quick.
func WithCheckpointObserver(f func(Checkpoint)) Option {
	return func(o *options) { o.observeSeal = f }
}
