package approvalnotify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/loopback"
)

// Format is the body's form.
type Format string

// The formats.
const (
	FormatJSON  Format = "json"  // Payload
	FormatSlack Format = "slack" // {"text": "..."}
)

// Defaults and bounds.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultMaxAttempts = 6
	DefaultQueueSize   = 1024
	DefaultWorkers     = 4
	DefaultBackoff     = time.Second
	DefaultMaxBackoff  = time.Minute
	MaxAttemptsLimit   = 20
	maxQueueSize       = 100_000
	maxWorkers         = 64
)

// Notifier posts a notification of each new pending approval of a store.
type Notifier struct {
	store *approval.Store
	// reload reads the URL again before each POST (nil: the URL is fixed);
	// urlMu guards url and where, which a reload may change.
	reload      func() (string, error)
	urlMu       sync.Mutex
	url         string // the secret webhook URL: never logged
	where       string // its scheme and host, for logs
	format      Format
	console     string // base URL of the approvers' console; empty: no link
	timeout     time.Duration
	maxAttempts int
	backoff     time.Duration
	maxBackoff  time.Duration
	workers     int
	queueSize   int
	userAgent   string
	client      *http.Client
	log         *slog.Logger

	queue  chan string // approval ids
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	sent, failed, abandoned, dropped atomic.Uint64
}

// Option configures a Notifier.
type Option func(*Notifier)

// WithFormat chooses the body (default FormatJSON).
func WithFormat(f Format) Option { return func(n *Notifier) { n.format = f } }

// WithConsoleURL is the approvers' console: each notification links to
// BASE/approvals/ID. Without it, no link is sent.
func WithConsoleURL(base string) Option { return func(n *Notifier) { n.console = base } }

// WithURLReload reads the webhook URL again before each POST, so that a
// rotated one (a Secret replaced once the old URL was revoked) is used
// without a restart. A reload that fails, or gives a URL the rules refuse,
// keeps the URL in use and is logged without either URL.
func WithURLReload(f func() (string, error)) Option { return func(n *Notifier) { n.reload = f } }

// WithTimeout bounds one POST (default 5s).
func WithTimeout(d time.Duration) Option { return func(n *Notifier) { n.timeout = d } }

// WithMaxAttempts bounds the POSTs for one approval (default 6, at most 20).
func WithMaxAttempts(k int) Option { return func(n *Notifier) { n.maxAttempts = k } }

// WithBackoff sets the wait after the first failed attempt, doubled after
// each next one, and its cap (default 1s and 1m). Each wait is jittered by
// ±25%.
func WithBackoff(first, ceiling time.Duration) Option {
	return func(n *Notifier) { n.backoff, n.maxBackoff = first, ceiling }
}

// WithQueueSize bounds the notifications waiting for a worker (default
// 1024); past it, new ones are dropped and counted.
func WithQueueSize(size int) Option {
	return func(n *Notifier) { n.queueSize = size }
}

// WithWorkers sets how many notifications are delivered at once (default 4).
func WithWorkers(k int) Option { return func(n *Notifier) { n.workers = k } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(n *Notifier) { n.log = l } }

// WithUserAgent sets the User-Agent of the POSTs.
func WithUserAgent(ua string) Option { return func(n *Notifier) { n.userAgent = ua } }

// WithHTTPClient replaces the HTTP client (a custom CA, tests). Its
// redirect policy is replaced: redirects are never followed.
func WithHTTPClient(c *http.Client) Option { return func(n *Notifier) { n.client = c } }

// Stats count what became of the approvals the notifier saw.
type Stats struct {
	Sent      uint64 // the webhook answered 2xx
	Failed    uint64 // a final refusal, or every attempt failed
	Abandoned uint64 // decided or expired before it was delivered: not sent again
	Dropped   uint64 // never queued: the queue was full
}

// Stats returns the counters so far.
func (n *Notifier) Stats() Stats {
	return Stats{Sent: n.sent.Load(), Failed: n.failed.Load(), Abandoned: n.abandoned.Load(), Dropped: n.dropped.Load()}
}

// Start watches store and notifies webhookURL of each approval that is
// pending and not yet notified, those pending at the start included, until
// ctx ends or Close is called. webhookURL must be https, or http to a
// literal loopback IP; errors never repeat it.
func Start(ctx context.Context, store *approval.Store, webhookURL string, opts ...Option) (*Notifier, error) {
	n := &Notifier{store: store, url: webhookURL, format: FormatJSON, timeout: DefaultTimeout,
		maxAttempts: DefaultMaxAttempts, backoff: DefaultBackoff, maxBackoff: DefaultMaxBackoff,
		workers: DefaultWorkers, queueSize: DefaultQueueSize, userAgent: "bollard", log: slog.Default()}
	for _, o := range opts {
		o(n)
	}
	if err := n.check(); err != nil {
		return nil, err
	}
	n.queue = make(chan string, n.queueSize)
	n.client = noRedirects(n.client, n.workers)
	n.log = n.log.With("webhook", n.where)
	ctx, n.cancel = context.WithCancel(ctx)
	n.wg.Add(1 + n.workers)
	go func() { defer n.wg.Done(); n.watch(ctx) }()
	for range n.workers {
		go func() { defer n.wg.Done(); n.work(ctx) }()
	}
	return n, nil
}

// Close stops watching and delivering, cancels the POSTs in flight, and
// returns once every goroutine has ended. It may be called more than once.
func (n *Notifier) Close() {
	n.once.Do(n.cancel)
	n.wg.Wait()
}

// check reports every problem of the settings at once.
func (n *Notifier) check() error {
	var errs []error
	if n.store == nil {
		errs = append(errs, errors.New("no approval store"))
	}
	if where, err := checkWebhook(n.url); err != nil {
		errs = append(errs, err)
	} else {
		n.where = where
	}
	if n.format != FormatJSON && n.format != FormatSlack {
		errs = append(errs, fmt.Errorf("format %q: must be json or slack", n.format))
	}
	if n.console != "" {
		n.console = strings.TrimSuffix(n.console, "/")
		c, err := url.Parse(n.console)
		if err != nil || loopback.CheckURL(c) != nil || c.User != nil || c.RawQuery != "" || c.Fragment != "" {
			errs = append(errs, errors.New("console URL: must be an https base URL without credentials, query or fragment"))
		}
	}
	if n.timeout <= 0 || n.backoff <= 0 || n.maxBackoff < n.backoff {
		errs = append(errs, errors.New("timeout and back-off must be positive, the back-off's cap at least its start"))
	}
	if n.maxAttempts < 1 || n.maxAttempts > MaxAttemptsLimit {
		errs = append(errs, fmt.Errorf("max attempts: must be between 1 and %d", MaxAttemptsLimit))
	}
	if n.queueSize < 1 || n.queueSize > maxQueueSize {
		errs = append(errs, fmt.Errorf("queue size: must be between 1 and %d", maxQueueSize))
	}
	if n.workers < 1 || n.workers > maxWorkers {
		errs = append(errs, fmt.Errorf("workers: must be between 1 and %d", maxWorkers))
	}
	if n.log == nil {
		n.log = slog.Default()
	}
	if len(errs) > 0 {
		return fmt.Errorf("approval notifications: %w", errors.Join(errs...))
	}
	return nil
}

// noRedirects is c (or a new client) that never follows a redirect: the
// body, and the URL's secret, go to the configured host only.
func noRedirects(c *http.Client, workers int) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = workers
		out.Transport = t
	}
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

// watch queues every pending approval not queued before. It reads the
// store and never waits on the webhook.
func (n *Notifier) watch(ctx context.Context) {
	seen := map[string]struct{}{}
	for {
		changed := n.store.Changed() // before List: a change in between is not missed
		pending, err := n.store.List(approval.Pending)
		if err != nil {
			// A shared store that cannot be reached: try again at its next
			// change, or in a while.
			n.log.Warn("approval notifications: the approvals cannot be listed", "error", err.Error())
			select {
			case <-ctx.Done():
				return
			case <-changed:
			case <-time.After(5 * time.Second):
			}
			continue
		}
		now := make(map[string]struct{}, len(pending))
		for _, a := range pending {
			now[a.ID] = struct{}{}
			if _, ok := seen[a.ID]; ok {
				continue
			}
			seen[a.ID] = struct{}{}
			select {
			case n.queue <- a.ID:
			default:
				n.dropped.Add(1)
				n.log.Warn("approval notification dropped: the queue is full", "approval_id", a.ID, "queue", cap(n.queue))
			}
		}
		// An approval that left pending never comes back to it: forget it,
		// so that seen stays within the store's bound.
		for id := range seen {
			if _, ok := now[id]; !ok {
				delete(seen, id)
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

func (n *Notifier) work(ctx context.Context) {
	for {
		select {
		case id := <-n.queue:
			n.deliver(ctx, id)
		case <-ctx.Done():
			return
		}
	}
}

// checkWebhook checks a webhook URL and returns its scheme and host, for
// logs: https, or http to a literal loopback IP, no credentials before the
// host, no fragment. Errors never repeat the URL.
func checkWebhook(raw string) (where string, err error) {
	u, err := url.Parse(raw)
	if err == nil {
		err = loopback.CheckURL(u)
	} else {
		err = errors.New("does not parse") // url's error would repeat the URL
	}
	switch {
	case err != nil:
		return "", fmt.Errorf("webhook URL: %w", err)
	case u.User != nil || u.Fragment != "":
		return "", errors.New("webhook URL: no credentials before the host and no fragment")
	}
	return u.Scheme + "://" + u.Host, nil
}

// webhook is the URL to POST to now: read again when WithURLReload is
// set, the one in use kept when the reload fails or is refused.
func (n *Notifier) webhook(log *slog.Logger) string {
	n.urlMu.Lock()
	defer n.urlMu.Unlock()
	if n.reload == nil {
		return n.url
	}
	raw, err := n.reload()
	if err == nil && raw != n.url {
		var where string
		if where, err = checkWebhook(raw); err == nil {
			log.Info("approval notifications: the webhook URL changed", "webhook", where, "was", n.where)
			n.url, n.where = raw, where
		}
	}
	if err != nil {
		log.Error("approval notifications: the webhook URL could not be read again; the one in use stays", "error", err)
	}
	return n.url
}
