package decision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

// Defaults for bundle servers.
const (
	// DefaultBundlePollInterval is how often a bundle server is asked for a
	// new bundle, as OPA's default bundle polling (min 60s).
	DefaultBundlePollInterval = 60 * time.Second
	// DefaultBundleTimeout bounds one request to the bundle server, the
	// download included.
	DefaultBundleTimeout = 30 * time.Second
)

// maxTokenBytes bounds a bearer token file.
const maxTokenBytes = 16 << 10

// BundleOptions configure WithBundleURL. The zero value polls every
// DefaultBundlePollInterval without credentials or signature verification.
type BundleOptions struct {
	// PollInterval is the time between polls. Each wait is drawn at random
	// within 10% of it, so that a fleet of sidecars started together does
	// not poll in step. DefaultBundlePollInterval when zero.
	PollInterval time.Duration
	// Timeout bounds each request, download included.
	// DefaultBundleTimeout when zero.
	Timeout time.Duration
	// MaxBytes bounds the downloaded bundle. DefaultBundleMaxBytes when zero.
	MaxBytes int64
	// Headers are sent with every request, for example Authorization.
	// They are never logged.
	Headers map[string]string
	// BearerTokenFile, when set, is read before every request and its
	// content sent as "Authorization: Bearer <token>", so that a rotated
	// token (a mounted Kubernetes secret) is picked up. It may not be
	// combined with an Authorization header in Headers.
	BearerTokenFile string
	// Client sends the requests, for example with a custom TLS
	// configuration. By default a client that follows redirects on the same
	// host only, and never from https to plain http off loopback, so that
	// headers never reach another host or travel in cleartext.
	Client *http.Client
	// Verification checks every bundle's signature, as WithBundleVerification.
	Verification *BundleVerification
}

func (o *BundleOptions) setDefaults() {
	if o.PollInterval == 0 {
		o.PollInterval = DefaultBundlePollInterval
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultBundleTimeout
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultBundleMaxBytes
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: sameHostRedirect}
	}
}

func (o *BundleOptions) validate(raw string) error {
	var errs []error
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		errs = append(errs, errors.New("bundle URL does not parse")) // the error would repeat the URL
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, errors.New("bundle URL must be http or https"))
	case u.Host == "":
		errs = append(errs, errors.New("bundle URL has no host"))
	default:
		// The credential goes out and the policy comes back: plain http
		// only to a literal loopback IP, never to a name.
		if err := loopback.CheckURL(u); err != nil {
			errs = append(errs, fmt.Errorf("bundle URL %w", err))
		}
	}
	if o.PollInterval < 0 || o.Timeout < 0 || o.MaxBytes < 0 {
		errs = append(errs, errors.New("bundle poll interval, timeout and size limit must not be negative"))
	}
	for k, v := range o.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
			errs = append(errs, fmt.Errorf("bundle header %q is not a valid header", k))
		}
		if o.BearerTokenFile != "" && strings.EqualFold(k, "Authorization") {
			errs = append(errs, errors.New("bundle Authorization header and bearer token file are both set"))
		}
	}
	return errors.Join(errs...)
}

func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if req.URL.Host != via[0].URL.Host {
		return errors.New("redirect to another host refused")
	}
	if err := loopback.CheckURL(req.URL); err != nil {
		return fmt.Errorf("bundle redirect %w", err)
	}
	return nil
}

// bundleFileSource is a bundle file on disk.
type bundleFileSource struct {
	path string
	vc   *bundle.VerificationConfig
}

func (s *bundleFileSource) describe() string { return "bundle file " + s.path }

func (s *bundleFileSource) read(context.Context) (snapshot, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return snapshot{}, err
	}
	defer f.Close()
	raw, err := readAtMost(f, DefaultBundleMaxBytes)
	if err != nil {
		return snapshot{}, fmt.Errorf("read %s: %w", s.path, err)
	}
	return bundleSnapshot(raw, s.vc), nil
}

// bundleURLSource polls a server that speaks OPA's bundle protocol: a GET
// answered with the bundle and an ETag, or 304 Not Modified when the
// If-None-Match ETag is still current.
type bundleURLSource struct {
	url  string
	name string // the URL without credentials or query
	opts BundleOptions
	vc   *bundle.VerificationConfig

	// The last bundle downloaded, accepted or not, and its ETag: a 304
	// answers with it again, and the engine knows by its digest whether it
	// is active or was refused.
	last snapshot
	etag string
}

func newBundleURLSource(raw string, opts BundleOptions, vc *bundle.VerificationConfig) *bundleURLSource {
	u, _ := url.Parse(raw) // validated
	shown := *u
	shown.User, shown.RawQuery, shown.ForceQuery, shown.Fragment = nil, "", false, ""
	return &bundleURLSource{url: raw, name: "bundle " + shown.String(), opts: opts, vc: vc}
}

func (s *bundleURLSource) describe() string { return s.name }

func (s *bundleURLSource) read(ctx context.Context) (snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return snapshot{}, errors.New("bad bundle request")
	}
	for k, v := range s.opts.Headers {
		req.Header.Set(k, v)
	}
	if s.opts.BearerTokenFile != "" {
		tok, err := readToken(s.opts.BearerTokenFile)
		if err != nil {
			return snapshot{}, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if s.last.digest != "" && s.etag != "" {
		req.Header.Set("If-None-Match", s.etag)
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		// Keep the cause, not the URL, which may carry credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return snapshot{}, fmt.Errorf("get %s: %w", s.name, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if resp.ContentLength > s.opts.MaxBytes {
			return snapshot{}, fmt.Errorf("get %s: bundle of %d bytes exceeds %d", s.name, resp.ContentLength, s.opts.MaxBytes)
		}
		raw, err := readAtMost(resp.Body, s.opts.MaxBytes)
		if err != nil {
			return snapshot{}, fmt.Errorf("get %s: %w", s.name, err)
		}
		s.last, s.etag = bundleSnapshot(raw, s.vc), resp.Header.Get("ETag")
		return s.last, nil
	case http.StatusNotModified:
		if s.last.digest == "" {
			return snapshot{}, fmt.Errorf("get %s: 304 Not Modified to a request without an ETag", s.name)
		}
		return s.last, nil
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // lets the connection be reused
		return snapshot{}, fmt.Errorf("get %s: the server answered %d %s", s.name, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
}

// readToken reads a bearer token file. Errors name the file, never the token.
func readToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("bearer token file: %w", err)
	}
	defer f.Close()
	b, err := readAtMost(f, maxTokenBytes)
	if err != nil {
		return "", fmt.Errorf("bearer token file %s: %w", path, err)
	}
	tok := string(bytes.TrimSpace(b))
	if tok == "" || strings.ContainsAny(tok, "\r\n") {
		return "", fmt.Errorf("bearer token file %s: want one non-empty line", path)
	}
	return tok, nil
}

// readAtMost reads r to the end, failing when it holds more than limit bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than %d bytes", limit)
	}
	return b, nil
}

// poll reloads the policy from its bundle server every interval, give or
// take 10%, until stopped.
func (e *Engine) poll(ctx context.Context, every time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(jitter(every))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// Reload logs and records its own failures; the previous
				// policy stays active.
				_ = e.Reload(ctx)
				t.Reset(jitter(every))
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

func jitter(d time.Duration) time.Duration {
	spread := int64(d) / 5
	if spread <= 0 {
		return d
	}
	return d - time.Duration(spread/2) + time.Duration(rand.Int64N(spread))
}
