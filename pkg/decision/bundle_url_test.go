package decision_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// text is everything the recorder saw, for checking that a secret never
// reached the log.
func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, rec := range r.records {
		b.WriteString(rec.Message)
		rec.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Any())
			return true
		})
		b.WriteByte('\n')
	}
	return b.String()
}

func TestBundleURL(t *testing.T) {
	srv := newBundleServer(t, flagBundle("v1", true).build(t))
	e, rec := newEngine(t, decision.WithBundleURL(srv.URL+"/bundles/bollard.tar.gz?token=s3cret", decision.BundleOptions{}),
		decision.WithWatch(false))
	if e.Revision() != "v1" || !allowed(t, e) {
		t.Fatalf("revision %s, allowed %v", e.Revision(), allowed(t, e))
	}
	st := e.Status()
	if st.Source != "bundle "+srv.URL+"/bundles/bollard.tar.gz" || st.Revision != "v1" || st.LastFetch.IsZero() || st.LastError != nil {
		t.Errorf("Status = %+v", st)
	}

	// Not modified: the server is asked with the ETag and answers 304.
	if err := e.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	reqs, served := srv.stats()
	if len(reqs) != 2 || served != 1 {
		t.Fatalf("%d requests, %d bundles served; want 2 and 1", len(reqs), served)
	}
	if got := reqs[1].Header.Get("If-None-Match"); got == "" || got != srv.etag {
		t.Errorf("If-None-Match = %q, want the ETag %q", got, srv.etag)
	}
	if reqs[0].Header.Get("If-None-Match") != "" {
		t.Error("the first request sent an ETag")
	}
	st2 := e.Status()
	if st2.LoadedAt != st.LoadedAt || !st2.LastFetch.After(st.LastFetch) || st2.Revision != "v1" {
		t.Errorf("after a 304: Status = %+v, before %+v", st2, st)
	}

	// A new bundle is downloaded and activated.
	srv.set(flagBundle("v2", false).build(t))
	if err := e.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if e.Revision() != "v2" || allowed(t, e) {
		t.Errorf("revision %s, allowed %v; want v2 denying", e.Revision(), allowed(t, e))
	}
	if n := strings.Count(rec.text(), "policy loaded"); n != 2 {
		t.Errorf("%d policy loaded lines, want 2", n)
	}
	if strings.Contains(rec.text(), "s3cret") {
		t.Error("the URL's query reached the log")
	}
}

// TestBundleURLPolling: the engine polls on its own, picks up a new
// revision, refuses a badly signed one while the previous keeps deciding,
// survives the server failing, and recovers. It runs in a synctest bubble,
// the bundle server's handler called in memory (its httptest server is only
// its URL): polls come on the bubble's clock, and a minute after Close can
// pass to show that no poll follows it.
func TestBundleURLPolling(t *testing.T) {
	good, other, _ := testKeys(t)
	srv := newBundleServer(t, flagBundle("v1", true).signed(good).build(t))
	synctest.Test(t, func(t *testing.T) {
		var obs observer
		e, rec := newEngine(t, decision.WithBundleURL(srv.URL, decision.BundleOptions{
			PollInterval: 10 * time.Millisecond,
			Verification: &good.verificationOpts,
			Client:       &http.Client{Transport: handlerTransport{srv.Config.Handler}},
		}), decision.WithReloadObserver(obs.observe))

		srv.set(flagBundle("v2", false).signed(good).build(t))
		eventually(t, "v2", func() bool { return e.Revision() == "v2" })
		if allowed(t, e) {
			t.Error("v2 denies, yet the call was allowed")
		}

		srv.set(flagBundle("v3", true).signed(other).build(t))
		eventually(t, "the bad signature refused", func() bool { _, f := obs.counts(); return f == 1 })
		// Polls go on, answered 304: the refusal stands but is not counted or
		// logged again.
		reqs, _ := srv.stats()
		eventually(t, "more polls", func() bool { r, _ := srv.stats(); return len(r) >= len(reqs)+3 })
		if _, f := obs.counts(); f != 1 {
			t.Errorf("%d refusals counted for one bad bundle", f)
		}
		if n := len(rec.errors("policy rejected")); n != 1 {
			t.Errorf("%d refusals logged for one bad bundle", n)
		}
		st := e.Status()
		if st.Revision != "v2" || st.LastError == nil || !strings.Contains(st.LastError.Error(), "signature") {
			t.Errorf("Status = %+v, want v2 with a signature error", st)
		}
		if d := e.Decide(t.Context(), decision.Input{Action: action(t, "users.list")}); d.Allow || d.Revision != "v2" {
			t.Errorf("decision %+v: want v2 deciding", d)
		}

		srv.fail(http.StatusServiceUnavailable)
		eventually(t, "the failure reported", func() bool {
			err := e.Status().LastError
			return err != nil && strings.Contains(err.Error(), "503")
		})
		if e.Revision() != "v2" {
			t.Errorf("revision %s while the server fails", e.Revision())
		}
		if len(rec.errors("policy source unavailable")) == 0 {
			t.Error("the failing server was not logged")
		}

		srv.fail(0)
		srv.set(flagBundle("v4", true).signed(good).build(t))
		eventually(t, "v4", func() bool { return e.Revision() == "v4" })
		eventually(t, "the error cleared", func() bool { return e.Status().LastError == nil })
		if !allowed(t, e) {
			t.Error("v4 allows, yet the call was denied")
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		reqs, _ = srv.stats()
		time.Sleep(time.Minute) // thousands of poll intervals
		if r, _ := srv.stats(); len(r) != len(reqs) {
			t.Errorf("%d requests after Close", len(r)-len(reqs))
		}
	})
}

// handlerTransport answers requests with h in the calling goroutine, with no
// socket: inside a synctest bubble a request on a real connection would not
// let the bubble's clock move.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	ht.h.ServeHTTP(w, r)
	return w.Result(), nil
}

func TestBundleURLServerDown(t *testing.T) {
	srv := newBundleServer(t, flagBundle("v1", true).build(t))
	e, _ := newEngine(t, decision.WithBundleURL(srv.URL, decision.BundleOptions{}), decision.WithWatch(false))
	fetched := e.Status().LastFetch
	srv.Close()
	if err := e.Reload(t.Context()); err == nil {
		t.Fatal("Reload from a closed server succeeded")
	}
	if e.Revision() != "v1" || !allowed(t, e) {
		t.Errorf("revision %s, allowed %v: the previous policy should keep deciding", e.Revision(), allowed(t, e))
	}
	if st := e.Status(); st.LastError == nil || st.LastFetch != fetched {
		t.Errorf("Status = %+v", st)
	}
	// At start-up there is no previous policy: New fails.
	if _, err := decision.New(t.Context(), decision.WithBundleURL(srv.URL, decision.BundleOptions{}), decision.WithLogger(discard)); err == nil {
		t.Error("New with the server down succeeded")
	}
}

func TestBundleURLCredentials(t *testing.T) {
	raw := flagBundle("v1", true).build(t)
	t.Run("header", func(t *testing.T) {
		srv := newBundleServer(t, raw)
		_, rec := newEngine(t, decision.WithBundleURL(srv.URL, decision.BundleOptions{
			Headers: map[string]string{"Authorization": "Bearer s3cret-header"},
		}), decision.WithWatch(false))
		reqs, _ := srv.stats()
		if got := reqs[0].Header.Get("Authorization"); got != "Bearer s3cret-header" {
			t.Errorf("Authorization = %q", got)
		}
		if strings.Contains(rec.text(), "s3cret") {
			t.Error("the credential reached the log")
		}
	})
	t.Run("token file, rotated", func(t *testing.T) {
		srv := newBundleServer(t, raw)
		tok := filepath.Join(t.TempDir(), "token")
		writeFile(t, filepath.Dir(tok), "token", "s3cret-one\n")
		e, rec := newEngine(t, decision.WithBundleURL(srv.URL, decision.BundleOptions{BearerTokenFile: tok}), decision.WithWatch(false))
		writeFile(t, filepath.Dir(tok), "token", "s3cret-two")
		if err := e.Reload(t.Context()); err != nil {
			t.Fatal(err)
		}
		reqs, _ := srv.stats()
		if a, b := reqs[0].Header.Get("Authorization"), reqs[1].Header.Get("Authorization"); a != "Bearer s3cret-one" || b != "Bearer s3cret-two" {
			t.Errorf("Authorization = %q then %q", a, b)
		}
		// An unreadable token file fails the poll, not the policy.
		if err := os.Remove(tok); err != nil {
			t.Fatal(err)
		}
		if err := e.Reload(t.Context()); err == nil || e.Revision() != "v1" {
			t.Errorf("Reload without a token: %v, revision %s", err, e.Revision())
		}
		if strings.Contains(rec.text(), "s3cret") {
			t.Error("the token reached the log")
		}
	})
}

func TestBundleURLBounds(t *testing.T) {
	raw := flagBundle("v1", true).build(t)
	t.Run("size", func(t *testing.T) {
		srv := newBundleServer(t, raw)
		_, err := decision.New(t.Context(), decision.WithLogger(discard),
			decision.WithBundleURL(srv.URL, decision.BundleOptions{MaxBytes: int64(len(raw) - 1)}))
		if err == nil || !strings.Contains(err.Error(), "exceeds") {
			t.Errorf("New = %v, want the size refused", err)
		}
	})
	t.Run("size without Content-Length", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			for range 10 {
				_, _ = w.Write(raw)
				w.(http.Flusher).Flush() // chunked: no Content-Length
			}
		}))
		t.Cleanup(srv.Close)
		_, err := decision.New(t.Context(), decision.WithLogger(discard),
			decision.WithBundleURL(srv.URL, decision.BundleOptions{MaxBytes: int64(len(raw) * 2)}))
		if err == nil || !strings.Contains(err.Error(), "more than") {
			t.Errorf("New = %v, want the size refused", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv := newBundleServer(t, raw)
		srv.block = make(chan struct{})
		defer close(srv.block)
		start := time.Now()
		_, err := decision.New(t.Context(), decision.WithLogger(discard),
			decision.WithBundleURL(srv.URL, decision.BundleOptions{Timeout: 50 * time.Millisecond}))
		if err == nil || !strings.Contains(err.Error(), "deadline") || time.Since(start) > 5*time.Second {
			t.Errorf("New = %v after %v, want a timeout", err, time.Since(start))
		}
	})
	t.Run("redirect to another host", func(t *testing.T) {
		target := newBundleServer(t, raw)
		srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
		t.Cleanup(srv.Close)
		_, err := decision.New(t.Context(), decision.WithLogger(discard), decision.WithBundleURL(srv.URL, decision.BundleOptions{
			Headers: map[string]string{"X-Api-Key": "s3cret"},
		}))
		if err == nil || !strings.Contains(err.Error(), "another host") {
			t.Errorf("New = %v, want the redirect refused", err)
		}
		if reqs, _ := target.stats(); len(reqs) != 0 {
			t.Error("the redirect was followed")
		}
	})
	t.Run("not found", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(srv.Close)
		_, err := decision.New(t.Context(), decision.WithLogger(discard), decision.WithBundleURL(srv.URL, decision.BundleOptions{}))
		if err == nil || !strings.Contains(err.Error(), "404 Not Found") {
			t.Errorf("New = %v", err)
		}
	})
}

func TestBundleOptionsRejected(t *testing.T) {
	good, _, _ := testKeys(t)
	tests := []struct {
		name  string
		opts  []decision.Option
		match string
	}{
		{"empty URL", []decision.Option{decision.WithBundleURL("", decision.BundleOptions{})}, "bundle URL is empty"},
		{"not http", []decision.Option{decision.WithBundleURL("file:///etc/passwd", decision.BundleOptions{})}, "http or https"},
		{"no host", []decision.Option{decision.WithBundleURL("https:///b.tar.gz", decision.BundleOptions{})}, "no host"},
		{"negative interval", []decision.Option{decision.WithBundleURL("https://x", decision.BundleOptions{PollInterval: -1})}, "negative"},
		{"bad header", []decision.Option{decision.WithBundleURL("https://x", decision.BundleOptions{Headers: map[string]string{"X": "a\r\nb"}})}, "not a valid header"},
		{"two credentials", []decision.Option{decision.WithBundleURL("https://x", decision.BundleOptions{
			Headers: map[string]string{"authorization": "Bearer x"}, BearerTokenFile: "/t"})}, "both set"},
		{"empty bundle file", []decision.Option{decision.WithBundleFile("")}, "bundle file is empty"},
		{"verification without a bundle", []decision.Option{decision.WithBundleVerification(good.verificationOpts)}, "not a bundle"},
		{"no key id", []decision.Option{decision.WithBundleFile("/b"), decision.WithBundleVerification(decision.BundleVerification{PublicKey: good.public})}, "key id"},
		{"no key", []decision.Option{decision.WithBundleFile("/b"), decision.WithBundleVerification(decision.BundleVerification{KeyID: "k"})}, "public key is empty"},
		{"not PEM", []decision.Option{decision.WithBundleFile("/b"), decision.WithBundleVerification(decision.BundleVerification{KeyID: "k", PublicKey: "abc"})}, "not PEM"},
		{"private key", []decision.Option{decision.WithBundleFile("/b"), decision.WithBundleVerification(decision.BundleVerification{KeyID: "k", PublicKey: good.private})}, "private key"},
		{"algorithm", []decision.Option{decision.WithBundleFile("/b"), decision.WithBundleVerification(decision.BundleVerification{KeyID: "k", PublicKey: good.public, Algorithm: "none"})}, "unsupported algorithm"},
		{"missing file", []decision.Option{decision.WithBundleFile("/nonexistent/bollard.tar.gz")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := decision.New(t.Context(), append(tt.opts, decision.WithLogger(discard))...)
			if err == nil {
				_ = e.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.match) {
				t.Errorf("error %q does not mention %q", err, tt.match)
			}
		})
	}
}

// TestBundleURLPlainHTTPOffLoopbackRefused: the bearer token goes to the
// bundle server and the policy comes back from it, so plain http is taken
// only to a literal loopback IP. The on-path attacker here answers every
// connection, whatever host was asked for.
func TestBundleURLPlainHTTPOffLoopbackRefused(t *testing.T) {
	raw := flagBundle("attacker", true).build(t)
	for _, bundleURL := range []string{"http://bundles.example.com/b.tar.gz", "http://127.attacker.example/b.tar.gz", "http://localhost/b.tar.gz"} {
		t.Run(bundleURL, func(t *testing.T) {
			attacker := newBundleServer(t, raw)
			onPath := &http.Client{Transport: &http.Transport{
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					var d net.Dialer
					return d.DialContext(ctx, network, attacker.Listener.Addr().String())
				},
			}}
			_, err := decision.New(t.Context(), decision.WithLogger(discard), decision.WithWatch(false),
				decision.WithBundleURL(bundleURL, decision.BundleOptions{Client: onPath, Headers: map[string]string{"Authorization": "Bearer s3cret"}}))
			if err == nil || !strings.Contains(err.Error(), "https") {
				t.Errorf("New = %v, want plain http off loopback refused", err)
			}
			if reqs, _ := attacker.stats(); len(reqs) != 0 {
				t.Errorf("%d requests sent in cleartext", len(reqs))
			}
		})
	}
}
